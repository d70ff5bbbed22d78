using System.Diagnostics;
using System.Text.Json.Nodes;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Numerics;
using LabelAssignment.Service;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// The embedding service's cost: images/s and per-request latency (p50, p99) through the server (HTTP on loopback,
/// PNG, base64, JSON, the cross-request batcher) at --batch images per request with each of --clients concurrent
/// clients, next to the same embedder called in-process, in one run, with the ratio. Ignores X.
/// Options: --cifar FOLDER, --images N (400), --size 224, --batch 8, --clients 2,8.
/// </summary>
public sealed class ServiceCase : IBenchCase
{
    /// <inheritdoc />
    public string Name => "service";

    /// <inheritdoc />
    public string Description => "embedding service images/s, p50/p99 per request vs in-process (ignores X; --cifar, --images, --size, --batch, --clients)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["images"] = "16" };

    private static Timing ToTiming(List<double> times)
    {
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new Timing(median, sorted[0], sorted.Length, [.. times], null);
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    /// <inheritdoc />
    public void Run(BenchContext context) => RunAsync(context).GetAwaiter().GetResult();

    private async Task RunAsync(BenchContext context)
    {
        var data = Cifar100.Load(Cifar100Paths.Resolve(context), Cifar100Split.Test).Take(Cifar100Paths.Int(context, "images", 400));
        int size = Cifar100Paths.Int(context, "size", 224);
        int perRequest = Cifar100Paths.Int(context, "batch", 8);
        int[] clientCounts = context.Option("clients", "2,8").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        using var embedder = new OnnxImageEmbedder(ModelPreset.ResNet18(size), new EmbedderOptions { BatchSize = 32 });
        var options = new EmbeddingServiceOptions
        {
            Model = embedder.Preset.Name,
            MaxBatchSize = 32,
            MaxImagesPerRequest = Math.Max(perRequest, 1),
            MaxQueuedImages = Math.Max(256, perRequest * clientCounts.Max() * 2),
        };
        await using var server = await EmbeddingServer.StartAsync(options, model: new OnnxEmbeddingModel(embedder, ownsEmbedder: false));
        int batches = (data.Count + perRequest - 1) / perRequest;
        var slices = Enumerable.Range(0, batches)
            .Select(b => data.Select(Enumerable.Range(b * perRequest, Math.Min(perRequest, data.Count - b * perRequest)).ToArray())).ToArray();

        // One pass through the service with `clients` concurrent clients, each sending one request of `perRequest`
        // images at a time (PNG-encoded by EmbeddingClient, as the article's client does); per-request latencies kept.
        async Task<(double Seconds, List<double> Latencies, EmbeddingMatrix Vectors)> ThroughService(int clients)
        {
            using var client = new EmbeddingClient(server.BaseAddress!, new EmbeddingClientOptions { BatchSize = perRequest, MaxParallelism = 1, Normalize = false });
            var rows = new EmbeddingMatrix[batches];
            var latencies = new List<double>();
            int next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches)
                {
                    long start = Stopwatch.GetTimestamp();
                    rows[b] = await client.EmbedAsync(slices[b]);
                    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    lock (latencies) latencies.Add(ms);
                }
            })));
            double seconds = clock.Elapsed.TotalSeconds;
            var all = new float[(long)data.Count * embedder.Dimension];
            for (int b = 0; b < batches; b++) rows[b].Data.CopyTo(all, (long)b * perRequest * embedder.Dimension);
            return (seconds, latencies, new EmbeddingMatrix(all, data.Count, embedder.Dimension));
        }

        // Warm-up of both paths (JIT, ONNX Runtime's arena, connections).
        embedder.Embed(data.Take(Math.Min(32, data.Count)));
        foreach (int c in clientCounts) await ThroughService(c);

        // Interleaved rounds (in-process, then each client count) so that load from other processes hits all alike.
        var inProcessTimes = new List<double>();
        var serviceTimes = clientCounts.Select(_ => new List<double>()).ToArray();
        var serviceLatencies = clientCounts.Select(_ => new List<double>()).ToArray();
        EmbeddingMatrix? reference = null;
        var maxDiff = new double[clientCounts.Length];
        for (int round = 0; round < context.Repeats; round++)
        {
            var sw = Stopwatch.StartNew();
            reference = embedder.Embed(data);
            inProcessTimes.Add(sw.Elapsed.TotalSeconds);
            for (int k = 0; k < clientCounts.Length; k++)
            {
                var (seconds, latencies, vectors) = await ThroughService(clientCounts[k]);
                serviceTimes[k].Add(seconds);
                serviceLatencies[k].AddRange(latencies);
                for (long i = 0; i < vectors.Data.Length; i++)
                    maxDiff[k] = Math.Max(maxDiff[k], Math.Abs(vectors.Data[i] - reference.Data[i]));
            }
        }
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
        var log = context.Output == TextWriter.Null ? TextWriter.Null : Console.Error; // the warm-up prints nothing
        var inProcess = ToTiming(inProcessTimes);
        double inProcessRate = data.Count / inProcess.MedianSeconds;
        context.Record($"service/in-process/size={size}", Name,
            new JsonObject { ["images"] = data.Count, ["size"] = size, ["model_batch"] = 32 },
            inProcess, new JsonObject { ["images_per_s"] = Math.Round(inProcessRate, 2), ["loadavg"] = load });
        log.WriteLine($"[service] {data.Count} images, ResNet18-{size}, {perRequest} per request; load average {load}");
        log.WriteLine($"[service] {"path",-28} {"images/s",9} {"ratio",7} {"p50 ms",8} {"p99 ms",8}");
        log.WriteLine($"[service] {"in-process",-28} {inProcessRate,9:0.0} {1.0,7:0.00} {"",8} {"",8}");
        for (int k = 0; k < clientCounts.Length; k++)
        {
            var timing = ToTiming(serviceTimes[k]);
            double rate = data.Count / timing.MedianSeconds;
            double p50 = Percentile(serviceLatencies[k], 0.50), p99 = Percentile(serviceLatencies[k], 0.99);
            var perRound = serviceTimes[k].Zip(inProcessTimes, (s, i) => i / s).Order().ToArray();
            context.Record($"service/http/clients={clientCounts[k]}/batch={perRequest}/size={size}", Name,
                new JsonObject { ["images"] = data.Count, ["size"] = size, ["images_per_request"] = perRequest, ["clients"] = clientCounts[k], ["server_max_batch"] = options.MaxBatchSize },
                timing, new JsonObject
                {
                    ["images_per_s"] = Math.Round(rate, 2),
                    ["ratio_vs_in_process"] = Math.Round(rate / inProcessRate, 3),
                    ["ratio_per_round"] = new JsonArray(perRound.Select(r => (JsonNode)Math.Round(r, 3)).ToArray()),
                    ["p50_ms"] = Math.Round(p50, 1),
                    ["p99_ms"] = Math.Round(p99, 1),
                    ["max_abs_diff_vs_in_process"] = maxDiff[k],
                    ["loadavg"] = load,
                });
            log.WriteLine($"[service] {$"HTTP, {clientCounts[k]} clients",-28} {rate,9:0.0} {rate / inProcessRate,7:0.00} {p50,8:0.0} {p99,8:0.0}");
        }
    }
}
