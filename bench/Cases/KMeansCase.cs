using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// KMeans with one restart and with scikit-learn 1.2.1's default of ten, under the anchor script's case ids
/// (<c>kmeans/k=100/n_init=1</c>, <c>kmeans/k=100/n_init=default</c>) so <c>bench compare</c> joins them.
/// One fit moves by 2-3% with the seed, so the reported <c>inertia</c> is the median over <c>--kmeans-seeds</c>
/// (bench/compare.sh runs the anchor once per seed and compares medians). The first seed is timed (median of
/// <c>--repeats</c>); the others are fitted once each for their inertia. Labels and centres of the first seed are
/// written as artifacts (<c>kmeans_n_init1_labels.npy</c>, <c>kmeans_n_init1_centers.npy</c>, named as the anchor's).
/// Options: <c>--kmeans-k 100</c>, <c>--kmeans-seeds 0-9</c> (a range or a list such as 0,1,2),
/// <c>--kmeans-n-init 1,default</c> (which of the two to run).
/// </summary>
public sealed class KMeansCase : IBenchCase
{
    /// <summary>scikit-learn 1.2.1's n_init default (from 1.4 it becomes 'auto', i.e. 1 for k-means++).</summary>
    private const int SklearnDefaultNInit = 10;

    /// <inheritdoc/>
    public string Name => "kmeans";

    /// <inheritdoc/>
    public string Description => "k-means++ and Lloyd, n_init=1 and the default 10 (median inertia over --kmeans-seeds, iterations)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["kmeans-seeds"] = "0" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int k = int.Parse(context.Option("kmeans-k", "100"), CultureInfo.InvariantCulture);
        int[] seeds = ParseSeeds(context.Option("kmeans-seeds", "0-9"));
        var wanted = context.Option("kmeans-n-init", "1,default").Split(',', StringSplitOptions.TrimEntries);
        foreach (var (tag, nInit) in new[] { ("1", 1), ("default", SklearnDefaultNInit) }.Where(t => wanted.Contains(t.Item1)))
        {
            var options = new KMeansOptions { K = k, NInit = nInit, Seed = seeds[0], Metric = DistanceMetric.Euclidean };
            // Euclidean, as scikit-learn's KMeans (the anchors) does; the library's default metric is cosine.
            var cpuStart = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            int calls = 0;
            var (result, timing) = context.Measure(() => { calls++; return KMeans.Fit(context.X, options); });
            double cpuPerFit = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds / calls;
            var inertias = new List<double> { result.Inertia };
            foreach (int seed in seeds.Skip(1))
                inertias.Add(KMeans.Fit(context.X, options with { Seed = seed }).Inertia);
            var sizes = new int[k];
            foreach (int l in result.Labels) sizes[l]++;
            string file = $"kmeans_n_init{tag}";
            context.Record($"kmeans/k={k}/n_init={tag}", Name,
                new JsonObject
                {
                    ["n_clusters"] = k, ["seed"] = seeds[0], ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode)s).ToArray()),
                    ["n_init"] = tag, ["n_init_used"] = nInit,
                },
                timing,
                new JsonObject
                {
                    ["inertia"] = Compare.Median(inertias),
                    ["inertia_by_seed"] = new JsonArray(inertias.Select(v => (JsonNode)v).ToArray()),
                    ["n_iter"] = result.Iterations,
                    ["n_init_used"] = nInit,
                    ["converged"] = result.Converged,
                    // Process CPU seconds per fit (warm-up included): steadier than wall time on a shared machine.
                    ["cpu_s_per_fit"] = Math.Round(cpuPerFit, 3),
                    ["restart_inertia_min_max"] = new JsonArray(result.RestartInertias.Min(), result.RestartInertias.Max()),
                    ["cluster_sizes_min_max"] = new JsonArray(sizes.Min(), sizes.Max()),
                },
                new JsonObject
                {
                    ["labels"] = context.SaveArtifact($"{file}_labels.npy", result.Labels),
                    ["centers"] = context.SaveArtifact($"{file}_centers.npy", result.Centres),
                });
        }
    }

    /// <summary>Parses --kmeans-seeds: "0-9" gives 0..9, "3,5,8" gives 3, 5, 8.</summary>
    /// <exception cref="ArgumentException">A part that is neither a seed nor a range, or no seed at all.</exception>
    public static int[] ParseSeeds(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var seeds = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] ends = part.Split('-');
            if (ends.Length is < 1 or > 2 || !ends.All(e => int.TryParse(e, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                throw new ArgumentException($"--kmeans-seeds '{text}': '{part}' is not a seed or a range such as 0-9.");
            int from = int.Parse(ends[0], CultureInfo.InvariantCulture), to = int.Parse(ends[^1], CultureInfo.InvariantCulture);
            if (to < from)
                throw new ArgumentException($"--kmeans-seeds '{text}': range '{part}' runs backwards.");
            for (int s = from; s <= to; s++) seeds.Add(s);
        }
        if (seeds.Count == 0)
            throw new ArgumentException($"--kmeans-seeds '{text}': no seed; expected e.g. 0-9 or 0,1,2.");
        return [.. seeds];
    }
}
