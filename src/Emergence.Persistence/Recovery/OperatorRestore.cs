using Emergence.Persistence.Backups;
using Emergence.Persistence.Database;
using Emergence.Persistence.Records;
using Emergence.Persistence.Volumes;

namespace Emergence.Persistence.Recovery;

/// <summary>
/// An operator's restore (<c>emergence-db restore</c>): now, under the volume lock (refused while the app holds it),
/// through <see cref="RestoreService"/>; or, for the next start, a backup verified now and a request the app's
/// startup performs (<see cref="RestoreRequest"/>).
/// </summary>
public sealed class OperatorRestore(RestoreService restorer, BackupVerifier verifier, TimeProvider time)
{
    /// <summary>Carries out <paramref name="order"/>. Never throws for a restore that fails; the outcome says why.</summary>
    public async Task<RestoreOrderOutcome> CarryOutAsync(DatabaseLocation location, RestoreOrder order, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(order);
        return order.OnNextStart
            ? RequestForNextStart(location, order.Target.BackupName, cancellationToken)
            : await RestoreNowAsync(location, order, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RestoreOrderOutcome> RestoreNowAsync(DatabaseLocation location, RestoreOrder order, CancellationToken cancellationToken)
    {
        VolumeLock? volumeLock;
        string? holder;
        try
        {
            volumeLock = VolumeLock.TryAcquire(location.LockPath, time, out holder);
        }
        catch (IOException ex)
        {
            return RestoreOrderOutcome.Failed($"cannot take the volume lock: {ex.Message}");
        }

        if (volumeLock is null)
        {
            return RestoreOrderOutcome.Failed($"the volume lock {location.LockPath} is held by {holder ?? "another process"} (the running app?). Stop it first, or use 'restore --on-next-start'.");
        }

        using (volumeLock)
        {
            try
            {
                var options = new RestoreOptions { Why = order.Why, Force = order.Force, Progress = order.Progress };
                var restored = await restorer.RestoreAsync(location, volumeLock, order.Target, options, order.Store, cancellationToken).ConfigureAwait(false);
                return new RestoreOrderOutcome(restored, null, restored.Skipped, null);
            }
            catch (RestoreFailedException ex)
            {
                return RestoreOrderOutcome.Failed(ex.Message);
            }
        }
    }

    /// <summary>
    /// Verifies the backup named (or the newest that verifies, for the newest point) and writes the request. A named
    /// backup that fails verification is not replaced by another.
    /// </summary>
    private RestoreOrderOutcome RequestForNextStart(DatabaseLocation location, string? backupName, CancellationToken cancellationToken)
    {
        var inventory = BackupCatalog.Scan(location.BackupDirectory, location.DatabasePath, time.GetUtcNow());
        var candidates = backupName is null ? inventory.RestoreCandidates : inventory.Backups.Where(b => b.Name == backupName).ToList();
        if (candidates.Count == 0)
        {
            return RestoreOrderOutcome.Failed(backupName is null
                ? $"there is no verified backup in {location.BackupDirectory}."
                : $"there is no backup named {backupName} in {location.BackupDirectory}.");
        }

        var passed = new List<BackupVerification>();
        foreach (var candidate in candidates)
        {
            var verification = verifier.Verify(candidate, IntegrityCheck.Quick, cancellationToken: cancellationToken);
            if (!verification.Ok)
            {
                if (backupName is not null)
                {
                    return RestoreOrderOutcome.Failed($"backup {candidate.Name} failed verification: {verification.Problem}");
                }

                passed.Add(verification);
                continue;
            }

            // The newest point, as a restore now: this backup and every replicated commit after it.
            var request = new RestoreRequest { Backup = candidate.Name, RequestedAt = time.GetUtcNow(), Latest = backupName is null };
            var path = RestoreRequest.PathFor(location.DatabaseDirectory);
            RestoreRequests.Write(location.DatabaseDirectory, request);
            return new RestoreOrderOutcome(null, new NextStartRequest(path, candidate.Name, request.RequestedAt, request.Latest), passed, null);
        }

        return RestoreOrderOutcome.Failed("no backup passed verification; nothing was requested.", passed);
    }
}
