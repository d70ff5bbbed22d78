using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>Options of the <see cref="NearestCentroidAssigner"/>.</summary>
/// <param name="Eps">Join a cluster only when its centre is within this distance (the DBSCAN eps, usually).</param>
/// <param name="FirstWithinEps">False (default): the nearest centre within eps wins. True: the first centre within
/// eps in centre-table order wins, as the article's loop does; kept to reproduce it.</param>
public sealed record NearestCentroidOptions(double Eps, bool FirstWithinEps = false)
{
    /// <summary>Throws when eps is not finite and positive (or above 2 under cosine).</summary>
    public void Validate(DistanceMetric metric) => AssignerChecks.ValidateEps(Eps, metric);
}

/// <summary>
/// The article's "nearest neighbour" method: a new item joins the cluster whose centre is within eps (the nearest
/// such centre, or the first in table order with <see cref="NearestCentroidOptions.FirstWithinEps"/>) and that
/// centre moves by a running-mean step (O(d), with a member count per cluster); otherwise the item opens a new
/// cluster with a fresh ID and is its centre. This is an approximation of re-clustering: an item inside a large
/// cluster but farther than eps from its centre opens a new cluster, and a non-convex cluster's centre may lie
/// outside it (measure both with <see cref="OnlineDiagnostics"/>).
/// </summary>
/// <remarks>
/// Batches are exact: distances of the whole chunk to the centres as they were at its start come from one
/// <see cref="Gemm"/> call; while the items are then resolved in order, centres moved or opened by earlier items of
/// the chunk are re-measured, and every decision is confirmed with exact float64 distances. A single item is
/// screened against an int8 copy of the centres (a quarter of the memory traffic of float32) with a rigorous error
/// bound, and decided the same exact way.
/// </remarks>
public sealed class NearestCentroidAssigner : IOnlineAssigner
{
    /// <summary>Uses <paramref name="tables"/> (updated in place) with <paramref name="options"/>.</summary>
    public NearestCentroidAssigner(ClusterTables tables, NearestCentroidOptions options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(tables.Metric);
        Tables = tables;
        Options = options;
    }

    /// <inheritdoc/>
    public ClusterTables Tables { get; }

    /// <summary>The options.</summary>
    public NearestCentroidOptions Options { get; }

    /// <inheritdoc/>
    public Assignment Assign(long itemId, ReadOnlySpan<float> embedding) =>
        AssignBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count;
        var metric = t.Metric;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d);
        var results = new Assignment[total];
        var norms = new double[total];
        for (int i = 0; i < total; i++) norms[i] = DistanceKernels.Norm(embeddings.Data.AsSpan(i * d, d));

        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n0 = t.ClusterCount; // centres as at the start of the chunk
            int m = Math.Min(AssignerChecks.ChunkRows(n0), total - start);
            var scores = new float[(long)m * n0];
            DistanceKernels.Scores(metric, embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)],
                t.CentresF, n0, t.CentreNorms, d, scores, m == 1 ? t.Quantized : null);
            // One item alone is screened with the int8 copy (no centre can have moved within its chunk).
            double[]? quantErr = m == 1 ? t.Quantized.Errors : null;
            var dirty = new bool[n0];
            var dirtyRows = new List<int>();
            var row = new float[n0 + m];
            for (int i = 0; i < m; i++)
            {
                int item = start + i;
                var x = embeddings.Data.AsSpan(item * d, d);
                double xn = norms[item];
                int count = t.ClusterCount;
                scores.AsSpan(i * n0, n0).CopyTo(row);
                // Centres that moved or opened since the chunk's Gemm: fresh float32 scores, same error bound.
                var cf = t.CentresF;
                var cn = t.CentreNorms;
                foreach (int j in dirtyRows) row[j] = FreshScore(metric, x, xn, cf.AsSpan(j * d, d), cn[j]);
                for (int j = n0; j < count; j++) row[j] = FreshScore(metric, x, xn, cf.AsSpan(j * d, d), cn[j]);

                float[] xa = embeddings.Data;
                int off = item * d;
                double Exact(int j) => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, t.CentreRowSpan(j), t.CentreNorm(j));
                var (nearRow, nearD) = Screening.Nearest(metric, row, count, factor, xn, cn, Exact, quantErr);
                int chosen;
                double chosenD;
                if (Options.FirstWithinEps)
                    (chosen, chosenD) = Screening.FirstWithin(metric, row, count, factor, xn, cn, eps, Exact, quantErr);
                else
                    (chosen, chosenD) = nearD <= eps ? (nearRow, nearD) : (-1, double.PositiveInfinity);

                long id = itemIds[item];
                if (chosen >= 0)
                {
                    t.JoinCluster(id, x, chosen);
                    if (chosen < n0 && !dirty[chosen]) { dirty[chosen] = true; dirtyRows.Add(chosen); }
                    results[item] = new Assignment(id, t.ClusterIdAtRow(chosen), chosenD, false, nearD);
                }
                else
                {
                    int r = t.OpenCluster(id, x);
                    results[item] = new Assignment(id, t.ClusterIdAtRow(r), 0.0, true, nearD);
                }
            }
            start += m;
            progress?.Report(new WorkProgress("nearest centroid assignment", start, total));
        }
        return results;
    }

    private static float FreshScore(DistanceMetric metric, ReadOnlySpan<float> x, double xn, ReadOnlySpan<float> c, double cn)
    {
        double dot = TensorPrimitives.Dot(x, c);
        return metric == DistanceMetric.Cosine
            ? (float)(cn == 0 ? 1.0 : 1.0 - dot / (xn * cn))
            : (float)(xn * xn + cn * cn - 2.0 * dot);
    }
}
