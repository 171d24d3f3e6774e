using System.Diagnostics;
using System.Globalization;
using Emergence.Persistence.Replication;

namespace Emergence.Bench;

/// <summary>The codecs side by side on the pages the history-rate writer's level files hold.</summary>
internal static class HistoryCodecs
{
    /// <summary>The codecs side by side on the pages this run's level files hold (what the history compresses): ratio and speed.</summary>
    public static void Run(ReplicationStore store, GenerationManifest generation, Action<string> line, CultureInfo inv)
    {
        using var pages = new MemoryStream();
        foreach (var file in store.Levels(generation.Id).Where(f => f.Level == 1))
        {
            using var zstd = new ZstdSharp.DecompressionStream(File.OpenRead(file.Path));
            zstd.CopyTo(pages);
        }

        var data = pages.ToArray();
        var results = new List<string>();
        void Measure(string name, Func<byte[], byte[]> compress)
        {
            compress(data);
            var started = Stopwatch.GetTimestamp();
            var packed = compress(data);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            results.Add(string.Create(inv, $"{name} {data.Length / (double)packed.Length:0.00}× at {data.Length / seconds / (1 << 20):0} MiB/s"));
        }

        foreach (var level in new[] { 1, 3 })
        {
            Measure($"zstd {level}", b =>
            {
                using var compressor = new ZstdSharp.Compressor(level);
                return compressor.Wrap(b).ToArray();
            });
        }

        Measure("Brotli 1", b =>
        {
            var output = new byte[System.IO.Compression.BrotliEncoder.GetMaxCompressedLength(b.Length)];
            System.IO.Compression.BrotliEncoder.TryCompress(b, output, out var written, 1, 22);
            return output[..written];
        });
        Measure("Deflate fastest", b =>
        {
            using var output = new MemoryStream();
            using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                deflate.Write(b);
            }

            return output.ToArray();
        });
        line(string.Create(inv, $"The codecs on those {data.Length >> 10} KiB of level-1 pages (random rows, so little to find): {string.Join("; ", results)}."));
    }
}
