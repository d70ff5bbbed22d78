using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// DBSCAN as anchor_bench.py's "dbscan" case: cosine on X with each eps, and euclidean on the L2-normalised rows with
/// eps_e = sqrt(2 eps) (the same neighbourhoods for unit vectors). Labels are written as artifacts
/// (<c>dbscan_{metric}_eps{eps}_labels.npy</c>, named as the anchor's) and, when the anchor's are in
/// <c>--anchor-artifacts</c>, checked against them here (border points two clusters reach are counted apart).
/// Options: <c>--dbscan-eps 0.1,0.2</c>, <c>--dbscan-min-samples 3</c>; for tuning, <c>--dbscan-block 512</c> (rows per
/// block) and <c>--dbscan-rank 128</c> (rank of the low-rank first pass; 0 runs the full blocked product only).
/// </summary>
public sealed class DbscanCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "dbscan";

    /// <inheritdoc/>
    public string Description => "DBSCAN cosine and euclidean (normalised rows, eps_e = sqrt(2 eps)); labels vs the anchor";

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        var inv = CultureInfo.InvariantCulture;
        var epsList = context.Option("dbscan-eps", "0.1,0.2")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => double.Parse(s, inv)).ToArray();
        int minSamples = int.Parse(context.Option("dbscan-min-samples", "3"), inv);
        if (context.Options.TryGetValue("dbscan-block", out var block))
            RadiusNeighbors.DefaultBlock = int.Parse(block, inv);
        if (context.Options.TryGetValue("dbscan-reorder", out var reorder))
            RadiusNeighbors.Reordering = reorder is "1" or "true";
        if (context.Options.TryGetValue("dbscan-rank", out var rank))
            RadiusNeighbors.ProjectionRank = int.Parse(rank, inv);
        var x = context.X;
        var xn = Normalised(x);
        foreach (double eps in epsList)
        {
            double epsE = Math.Sqrt(2.0 * eps);
            foreach (var (name, data, metric, e) in new[]
                     { ("cosine", x, DistanceMetric.Cosine, eps), ("euclidean", xn, DistanceMetric.Euclidean, epsE) })
            {
                var options = new DbscanOptions { Eps = e, MinSamples = minSamples, Metric = metric };
                var cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                int calls = 0;
                var (result, timing) = context.Measure(() => { calls++; return Dbscan.Fit(data, options); });
                // CPU time per call (all threads): a figure that survives a shared, busy machine better than wall time.
                double cpu = (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds / calls;
                var summary = new JsonObject
                {
                    ["clusters"] = result.ClusterCount,
                    ["noise_frac"] = Math.Round((double)result.NoiseCount / data.Count, 6),
                    ["core_points"] = result.CoreSampleIndices.Length,
                    ["cpu_s_per_run"] = Math.Round(cpu, 4),
                };
                string tag = eps.ToString("G", inv);
                string file = $"dbscan_{name}_eps{tag}_labels.npy";
                if (context.AnchorArtifact(file) is { } anchor)
                    Compare(Npy.ReadLabels(anchor), result, data, options, summary);
                context.Record($"dbscan/{name}/eps={tag}", Name,
                    new JsonObject { ["eps"] = eps, ["eps_used"] = e, ["metric"] = name, ["min_samples"] = minSamples },
                    timing, summary, new JsonObject { ["labels"] = context.SaveArtifact(file, result.Labels) });
            }
        }
    }

    /// <summary>
    /// Rows whose label differs from the anchor's; those that are border points within eps of core points of two
    /// clusters (where the order of expansion legitimately decides) are counted apart from real disagreements.
    /// </summary>
    private static void Compare(int[] anchor, DbscanResult ours, EmbeddingMatrix data, DbscanOptions options, JsonObject summary)
    {
        if (anchor.Length != ours.Labels.Length)
        {
            summary["same_labels_as_anchor"] = false;
            summary["anchor_length_mismatch"] = anchor.Length;
            return;
        }
        var differing = Enumerable.Range(0, anchor.Length).Where(i => anchor[i] != ours.Labels[i]).ToList();
        summary["same_labels_as_anchor"] = differing.Count == 0;
        summary["rows_differing"] = differing.Count;
        int border = 0;
        if (differing.Count > 0)
        {
            var graph = RadiusNeighbors.Compute(data, options.Eps, options.Metric);
            foreach (int i in differing)
            {
                if (ours.IsCore(i)) continue;
                var clusters = new HashSet<int>();
                foreach (int j in graph.Neighbors(i))
                    if (ours.IsCore(j)) clusters.Add(ours.Labels[j]);
                if (clusters.Count >= 2) border++;
            }
        }
        summary["border_points_differing"] = border;
    }

    private static EmbeddingMatrix Normalised(EmbeddingMatrix x)
    {
        var y = EmbeddingMatrix.Zeros(x.Count, x.Dimension);
        for (int i = 0; i < x.Count; i++)
        {
            var src = x.Row(i);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(src);
            System.Numerics.Tensors.TensorPrimitives.Divide(src, norm == 0 ? 1 : norm, y.Row(i));
        }
        return y;
    }
}
