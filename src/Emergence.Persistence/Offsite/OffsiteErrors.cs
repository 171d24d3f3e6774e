using Amazon.Runtime;
using Azure;

namespace Emergence.Persistence.Offsite;

/// <summary>Request failures of either store, in one line and as <see cref="OffsiteUnavailableException"/>.</summary>
public static class OffsiteErrors
{
    /// <summary>A request failure in one line: the status and error code, the first line of the message.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception is AggregateException aggregate ? aggregate.Flatten().InnerExceptions[^1] : exception;
        var first = FirstLine(inner.Message);
        return inner switch
        {
            RequestFailedException { Status: > 0 } failed => $"HTTP {failed.Status} {failed.ErrorCode}: {first}",
            AmazonServiceException { StatusCode: > 0 } failed => $"HTTP {(int)failed.StatusCode} {failed.ErrorCode}: {first}",
            _ when inner.InnerException is { } cause && FirstLine(cause.Message) is var detail && !first.Contains(detail, StringComparison.Ordinal) => $"{first} ({detail})",
            _ => first,
        };
    }

    /// <summary>
    /// Whether <paramref name="exception"/> is a failed request (or a broken connection), not a bug or the caller's
    /// cancellation: once <paramref name="cancellationToken"/> is cancelled, whatever a request threw (a connection
    /// cut off mid-send surfaces as an I/O error or a wrapped cancellation) is the cancellation's doing.
    /// </summary>
    public static bool IsRequestFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && IsRequestFailure(exception);

    /// <summary>
    /// Whether a request's exception is one <see cref="Translate"/> turns into the store's own: a failed request, or
    /// anything but an <see cref="OperationCanceledException"/> once <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static bool Translates(Exception exception, CancellationToken cancellationToken) =>
        IsRequestFailure(exception, cancellationToken) || (cancellationToken.IsCancellationRequested && exception is not OperationCanceledException);

    /// <summary>
    /// The exception to throw for a request that failed while <paramref name="doing"/>: <see cref="OperationCanceledException"/>
    /// once <paramref name="cancellationToken"/> is cancelled, else <see cref="OffsiteUnavailableException"/>.
    /// </summary>
    public static Exception Translate(string doing, Exception exception, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? new OperationCanceledException($"Cancelled while trying to {doing}.", exception, cancellationToken)
            : Unavailable(doing, exception);

    /// <summary>Whether <paramref name="exception"/> is a failed request (or a broken connection), not a bug or the caller's cancellation.</summary>
    public static bool IsRequestFailure(Exception exception) =>
        exception is RequestFailedException or AmazonServiceException or AmazonClientException or AggregateException or HttpRequestException or TimeoutException
        || (exception is OperationCanceledException && exception.InnerException is not null)
        || (exception is IOException && exception is not FileNotFoundException && exception is not OffsiteUnavailableException);

    /// <summary>The exception for a request that failed while <paramref name="doing"/>.</summary>
    public static OffsiteUnavailableException Unavailable(string doing, Exception cause) => new($"cannot {doing}: {Describe(cause)}", cause);

    private static string FirstLine(string text)
    {
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        return (end < 0 ? line : line[..end]).ToString();
    }

    /// <summary>Runs one request, turning its failure into <see cref="OffsiteUnavailableException"/> naming what was being done, and anything it threw once <paramref name="cancellationToken"/> was cancelled into <see cref="OperationCanceledException"/>.</summary>
    public static async Task Guard(string doing, Func<Task> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (Translates(ex, cancellationToken))
        {
            throw Translate(doing, ex, cancellationToken);
        }
    }

    /// <summary>Runs one request and returns its answer, turning its failure into <see cref="OffsiteUnavailableException"/> naming what was being done, and anything it threw once <paramref name="cancellationToken"/> was cancelled into <see cref="OperationCanceledException"/>.</summary>
    public static async Task<T> Guard<T>(string doing, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (Translates(ex, cancellationToken))
        {
            throw Translate(doing, ex, cancellationToken);
        }
    }
}
