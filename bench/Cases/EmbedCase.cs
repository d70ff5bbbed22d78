using System.Text.Json.Nodes;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// ResNet18 throughput on real CIFAR-100 test images: the package as shipped (its preprocessing graph, then the
/// network, batch 1, default session options) next to <see cref="OnnxImageEmbedder"/> at each size, in one run.
/// Ignores X. Options: --cifar FOLDER, --images N (96), --sizes 224,128, --batch 32.
/// </summary>
public sealed class EmbedCase : IBenchCase
{
    /// <inheritdoc />
    public string Name => "embed";

    /// <inheritdoc />
    public string Description => "ResNet18 images/s: ours per size vs the package as shipped (ignores X; --cifar, --images, --sizes, --batch)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["images"] = "8" };

    private static Timing ToTiming(List<double> times)
    {
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new Timing(median, sorted[0], sorted.Length, [.. times], null);
    }

    /// <inheritdoc />
    public void Run(BenchContext context)
    {
        var data = Cifar100.Load(Cifar100Paths.Resolve(context), Cifar100Split.Test).Take(Cifar100Paths.Int(context, "images", 96));
        int batch = Cifar100Paths.Int(context, "batch", 32);
        string folder = ResNet18Model.DefaultFolder;

        using var prep = new InferenceSession(Path.Combine(folder, ResNet18Model.PreprocessRelativePath));
        using var net = new InferenceSession(Path.Combine(folder, ResNet18Model.ModelRelativePath));
        float[][] Shipped()
        {
            var rows = new float[data.Count][];
            var planes = new float[3 * 224 * 224];
            for (int i = 0; i < data.Count; i++)
            {
                using var image = data.ToImage(i);
                image.Mutate(c => c.Resize(new ResizeOptions { Size = new Size(224, 224), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
                image.ProcessPixelRows(acc =>
                {
                    for (int y = 0; y < 224; y++)
                    {
                        var row = acc.GetRowSpan(y);
                        for (int x = 0; x < 224; x++)
                        {
                            planes[y * 224 + x] = row[x].R;
                            planes[50176 + y * 224 + x] = row[x].G;
                            planes[100352 + y * 224 + x] = row[x].B;
                        }
                    }
                });
                using var input = OrtValue.CreateTensorValueFromMemory(planes, [1, 3, 224, 224]);
                using var pre = prep.Run(new RunOptions(), ["OriginalInput"], [input], ["PreprocessedInput"]);
                using var outp = net.Run(new RunOptions(), [ResNet18Model.InputName], [pre[0]], [ResNet18Model.OutputName]);
                rows[i] = outp[0].GetTensorDataAsSpan<float>().ToArray();
            }
            return rows;
        }
        // Interleaved repeats (shipped, then each size, in turn) so that load from other processes on a shared
        // machine hits every pipeline alike; medians and ratios come from the same rounds.
        int[] sizes = Cifar100Paths.Sizes(context);
        var embedders = sizes.Select(size => new OnnxImageEmbedder(ModelPreset.ResNet18(size), new EmbedderOptions { BatchSize = batch })).ToArray();
        try
        {
            float[][] shippedRows = Shipped(); // warm-up, and the reference vectors
            foreach (var e in embedders) e.Embed(data.Take(Math.Min(batch, data.Count)));
            var shippedTimes = new List<double>();
            var oursTimes = sizes.Select(_ => new List<double>()).ToArray();
            var ours224 = default(LabelAssignment.Numerics.EmbeddingMatrix);
            var sw = new System.Diagnostics.Stopwatch();
            for (int round = 0; round < context.Repeats; round++)
            {
                sw.Restart();
                Shipped();
                shippedTimes.Add(sw.Elapsed.TotalSeconds);
                for (int s = 0; s < sizes.Length; s++)
                {
                    sw.Restart();
                    var m = embedders[s].Embed(data);
                    oursTimes[s].Add(sw.Elapsed.TotalSeconds);
                    if (sizes[s] == 224) ours224 = m;
                }
            }
            string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";
            var shippedTiming = ToTiming(shippedTimes);
            double shippedRate = data.Count / shippedTiming.MedianSeconds;
            context.Record("embed-shipped-224", Name,
                new JsonObject { ["images"] = data.Count, ["size"] = 224, ["batch"] = 1, ["pipeline"] = "ResNetPreprocess.onnx + ResNet18.onnx, default SessionOptions" },
                shippedTiming, new JsonObject { ["images_per_s"] = Math.Round(shippedRate, 2), ["ms_per_image"] = Math.Round(1000 / shippedRate, 2), ["loadavg"] = load });
            for (int s = 0; s < sizes.Length; s++)
            {
                var timing = ToTiming(oursTimes[s]);
                double rate = data.Count / timing.MedianSeconds;
                var perRound = oursTimes[s].Zip(shippedTimes, (o, sh) => sh / o).Order().ToArray();
                var summary = new JsonObject
                {
                    ["images_per_s"] = Math.Round(rate, 2),
                    ["ms_per_image"] = Math.Round(1000 / rate, 2),
                    ["speedup_vs_shipped"] = Math.Round(rate / shippedRate, 2),
                    ["speedup_per_round"] = new JsonArray(perRound.Select(r => (JsonNode)Math.Round(r, 2)).ToArray()),
                    ["loadavg"] = load,
                };
                if (sizes[s] == 224 && ours224 is not null)
                {
                    // Same vectors as the shipped pipeline: largest difference next to the largest activation.
                    double maxDiff = 0, maxAbs = 0;
                    for (int i = 0; i < data.Count; i++)
                        for (int j = 0; j < 512; j++)
                        {
                            maxDiff = Math.Max(maxDiff, Math.Abs(ours224.Row(i)[j] - shippedRows[i][j]));
                            maxAbs = Math.Max(maxAbs, Math.Abs(shippedRows[i][j]));
                        }
                    summary["max_abs_diff_vs_shipped"] = maxDiff;
                    summary["max_abs_value"] = maxAbs;
                }
                context.Record($"embed-ours-{sizes[s]}", Name,
                    new JsonObject { ["images"] = data.Count, ["size"] = sizes[s], ["batch"] = batch, ["threads"] = Environment.ProcessorCount },
                    timing, summary);
            }
        }
        finally
        {
            foreach (var e in embedders) e.Dispose();
        }
    }
}
