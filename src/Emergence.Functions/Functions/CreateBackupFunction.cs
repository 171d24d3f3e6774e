using Emergence.Functions.Backups;
using Emergence.Functions.Startup;
using Emergence.Persistence.Backups;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Emergence.Functions.Functions;

/// <summary>
/// <c>POST /api/backups</c> (function key): takes a verified manual backup now, then what follows every
/// backup (<see cref="AppBackup"/>: an off-volume upload run in the background, whatever the outcome). 201 with its manifest;
/// 409 while another backup runs; 503 while startup runs or when it failed; 500 with the failed step otherwise.
/// </summary>
public sealed class CreateBackupFunction(StartupState state, AppBackup backups)
{
    /// <summary>Takes one backup without waiting for a running one.</summary>
    [Function("CreateBackup")]
    public async Task<IActionResult> Run([HttpTrigger(AuthorizationLevel.Function, "post", Route = "backups")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cancellationToken = request.HttpContext.RequestAborted;
        if (state.Result is not { } startup)
        {
            // Startup may wait minutes for the volume lock: answer now rather than hold the request.
            return JsonResponse.Error(StartupState.StartingProblem, StatusCodes.Status503ServiceUnavailable);
        }

        if (!startup.Succeeded)
        {
            return JsonResponse.Error(startup.FailureSentence!, StatusCodes.Status503ServiceUnavailable);
        }

        try
        {
            var manifest = await backups.TakeAsync(startup.Location, BackupReason.Manual, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            return JsonResponse.Create(manifest, StatusCodes.Status201Created);
        }
        catch (BackupInProgressException ex)
        {
            return JsonResponse.Error(ex.Message, StatusCodes.Status409Conflict);
        }
        catch (BackupFailedException ex)
        {
            return JsonResponse.Error(ex.Message, StatusCodes.Status500InternalServerError);
        }
    }
}
