using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Remapping;

/// <summary>
/// Distances and similarities between every old and every new cluster centre, row-major old x new:
/// entry (i, j) at <c>i * NewClusterIds.Length + j</c>.
/// </summary>
/// <param name="OldClusterIds">Yesterday's cluster ID of each old centre (row i).</param>
/// <param name="NewClusterIds">Today's label of each new centre (column j).</param>
/// <param name="Metric">The distance used.</param>
/// <param name="Distances">Euclidean distance, or cosine distance 1 - cos, per pair.</param>
/// <param name="Similarities">The pair's similarity in [0, 1] (see <see cref="CentroidMatcher.Similarity"/>).</param>
public sealed record CentroidDistances(
    int[] OldClusterIds, int[] NewClusterIds, DistanceMetric Metric, double[] Distances, double[] Similarities)
{
    /// <summary>Distance between old centre <paramref name="oldIndex"/> and new centre <paramref name="newIndex"/>.</summary>
    public double Distance(int oldIndex, int newIndex) => Distances[Index(oldIndex, newIndex)];

    /// <summary>Similarity in [0, 1] between old centre <paramref name="oldIndex"/> and new centre <paramref name="newIndex"/>.</summary>
    public double Similarity(int oldIndex, int newIndex) => Similarities[Index(oldIndex, newIndex)];

    private int Index(int oldIndex, int newIndex)
    {
        if ((uint)oldIndex >= (uint)OldClusterIds.Length)
            throw new ArgumentOutOfRangeException(nameof(oldIndex), oldIndex, $"must be in [0, {OldClusterIds.Length}).");
        if ((uint)newIndex >= (uint)NewClusterIds.Length)
            throw new ArgumentOutOfRangeException(nameof(newIndex), newIndex, $"must be in [0, {NewClusterIds.Length}).");
        return oldIndex * NewClusterIds.Length + newIndex;
    }
}

/// <summary>
/// Centroid distance (the article's second measure): compares yesterday's and today's cluster centres directly, which
/// does not depend on cluster sizes the way sample overlap does, and needs no item present on both days.
/// </summary>
/// <remarks>
/// The similarity follows the article's notebook (<c>calculate_center_similarity</c>), where a match is kept when the
/// similarity exceeds 0.95: for cosine, the cosine similarity clipped to [0, 1]; for euclidean,
/// 1 - ||a - b|| / (2 max(||a||, ||b||)), clipped to [0, 1] (the distance relative to the largest distance two vectors
/// of those norms can have). Each pair is computed directly (not through ||a||² + ||b||² - 2a·b), so near-identical
/// centres do not lose their small distance to cancellation.
/// </remarks>
public static class CentroidMatcher
{
    /// <summary>The article's threshold: a pair is the same cluster when its similarity exceeds 0.95.</summary>
    public const double ArticleThreshold = 0.95;

    /// <summary>All old x new distances and similarities.</summary>
    /// <param name="oldCentres">One row per old cluster.</param>
    /// <param name="oldClusterIds">Cluster ID of each old row (distinct, >= 0).</param>
    /// <param name="newCentres">One row per new cluster; the same dimension as <paramref name="oldCentres"/>.</param>
    /// <param name="newClusterIds">Label of each new row (distinct, >= 0).</param>
    /// <param name="metric">Euclidean or cosine.</param>
    /// <exception cref="ArgumentException">Different dimensions, non-finite values, ids not matching the rows, repeated
    /// or negative ids, no centres, or a zero centre under cosine.</exception>
    public static CentroidDistances Compute(
        EmbeddingMatrix oldCentres, int[] oldClusterIds, EmbeddingMatrix newCentres, int[] newClusterIds,
        DistanceMetric metric = DistanceMetric.Euclidean)
    {
        ArgumentNullException.ThrowIfNull(oldCentres);
        ArgumentNullException.ThrowIfNull(newCentres);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Euclidean or Cosine.");
        if (oldCentres.Dimension != newCentres.Dimension)
            throw new ArgumentException(
                $"newCentres has dimension {newCentres.Dimension} but oldCentres has {oldCentres.Dimension}: both days must use the same embedding.",
                nameof(newCentres));
        CheckIds(oldCentres, oldClusterIds, nameof(oldCentres), nameof(oldClusterIds));
        CheckIds(newCentres, newClusterIds, nameof(newCentres), nameof(newClusterIds));
        oldCentres.EnsureFinite(nameof(oldCentres));
        newCentres.EnsureFinite(nameof(newCentres));
        var oldNorms = Norms(oldCentres, metric, nameof(oldCentres));
        var newNorms = Norms(newCentres, metric, nameof(newCentres));

        int m = oldCentres.Count, n = newCentres.Count, d = oldCentres.Dimension;
        var dist = new double[m * n];
        var sim = new double[m * n];
        Parallel.For(0, m, i =>
        {
            var a = new ReadOnlySpan<float>(oldCentres.Data, i * d, d);
            for (int j = 0; j < n; j++)
            {
                var b = new ReadOnlySpan<float>(newCentres.Data, j * d, d);
                if (metric == DistanceMetric.Euclidean)
                {
                    double e = TensorPrimitives.Distance(a, b);
                    dist[i * n + j] = e;
                    sim[i * n + j] = EuclideanSimilarity(e, oldNorms[i], newNorms[j]);
                }
                else
                {
                    double cos = Math.Clamp(TensorPrimitives.Dot(a, b) / ((double)oldNorms[i] * newNorms[j]), -1.0, 1.0);
                    dist[i * n + j] = 1.0 - cos;
                    sim[i * n + j] = Math.Max(0.0, cos);
                }
            }
        });
        return new CentroidDistances([.. oldClusterIds], [.. newClusterIds], metric, dist, sim);
    }

    /// <summary>
    /// The article's similarity of two centres from their distance: cosine, max(0, 1 - distance); euclidean,
    /// clip(1 - distance / (2 max(normA, normB)), 0, 1), and 1 when both centres are zero (identical).
    /// </summary>
    public static double Similarity(DistanceMetric metric, double distance, double normA = 0, double normB = 0) => metric switch
    {
        DistanceMetric.Cosine => Math.Clamp(1.0 - distance, 0.0, 1.0),
        DistanceMetric.Euclidean => EuclideanSimilarity(distance, normA, normB),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Euclidean or Cosine."),
    };

    private static double EuclideanSimilarity(double distance, double normA, double normB)
    {
        double scale = 2 * Math.Max(normA, normB);
        return scale == 0 ? 1.0 : Math.Clamp(1.0 - distance / scale, 0.0, 1.0);
    }

    private static float[] Norms(EmbeddingMatrix centres, DistanceMetric metric, string name)
    {
        var norms = new float[centres.Count];
        for (int i = 0; i < centres.Count; i++)
        {
            norms[i] = TensorPrimitives.Norm(centres.Row(i));
            if (metric == DistanceMetric.Cosine && norms[i] == 0)
                throw new ArgumentException($"{name} row {i} is the zero vector: it has no direction, so no cosine distance.", name);
        }
        return norms;
    }

    private static void CheckIds(EmbeddingMatrix centres, int[] ids, string centresName, string idsName)
    {
        ArgumentNullException.ThrowIfNull(ids, idsName);
        if (centres.Count == 0)
            throw new ArgumentException($"{centresName} has no rows: need at least one cluster centre.", centresName);
        if (ids.Length != centres.Count)
            throw new ArgumentException($"{idsName} has {ids.Length} ids but {centresName} has {centres.Count} rows: one id per centre.", idsName);
        var seen = new HashSet<int>();
        for (int k = 0; k < ids.Length; k++)
        {
            if (ids[k] < 0)
                throw new ArgumentOutOfRangeException(idsName, ids[k], $"{idsName}[{k}] = {ids[k]}: cluster IDs must be >= 0 (noise has no centre).");
            if (!seen.Add(ids[k]))
                throw new ArgumentException($"{idsName} holds cluster ID {ids[k]} twice (again at index {k}): one centre per cluster.", idsName);
        }
    }
}
