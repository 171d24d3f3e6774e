using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Emergence.Persistence.Tests.Support;

/// <summary>
/// A minimal OTLP/HTTP (protobuf) metrics receiver on loopback: answers 200 to every POST on <c>/v1/metrics</c>
/// and keeps what it decoded, with a protobuf reader of its own for the few fields the tests look at.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly ConcurrentQueue<ReceivedMetric> _received = new();
    private readonly LoopbackHttpSink _sink;

    /// <summary>One metric as received: its resource's service name, the metric's name, unit and kind, and each data point's attributes.</summary>
    public sealed record ReceivedMetric(string? ServiceName, string Name, string Unit, string Kind, IReadOnlyList<IReadOnlyDictionary<string, string>> Points);

    public OtlpReceiver()
    {
        _sink = new LoopbackHttpSink(Receive);
    }

    public int Port => _sink.Port;

    public string Endpoint => _sink.Endpoint;

    /// <summary>The paths that were posted to.</summary>
    public ConcurrentQueue<string> Paths { get; } = new();

    public IReadOnlyList<ReceivedMetric> Received => [.. _received];

    private Task Receive(HttpListenerRequest request, byte[] body, HttpListenerResponse response)
    {
        Paths.Enqueue(request.Url!.AbsolutePath);
        foreach (var metric in Decode(body))
        {
            _received.Enqueue(metric);
        }

        response.StatusCode = 200;
        response.ContentType = "application/x-protobuf";
        return Task.CompletedTask;
    }

    /// <summary>Decodes an ExportMetricsServiceRequest.</summary>
    private static IEnumerable<ReceivedMetric> Decode(byte[] request)
    {
        foreach (var resourceMetrics in Fields(request).Where(f => f.Number == 1).Select(f => f.Bytes))
        {
            string? service = null;
            foreach (var resource in Fields(resourceMetrics).Where(f => f.Number == 1))
            {
                var attributes = Attributes(resource.Bytes, 1);
                service = attributes.GetValueOrDefault("service.name");
            }

            foreach (var scope in Fields(resourceMetrics).Where(f => f.Number == 2))
            {
                foreach (var metric in Fields(scope.Bytes).Where(f => f.Number == 2))
                {
                    yield return Metric(service, metric.Bytes);
                }
            }
        }
    }

    private static ReceivedMetric Metric(string? service, byte[] bytes)
    {
        string name = "", unit = "", kind = "";
        var points = new List<IReadOnlyDictionary<string, string>>();
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 1:
                    name = Encoding.UTF8.GetString(field.Bytes);
                    break;
                case 3:
                    unit = Encoding.UTF8.GetString(field.Bytes);
                    break;
                case 5 or 7 or 9:
                    kind = field.Number switch { 5 => "gauge", 7 => "sum", _ => "histogram" };
                    points.AddRange(Fields(field.Bytes).Where(f => f.Number == 1).Select(p => Attributes(p.Bytes, field.Number == 9 ? 9 : 7)));
                    break;
            }
        }

        return new ReceivedMetric(service, name, unit, kind, points);
    }

    /// <summary>The string-valued KeyValue attributes in field <paramref name="number"/> of a message.</summary>
    private static Dictionary<string, string> Attributes(byte[] message, int number)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in Fields(message).Where(f => f.Number == number))
        {
            var key = "";
            var value = "";
            foreach (var part in Fields(keyValue.Bytes))
            {
                if (part.Number == 1)
                {
                    key = Encoding.UTF8.GetString(part.Bytes);
                }
                else if (part.Number == 2)
                {
                    value = Fields(part.Bytes).Where(v => v.Number == 1).Select(v => Encoding.UTF8.GetString(v.Bytes)).FirstOrDefault() ?? "";
                }
            }

            attributes[key] = value;
        }

        return attributes;
    }

    /// <summary>The fields of a protobuf message; only length-delimited ones carry bytes, the others are skipped over.</summary>
    private static List<(int Number, byte[] Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    Varint(message, ref position);
                    fields.Add((number, []));
                    break;
                case 1:
                    position += 8;
                    fields.Add((number, []));
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    fields.Add((number, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    fields.Add((number, []));
                    break;
                default:
                    throw new InvalidDataException($"unexpected wire type {tag & 7}");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }

    public void Dispose() => _sink.Dispose();
}
