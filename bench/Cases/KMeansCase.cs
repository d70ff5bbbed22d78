using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// KMeans with one restart and with scikit-learn 1.2.1's default of ten, under the anchor script's case ids
/// (<c>kmeans/k=100/n_init=1</c>, <c>kmeans/k=100/n_init=default</c>) so <c>bench compare</c> joins them.
/// Options: <c>--kmeans-k 100</c>, <c>--kmeans-seed 0</c>, <c>--kmeans-n-init 1,default</c> (which of the two to run).
/// </summary>
public sealed class KMeansCase : IBenchCase
{
    /// <summary>scikit-learn 1.2.1's n_init default (from 1.4 it becomes 'auto', i.e. 1 for k-means++).</summary>
    private const int SklearnDefaultNInit = 10;

    /// <inheritdoc/>
    public string Name => "kmeans";

    /// <inheritdoc/>
    public string Description => "k-means++ and Lloyd, n_init=1 and the default 10 (inertia, iterations)";

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int k = int.Parse(context.Option("kmeans-k", "100"), CultureInfo.InvariantCulture);
        int seed = int.Parse(context.Option("kmeans-seed", "0"), CultureInfo.InvariantCulture);
        var wanted = context.Option("kmeans-n-init", "1,default").Split(',', StringSplitOptions.TrimEntries);
        foreach (var (tag, nInit) in new[] { ("1", 1), ("default", SklearnDefaultNInit) }.Where(t => wanted.Contains(t.Item1)))
        {
            // Euclidean, as scikit-learn's KMeans (the anchors) does; the library's default metric is cosine.
            var options = new KMeansOptions { K = k, NInit = nInit, Seed = seed, Metric = DistanceMetric.Euclidean };
            var cpuStart = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            int calls = 0;
            var (result, timing) = context.Measure(() => { calls++; return KMeans.Fit(context.X, options); });
            double cpuPerFit = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds / calls;
            var sizes = new int[k];
            foreach (int l in result.Labels) sizes[l]++;
            context.Record($"kmeans/k={k}/n_init={tag}", Name,
                new JsonObject { ["n_clusters"] = k, ["seed"] = seed, ["n_init"] = tag, ["n_init_used"] = nInit },
                timing,
                new JsonObject
                {
                    ["inertia"] = result.Inertia,
                    ["n_iter"] = result.Iterations,
                    ["n_init_used"] = nInit,
                    ["converged"] = result.Converged,
                    // Process CPU seconds per fit (warm-up included): steadier than wall time on a shared machine.
                    ["cpu_s_per_fit"] = Math.Round(cpuPerFit, 3),
                    ["restart_inertia_min_max"] = new JsonArray(result.RestartInertias.Min(), result.RestartInertias.Max()),
                    ["cluster_sizes_min_max"] = new JsonArray(sizes.Min(), sizes.Max()),
                });
        }
    }
}
