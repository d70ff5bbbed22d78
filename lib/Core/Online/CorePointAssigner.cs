using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>Options of the <see cref="CorePointAssigner"/>, e.g. <c>new CorePointOptions { Eps = 0.25 }</c>.</summary>
public sealed record CorePointOptions
{
    /// <summary>The DBSCAN eps the core points were found with; default 0.5, <see cref="Clustering.DbscanOptions"/>' default.</summary>
    public double Eps { get; init; } = 0.5;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Eps"/> is not a finite number &gt; 0.</summary>
    public void Validate() => AssignerChecks.ValidateEpsOption(Eps, null);

    /// <summary><see cref="Validate()"/>, and under cosine also <see cref="Eps"/> &lt;= 2 (the range of the distance).</summary>
    internal void Validate(DistanceMetric metric) => AssignerChecks.ValidateEpsOption(Eps, metric);
}

/// <summary>
/// DBSCAN's own rule for a point that arrives after fitting (what scikit-learn users write by hand and
/// hdbscan's approximate_predict does for HDBSCAN): the item joins the cluster of the nearest core point within
/// eps; with none within eps it is noise and gets its own fresh ID (a singleton cluster in the tables, as the
/// article does for noise at initialisation). Both tables are updated (the joined cluster's centre moves by a
/// running-mean step, so the centre table stays true for the other assigner and for the notebook).
/// </summary>
/// <remarks>
/// The index is the core points of the initial clustering and does not grow: a new item never becomes a core
/// point. That keeps every answer a faithful "border point" answer of the fitted model (a point within eps of a
/// core point is a member of its cluster, exactly as DBSCAN would say for a point added without refitting) and
/// keeps clusters from creeping or merging between re-clusterings; the price is that a dense group of new items
/// far from every old core point stays as singletons until the next full DBSCAN. Because the index is fixed, a
/// batch is one Gemm call plus an exact check of the few candidates per item. <see cref="Assign"/> and
/// <see cref="AssignBatch"/> commit into the tables given to the constructor; <see cref="Predict"/> and
/// <see cref="PredictBatch"/> never change them.
/// <para>Thread-safe, through the lock the <see cref="ClusterTables"/> own (so two assigners over the same tables
/// are safe too): predictions run in parallel with each other; each <see cref="Assign"/> or <see cref="AssignBatch"/>
/// is one commit that runs alone, a batch atomically (no reader sees part of it; progress is reported inside it);
/// concurrent commits take effect in the order they took the lock. The core-point index is immutable.</para>
/// </remarks>
public sealed class CorePointAssigner : IOnlineAssigner
{
    private readonly CentreIndex _core;  // the core points, fixed at construction
    private readonly int[] _coreClusters;

    /// <summary>
    /// An assigner that commits into <paramref name="tables"/>: every <see cref="Assign"/> and
    /// <see cref="AssignBatch"/> adds its items to the label table and moves or opens centres in place (clone the
    /// tables first to try something without keeping it, or use <see cref="Predict"/>). The index is
    /// <see cref="ClusterTables.CoreRows"/> as they are now.
    /// </summary>
    /// <param name="tables">The tables to take the core points from and to commit into.</param>
    /// <param name="options">Eps; validated here (Eps &lt;= 2 under cosine).</param>
    public CorePointAssigner(ClusterTables tables, CorePointOptions options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(tables.Metric);
        Tables = tables;
        Options = options;
        using var shared = tables.ReadLock();
        var rows = tables.CoreRows;
        _core = new CentreIndex(tables.Dimension, rows.Length);
        _coreClusters = new int[rows.Length];
        var ids = tables.ItemClusterIds;
        for (int k = 0; k < rows.Length; k++)
        {
            _core.Set(k, tables.ItemEmbedding(rows[k]));
            _coreClusters[k] = ids[rows[k]];
        }
    }

    /// <inheritdoc/>
    public ClusterTables Tables { get; }

    /// <summary>The options.</summary>
    public CorePointOptions Options { get; }

    /// <summary>Number of core points in the index.</summary>
    public int CorePointCount => _coreClusters.Length;

    /// <inheritdoc/>
    public Assignment Predict(long itemId, ReadOnlySpan<float> embedding) =>
        PredictBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> PredictBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        CancellationToken cancellationToken = default) =>
        Run(itemIds, embeddings, commit: false, null, cancellationToken);

    /// <inheritdoc/>
    public Assignment Assign(long itemId, ReadOnlySpan<float> embedding) =>
        AssignBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Run(itemIds, embeddings, commit: true, progress, cancellationToken);

    // The index never changes, so a prediction is the same search as an assignment; only the commit differs.
    private Assignment[] Run(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings, bool commit,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        using var held = commit ? Tables.WriteLock() : Tables.ReadLock(); // a committing batch is one commit
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count, nc = _coreClusters.Length;
        var metric = t.Metric;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d);
        var core = _core.Rows;
        var coreNorms = _core.Norms;
        var results = new Assignment[total];
        var norms = new double[total];
        for (int i = 0; i < total; i++) norms[i] = DistanceKernels.Norm(embeddings.Data.AsSpan(i * d, d));
        var buffer = new List<int>();
        int fresh = -1; // predictions only: the ID the allocator would issue next

        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            int m = Math.Min(AssignerChecks.ChunkRows(nc), total - start);
            var scores = new float[(long)m * nc];
            DistanceKernels.Scores(metric, embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)],
                core, nc, coreNorms, d, scores, m == 1 ? _core.Quantized : null);
            double[]? quantErr = m == 1 ? _core.Quantized.Errors : null;
            bool trusted = Screening.AllFinite(scores); // an overflowed score bounds nothing: then every row is measured
            for (int i = 0; i < m; i++)
            {
                int item = start + i;
                int off = item * d;
                double xn = norms[item];
                float[] xa = embeddings.Data;
                double Exact(int j) => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, core.AsSpan(j * d, d), coreNorms[j]);
                double maxErr = Screening.MaxRowError(metric, factor, xn, _core.MaxNorm, quantErr is not null, _core.MaxQuantError, _core.MaxQuantErrorOverNorm);
                var (nearest, nearD) = Screening.NearestBounded(metric, scores.AsSpan(i * nc, nc), factor, xn, coreNorms, quantErr, maxErr,
                    default, default, default, Exact, buffer, trusted);
                long id = itemIds[item];
                var x = xa.AsSpan(off, d);
                if (nearest >= 0 && nearD <= eps)
                {
                    int cluster = _coreClusters[nearest];
                    if (commit) t.JoinCluster(id, x, t.RowOfCluster(cluster));
                    results[item] = new Assignment(id, cluster, nearD, false, nearD);
                }
                else if (commit)
                {
                    int r = t.OpenCluster(id, x);
                    results[item] = new Assignment(id, t.ClusterIdAtRow(r), 0.0, true, nearD);
                }
                else
                {
                    if (fresh < 0) fresh = t.Allocator.Peek();
                    results[item] = new Assignment(id, fresh, 0.0, true, nearD);
                }
            }
            start += m;
            if (commit) progress?.Report(new WorkProgress("core point assignment", start, total));
        }
        return results;
    }
}
