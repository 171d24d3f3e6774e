using Emergence.Functions.Startup;
using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Emergence.Functions.Functions;

/// <summary><c>GET /api/backups</c> (function key): the backups, newest first, as <c>emergence-db list --json</c> prints them.</summary>
public sealed class ListBackupsFunction(StartupState state, DatabaseLocator locator, TimeProvider time)
{
    /// <summary>Lists the backup directory.</summary>
    [Function("ListBackups")]
    public IActionResult Run([HttpTrigger(AuthorizationLevel.Function, "get", Route = "backups")] HttpRequest request)
    {
        var location = state.Result?.Location ?? locator.Configured();
        var now = time.GetUtcNow();
        var listing = BackupListing.Of(BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, now), now);
        return JsonResponse.Create(listing, StatusCodes.Status200OK);
    }
}
