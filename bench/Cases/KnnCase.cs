using System.Diagnostics;
using System.Text.Json.Nodes;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Metrics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Quality of the ResNet18 embedding: leave-one-out 10-nearest-neighbour accuracy (cosine) on the fine and coarse
/// labels of the CIFAR-100 test images, per input size. Embeddings (L2-normalised) come from / go to the cache in
/// --data (default data). Ignores X. Options: --cifar FOLDER, --data FOLDER, --sizes 224,128, --k 10, --images N (10000),
/// --resampler bicubic|bilinear|lanczos3 (bicubic; other choices get their own cache entry).
/// </summary>
public sealed class KnnCase : IBenchCase
{
    /// <inheritdoc />
    public string Name => "knn";

    /// <inheritdoc />
    public string Description => "leave-one-out k-NN accuracy (cosine) of ResNet18 embeddings on CIFAR-100 test (ignores X; --cifar, --data, --sizes, --k)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["images"] = "50", ["data"] = Path.Combine(folder, "data") };

    /// <inheritdoc />
    public void Run(BenchContext context)
    {
        var all = Cifar100.Load(Cifar100Paths.Resolve(context), Cifar100Split.Test);
        var data = all.Take(Cifar100Paths.Int(context, "images", all.Count));
        int k = Cifar100Paths.Int(context, "k", 10);
        string dataFolder = context.Option("data", "data");
        var resampler = Enum.Parse<Resampler>(context.Option("resampler", "bicubic"), ignoreCase: true);
        foreach (int size in Cifar100Paths.Sizes(context))
        {
            var preset = ModelPreset.ResNet18(size);
            if (resampler != preset.Resampler)
                preset = preset with { Resampler = resampler, Name = $"{preset.Name}-{resampler.ToString().ToLowerInvariant()}" };
            using var embedder = new OnnxImageEmbedder(preset, new EmbedderOptions { L2Normalize = true, BatchSize = 32 });
            var sw = Stopwatch.StartNew();
            int lastPercent = -1;
            var progress = new Progress<WorkProgress>(p =>
            {
                int percent = (int)(p.Fraction * 100);
                if (percent / 10 != lastPercent / 10) { lastPercent = percent; Console.Error.WriteLine($"  {preset.Name}: {p.Done}/{p.Total}"); }
            });
            var cached = EmbeddingCache.GetOrCreate(dataFolder, data, embedder, progress);
            double embedSeconds = sw.Elapsed.TotalSeconds;
            var x = cached.Set.Embeddings;
            var (neighbours, timing) = context.Measure(() => NeighbourAccuracy.NearestNeighbours(x, k));
            var fine = NeighbourAccuracy.Accuracy(neighbours, k, cached.Set.Labels);
            var coarse = NeighbourAccuracy.Accuracy(neighbours, k, cached.Set.CoarseLabels!);
            context.Record($"knn-{preset.Name}", Name,
                new JsonObject { ["images"] = data.Count, ["size"] = size, ["resampler"] = preset.Resampler.ToString(), ["k"] = k, ["metric"] = "cosine", ["leave_one_out"] = true },
                timing,
                new JsonObject
                {
                    ["fine_accuracy"] = Math.Round(fine.Accuracy, 4),
                    ["coarse_accuracy"] = Math.Round(coarse.Accuracy, 4),
                    ["fine_correct"] = fine.Correct,
                    ["coarse_correct"] = coarse.Correct,
                    ["embeddings"] = Path.Combine(cached.Folder, "X.npy"),
                    ["from_cache"] = cached.FromCache,
                    ["embed_s"] = cached.FromCache ? null : Math.Round(embedSeconds, 2),
                });
        }
    }
}
