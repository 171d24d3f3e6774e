namespace Emergence.Persistence.Configuration;

/// <summary>
/// An S3-compatible bucket as an off-volume target (a Railway Bucket, AWS S3, or any store that speaks the
/// S3 API). Off when no bucket is set.
/// </summary>
public sealed class S3TargetOptions
{
    /// <summary>The region used when none is set: <c>auto</c>, what Railway Buckets (Tigris) and most S3-compatible stores accept.</summary>
    public const string DefaultRegion = "auto";

    /// <summary>The bucket that holds the copies; it must exist (it is not created).</summary>
    public string? Bucket { get; set; }

    /// <summary>The S3 endpoint, e.g. <c>https://storage.railway.app</c>; <see langword="null"/> for AWS itself.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The region requests are signed for.</summary>
    public string Region { get; set; } = DefaultRegion;

    /// <summary>The access key id; with <see cref="SecretAccessKey"/>, or neither (then the SDK's own chain: <c>AWS_ACCESS_KEY_ID</c>, a profile, an instance role).</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>The secret access key. A secret: never logged or reported.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>Whether the bucket is addressed in the path (<c>ENDPOINT/BUCKET/KEY</c>) rather than as a host name (<c>BUCKET.ENDPOINT/KEY</c>).</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>A key prefix every object of this database is stored under (e.g. <c>app1/</c>), so one bucket can serve several databases; empty for none.</summary>
    public string Prefix { get; set; } = "";

    /// <summary>Whether the S3 target is configured.</summary>
    public bool Enabled => Bucket is not null;

    /// <summary>The bucket as health, messages and metrics name it: with its key prefix, when one is set.</summary>
    public string? Name => Bucket is null ? null : Bucket + (Prefix.Length == 0 ? "" : "/" + Prefix.TrimEnd('/'));
}
