using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// What an online assigner decided for one item, with its evidence.
/// </summary>
/// <param name="ItemId">The item.</param>
/// <param name="ClusterId">The cluster it now belongs to (from a prediction: would belong to): always a live ID,
/// never a stand-in for "none" (a new cluster gets a fresh ID from the allocator).</param>
/// <param name="Distance">Distance from the item to the centre (NearestCentroid) or core point (CorePoint) that
/// decided it, measured before the centre moved; 0 when the item opened its own cluster.</param>
/// <param name="CreatedCluster">True when the item opened a new cluster (nothing within eps).</param>
/// <param name="NearestDistance">Distance to the nearest centre or core point in the index before this item was
/// placed (+∞ when the index was empty): the evidence for a new cluster is that it exceeds eps. For a nearest-centroid
/// item that opened a cluster, a lower bound on it (above eps) instead, unless
/// <see cref="NearestCentroidOptions.ExactNearestDistance"/> is set: the scan stops reading centres once they are
/// provably beyond eps, so the bound's value depends on how the item was screened (its batch, one at a time).</param>
public sealed record Assignment(long ItemId, int ClusterId, double Distance, bool CreatedCluster, double NearestDistance);

/// <summary>
/// Places new items into the <see cref="ClusterTables"/> one at a time or in batches. <see cref="Assign"/> and
/// <see cref="AssignBatch"/> commit: they add the items to the label table and move or open centres in the tables
/// the assigner was built on. <see cref="Predict"/> and <see cref="PredictBatch"/> only read them: the same
/// decision, nothing changed. The answer is an approximation of re-running the clustering (see
/// <see cref="OnlineDiagnostics"/> for how far). A batch gives exactly what one-at-a-time in the same order gives.
/// Invalid input throws before anything changes.
/// </summary>
/// <remarks>
/// Concurrency contract (both assigners of this library): safe for concurrent use. <see cref="Predict"/> and
/// <see cref="PredictBatch"/> run in parallel; <see cref="Assign"/> and <see cref="AssignBatch"/> are serialised
/// commits, a batch atomic, through a reader-writer lock owned by the <see cref="ClusterTables"/> (so assigners
/// sharing tables exclude each other too); <see cref="ClusterTablesStore.Save"/> takes a consistent snapshot.
/// </remarks>
public interface IOnlineAssigner
{
    /// <summary>The tables this assigner searches and commits into.</summary>
    ClusterTables Tables { get; }

    /// <summary>
    /// Which cluster the item would get now, with its evidence, without changing the tables: what
    /// <see cref="Assign"/> would return for it at this moment. When it would open a cluster, the ID is the one
    /// the allocator would issue next (not reserved).
    /// </summary>
    /// <param name="itemId">An ID not yet in the label table (as <see cref="Assign"/> requires).</param>
    /// <param name="embedding">Tables.Dimension values.</param>
    Assignment Predict(long itemId, ReadOnlySpan<float> embedding);

    /// <summary>
    /// <see cref="Predict"/> for each row, every one against the tables as they are now (unlike
    /// <see cref="AssignBatch"/>, an item does not see the items before it); equals one <see cref="Predict"/> per row.
    /// </summary>
    /// <param name="itemIds">One new, distinct ID per row.</param>
    /// <param name="embeddings">Rows x Tables.Dimension.</param>
    /// <param name="cancellationToken">Checked between chunks.</param>
    IReadOnlyList<Assignment> PredictBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        CancellationToken cancellationToken = default);

    /// <summary>Places one item and commits it: the item joins (moving that centre) or opens a cluster in <see cref="Tables"/>.</summary>
    Assignment Assign(long itemId, ReadOnlySpan<float> embedding);

    /// <summary>Places a batch of items, in order, committing each; an item may join a cluster an earlier item of the batch opened.</summary>
    /// <param name="itemIds">One new, distinct ID per row.</param>
    /// <param name="embeddings">Rows x Tables.Dimension.</param>
    /// <param name="progress">Items placed out of the batch, after each chunk; the last report has Done == Total.</param>
    /// <param name="cancellationToken">Checked between chunks; items already placed stay placed.</param>
    IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>Shared validation and option checks of the two assigners.</summary>
public static class AssignerChecks
{
    /// <summary>Throws when <paramref name="eps"/> is not a finite number &gt; 0, or above 2 (the cosine range) for cosine.</summary>
    public static void ValidateEps(double eps, DistanceMetric metric)
    {
        if (!double.IsFinite(eps) || eps <= 0)
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a finite number > 0.");
        if (metric == DistanceMetric.Cosine && eps > 2)
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be <= 2 for cosine distance (its range is [0, 2]).");
    }

    /// <summary>The assigners' options check: ParamName and message name the property Eps.</summary>
    internal static void ValidateEpsOption(double eps, DistanceMetric? metric)
    {
        if (!double.IsFinite(eps) || eps <= 0)
            throw new ArgumentOutOfRangeException("Eps", eps, $"Eps={eps} must be a finite number > 0.");
        if (metric == DistanceMetric.Cosine && eps > 2)
            throw new ArgumentOutOfRangeException("Eps", eps, $"Eps={eps} must be <= 2 for cosine distance (its range is [0, 2]).");
    }

    /// <summary>Rows per Gemm call in a batch: bounds the score buffer (rows x index size floats).</summary>
    internal static int ChunkRows(int indexSize) => Math.Clamp(4_000_000 / Math.Max(indexSize, 1), 16, 256);
}
