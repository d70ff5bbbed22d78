using System.Text.Json.Nodes;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

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

    /// <inheritdoc />
    public void Run(BenchContext context)
    {
        var data = Cifar100.Load(Cifar100Paths.Resolve(context), Cifar100Split.Test).Take(Cifar100Paths.Int(context, "images", 96));
        int batch = Cifar100Paths.Int(context, "batch", 32);
        string folder = ResNet18Model.DefaultFolder;

        using var prep = new InferenceSession(Path.Combine(folder, ResNet18Model.PreprocessRelativePath));
        using var net = new InferenceSession(Path.Combine(folder, ResNet18Model.ModelRelativePath));
        var shippedFirst = new List<float[]>();
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
        var (shippedRows, shippedTiming) = context.Measure(Shipped);
        double shippedRate = data.Count / shippedTiming.MedianSeconds;
        context.Record("embed-shipped-224", Name,
            new JsonObject { ["images"] = data.Count, ["size"] = 224, ["batch"] = 1, ["pipeline"] = "ResNetPreprocess.onnx + ResNet18.onnx, default SessionOptions" },
            shippedTiming, new JsonObject { ["images_per_s"] = Math.Round(shippedRate, 2), ["ms_per_image"] = Math.Round(1000 / shippedRate, 2) });

        foreach (int size in Cifar100Paths.Sizes(context))
        {
            using var embedder = new OnnxImageEmbedder(ModelPreset.ResNet18(size), new EmbedderOptions { BatchSize = batch });
            embedder.Embed(data.Take(Math.Min(batch, data.Count))); // first-run allocations out of the timing
            var (ours, timing) = context.Measure(() => embedder.Embed(data));
            double rate = data.Count / timing.MedianSeconds;
            var summary = new JsonObject
            {
                ["images_per_s"] = Math.Round(rate, 2),
                ["ms_per_image"] = Math.Round(1000 / rate, 2),
                ["speedup_vs_shipped"] = Math.Round(rate / shippedRate, 2),
            };
            if (size == 224)
            {
                // Same vectors as the shipped pipeline: largest difference relative to the largest activation.
                double maxDiff = 0, maxAbs = 0;
                for (int i = 0; i < data.Count; i++)
                    for (int j = 0; j < 512; j++)
                    {
                        maxDiff = Math.Max(maxDiff, Math.Abs(ours.Row(i)[j] - shippedRows[i][j]));
                        maxAbs = Math.Max(maxAbs, Math.Abs(shippedRows[i][j]));
                    }
                summary["max_abs_diff_vs_shipped"] = maxDiff;
                summary["max_abs_value"] = maxAbs;
            }
            context.Record($"embed-ours-{size}", Name,
                new JsonObject { ["images"] = data.Count, ["size"] = size, ["batch"] = batch, ["threads"] = Environment.ProcessorCount },
                timing, summary);
        }
    }
}
