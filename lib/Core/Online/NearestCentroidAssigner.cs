using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>Options of the <see cref="NearestCentroidAssigner"/>, e.g. <c>new NearestCentroidOptions { Eps = 0.25 }</c>.</summary>
public sealed record NearestCentroidOptions
{
    /// <summary>Join a cluster only when its centre is within this distance (the DBSCAN eps, usually); default 0.5,
    /// <see cref="Clustering.DbscanOptions"/>' default.</summary>
    public double Eps { get; init; } = 0.5;

    /// <summary>False (default): the nearest centre within eps wins. True: the first centre within eps in
    /// centre-table order wins, as the article's loop does; kept to reproduce it.</summary>
    public bool FirstWithinEps { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Eps"/> is not a finite number &gt; 0.</summary>
    public void Validate() => AssignerChecks.ValidateEpsOption(Eps, null);

    /// <summary><see cref="Validate()"/>, and under cosine also <see cref="Eps"/> &lt;= 2 (the range of the distance).</summary>
    internal void Validate(DistanceMetric metric) => AssignerChecks.ValidateEpsOption(Eps, metric);
}

/// <summary>
/// The article's "nearest neighbour" method: a new item joins the cluster whose centre is within eps (the nearest
/// such centre, or the first in table order with <see cref="NearestCentroidOptions.FirstWithinEps"/>) and that
/// centre moves by a running-mean step (O(d), with a member count per cluster); otherwise the item opens a new
/// cluster with a fresh ID and is its centre. This is an approximation of re-clustering: an item inside a large
/// cluster but farther than eps from its centre opens a new cluster, and a non-convex cluster's centre may lie
/// outside it (measure both with <see cref="OnlineDiagnostics"/>).
/// <see cref="Assign"/> and <see cref="AssignBatch"/> commit into the tables given to the constructor;
/// <see cref="Predict"/> and <see cref="PredictBatch"/> never change them.
/// </summary>
/// <remarks>
/// <para>Thread-safe, through the lock the <see cref="ClusterTables"/> own (so two assigners over the same tables
/// are safe too): predictions run in parallel with each other; each <see cref="Assign"/> or <see cref="AssignBatch"/>
/// is one commit that runs alone, a batch atomically (no reader sees part of it; progress is reported inside it);
/// concurrent commits take effect in the order they took the lock. A prediction answers for the tables as they were
/// between two commits.</para>
/// <para>Batches are exact: distances of the whole chunk to the centres as they were at its start come from one
/// <see cref="Gemm"/> call; while the items are then resolved in order, centres moved or opened by earlier items of
/// the chunk are re-measured, and every decision is confirmed with exact float64 distances. A single item is
/// screened against an int8 copy of the centres (a quarter of the memory traffic of float32) with a rigorous error
/// bound, and decided the same exact way.</para>
/// </remarks>
public sealed class NearestCentroidAssigner : IOnlineAssigner
{
    /// <summary>
    /// An assigner that commits into <paramref name="tables"/>: every <see cref="Assign"/> and
    /// <see cref="AssignBatch"/> adds its items to the label table and moves or opens centres in place (clone the
    /// tables first to try something without keeping it, or use <see cref="Predict"/>).
    /// </summary>
    /// <param name="tables">The tables to search and to commit into.</param>
    /// <param name="options">Eps and the tie rule; validated here (Eps &lt;= 2 under cosine).</param>
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
    public Assignment Predict(long itemId, ReadOnlySpan<float> embedding) =>
        PredictBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> PredictBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        CancellationToken cancellationToken = default)
    {
        using var shared = Tables.ReadLock();
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count, n = t.ClusterCount;
        var index = t.Index;
        var norms = ItemNorms(embeddings);
        var results = new Assignment[total];
        int fresh = -1; // the ID an item that opens a cluster would get: the same for every item, nothing is issued
        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            int m = Math.Min(AssignerChecks.ChunkRows(n), total - start);
            var scores = new float[(long)m * n];
            DistanceKernels.Scores(t.Metric, embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)],
                index.Rows, n, index.Norms, d, scores, m == 1 ? index.Quantized : null);
            double[]? quantErr = m == 1 ? index.Quantized.Errors : null;
            for (int i = 0; i < m; i++)
            {
                int item = start + i;
                var (chosen, chosenD, nearD) = Decide(embeddings.Data, item, norms[item], scores.AsSpan(i * n, n), n, quantErr);
                long id = itemIds[item];
                if (chosen >= 0)
                    results[item] = new Assignment(id, t.ClusterIdAtRow(chosen), chosenD, false, nearD);
                else
                {
                    if (fresh < 0) fresh = t.Allocator.Peek();
                    results[item] = new Assignment(id, fresh, 0.0, true, nearD);
                }
            }
            start += m;
        }
        return results;
    }

    /// <inheritdoc/>
    public Assignment Assign(long itemId, ReadOnlySpan<float> embedding) =>
        AssignBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var exclusive = Tables.WriteLock(); // the whole batch is one commit
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count;
        var metric = t.Metric;
        var results = new Assignment[total];
        var norms = ItemNorms(embeddings);

        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n0 = t.ClusterCount; // centres as at the start of the chunk
            int m = Math.Min(AssignerChecks.ChunkRows(n0), total - start);
            var scores = new float[(long)m * n0];
            DistanceKernels.Scores(metric, embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)],
                t.Index.Rows, n0, t.Index.Norms, d, scores, m == 1 ? t.Index.Quantized : null);
            // One item alone is screened with the int8 copy (no centre can have moved within its chunk).
            double[]? quantErr = m == 1 ? t.Index.Quantized.Errors : null;
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
                var cf = t.Index.Rows;
                var cn = t.Index.Norms;
                foreach (int j in dirtyRows) row[j] = FreshScore(metric, x, xn, cf.AsSpan(j * d, d), cn[j]);
                for (int j = n0; j < count; j++) row[j] = FreshScore(metric, x, xn, cf.AsSpan(j * d, d), cn[j]);

                var (chosen, chosenD, nearD) = Decide(embeddings.Data, item, xn, row, count, quantErr);
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

    /// <summary>
    /// The rule, from screening scores of one item against the first <paramref name="count"/> centre rows as they
    /// are now: the chosen row (-1: open a cluster), its exact distance, and the exact nearest distance.
    /// </summary>
    private (int Chosen, double ChosenDistance, double NearestDistance) Decide(float[] xa, int item, double xn,
        ReadOnlySpan<float> scores, int count, double[]? quantErr)
    {
        var t = Tables;
        var metric = t.Metric;
        int d = t.Dimension, off = item * d;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d);
        var cn = t.Index.Norms;
        double Exact(int j) => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, t.CentreRowSpan(j), t.CentreNorm(j));
        var (nearRow, nearD) = Screening.Nearest(metric, scores, count, factor, xn, cn, Exact, quantErr);
        int chosen;
        double chosenD;
        if (Options.FirstWithinEps)
            (chosen, chosenD) = Screening.FirstWithin(metric, scores, count, factor, xn, cn, eps, Exact, quantErr);
        else
            (chosen, chosenD) = nearD <= eps ? (nearRow, nearD) : (-1, double.PositiveInfinity);
        return (chosen, chosenD, nearD);
    }

    private static double[] ItemNorms(EmbeddingMatrix embeddings)
    {
        int d = embeddings.Dimension;
        var norms = new double[embeddings.Count];
        for (int i = 0; i < norms.Length; i++) norms[i] = DistanceKernels.Norm(embeddings.Data.AsSpan(i * d, d));
        return norms;
    }

    private static float FreshScore(DistanceMetric metric, ReadOnlySpan<float> x, double xn, ReadOnlySpan<float> c, double cn)
    {
        double dot = TensorPrimitives.Dot(x, c);
        return metric == DistanceMetric.Cosine
            ? (float)(cn == 0 ? 1.0 : 1.0 - dot / (xn * cn))
            : (float)(xn * xn + cn * cn - 2.0 * dot);
    }
}
