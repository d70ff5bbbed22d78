using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>Options of the <see cref="CorePointAssigner"/>.</summary>
/// <param name="Eps">The DBSCAN eps the core points were found with.</param>
public sealed record CorePointOptions(double Eps)
{
    /// <summary>Throws when eps is not finite and positive (or above 2 under cosine).</summary>
    public void Validate(DistanceMetric metric) => AssignerChecks.ValidateEps(Eps, metric);
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
/// batch is one Gemm call plus an exact check of the few candidates per item.
/// </remarks>
public sealed class CorePointAssigner : IOnlineAssigner
{
    private readonly float[] _core;      // core points, row-major
    private readonly double[] _coreNorms;
    private readonly int[] _coreClusters;
    private readonly QuantizedRows _quant; // int8 copy for screening one item at a time

    /// <summary>Uses <paramref name="tables"/> (updated in place); the index is <see cref="ClusterTables.CoreRows"/>.</summary>
    public CorePointAssigner(ClusterTables tables, CorePointOptions options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(tables.Metric);
        Tables = tables;
        Options = options;
        var rows = tables.CoreRows;
        int d = tables.Dimension;
        _core = new float[rows.Length * d];
        _coreNorms = new double[rows.Length];
        _coreClusters = new int[rows.Length];
        _quant = new QuantizedRows(d, rows.Length);
        var ids = tables.ItemClusterIds;
        for (int k = 0; k < rows.Length; k++)
        {
            var x = tables.ItemEmbedding(rows[k]);
            x.CopyTo(_core.AsSpan(k * d, d));
            _coreNorms[k] = DistanceKernels.Norm(x);
            _coreClusters[k] = ids[rows[k]];
            _quant.Set(k, x);
        }
    }

    /// <inheritdoc/>
    public ClusterTables Tables { get; }

    /// <summary>The options.</summary>
    public CorePointOptions Options { get; }

    /// <summary>Number of core points in the index.</summary>
    public int CorePointCount => _coreNorms.Length;

    /// <inheritdoc/>
    public Assignment Assign(long itemId, ReadOnlySpan<float> embedding) =>
        AssignBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count, nc = _coreNorms.Length;
        var metric = t.Metric;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d);
        var results = new Assignment[total];
        var norms = new double[total];
        for (int i = 0; i < total; i++) norms[i] = DistanceKernels.Norm(embeddings.Data.AsSpan(i * d, d));

        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            int m = Math.Min(AssignerChecks.ChunkRows(nc), total - start);
            var scores = new float[(long)m * nc];
            DistanceKernels.Scores(metric, embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)],
                _core, nc, _coreNorms, d, scores, m == 1 ? _quant : null);
            double[]? quantErr = m == 1 ? _quant.Errors : null;
            for (int i = 0; i < m; i++)
            {
                int item = start + i;
                int off = item * d;
                double xn = norms[item];
                float[] xa = embeddings.Data;
                double Exact(int j) => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, _core.AsSpan(j * d, d), _coreNorms[j]);
                var (nearest, nearD) = Screening.Nearest(metric, scores.AsSpan(i * nc, nc), nc, factor, xn, _coreNorms, Exact, quantErr);
                long id = itemIds[item];
                var x = xa.AsSpan(off, d);
                if (nearest >= 0 && nearD <= eps)
                {
                    int cluster = _coreClusters[nearest];
                    t.JoinCluster(id, x, t.RowOfCluster(cluster));
                    results[item] = new Assignment(id, cluster, nearD, false, nearD);
                }
                else
                {
                    int r = t.OpenCluster(id, x);
                    results[item] = new Assignment(id, t.ClusterIdAtRow(r), 0.0, true, nearD);
                }
            }
            start += m;
            progress?.Report(new WorkProgress("core point assignment", start, total));
        }
        return results;
    }
}
