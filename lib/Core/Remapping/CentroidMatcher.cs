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
/// centres do not lose their small distance to cancellation. Norms and pairs whose float32 arithmetic would overflow
/// or underflow (centres near float's range, or tiny ones) are computed in float64, so the cosine is scale-invariant
/// and finite centres always give finite distances.
/// </remarks>
public static class CentroidMatcher
{
    /// <summary>The article's threshold: a pair is the same cluster when its similarity exceeds 0.95.</summary>
    public const double ArticleThreshold = 0.95;

    /// <summary>All old x new distances and similarities.</summary>
    /// <param name="yesterday">Yesterday's centres keyed by cluster ID.</param>
    /// <param name="today">Today's centres keyed by label; the same dimension as <paramref name="yesterday"/>'s.</param>
    /// <param name="metric">Euclidean or cosine.</param>
    /// <exception cref="ArgumentException">Different dimensions, non-finite values, an exactly zero centre under
    /// cosine, or more old x new pairs than an array holds.</exception>
    public static CentroidDistances Compute(ClusterCentres yesterday, ClusterCentres today, DistanceMetric metric)
    {
        ArgumentNullException.ThrowIfNull(yesterday);
        ArgumentNullException.ThrowIfNull(today);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Euclidean or Cosine.");
        EmbeddingMatrix oldCentres = yesterday.Centres, newCentres = today.Centres;
        if (oldCentres.Dimension != newCentres.Dimension)
            throw new ArgumentException(
                $"today's centres have dimension {newCentres.Dimension} but yesterday's have {oldCentres.Dimension}: both days must use the same embedding.",
                nameof(today));
        oldCentres.EnsureFinite(nameof(yesterday));
        newCentres.EnsureFinite(nameof(today));
        int m = oldCentres.Count, n = newCentres.Count, d = oldCentres.Dimension;
        if ((long)m * n > Array.MaxLength)
            throw new ArgumentException(
                $"{m} old x {n} new centres make {(long)m * n} pairs, more than the {Array.MaxLength} a dense distance matrix can hold: " +
                "fewer clusters per day are needed for centroid matching.", nameof(today));
        var (oldNorms, oldSafe) = Norms(oldCentres, metric, nameof(yesterday));
        var (newNorms, newSafe) = Norms(newCentres, metric, nameof(today));

        var dist = new double[m * n];
        var sim = new double[m * n];
        Parallel.For(0, m, i =>
        {
            var a = new ReadOnlySpan<float>(oldCentres.Data, i * d, d);
            for (int j = 0; j < n; j++)
            {
                var b = new ReadOnlySpan<float>(newCentres.Data, j * d, d);
                bool fast = oldSafe[i] && newSafe[j];
                if (metric == DistanceMetric.Euclidean)
                {
                    double e = fast ? TensorPrimitives.Distance(a, b) : double.NaN;
                    // float32 overflowed (finite centres far apart near float's range) or the rows are tiny: float64.
                    if (!double.IsFinite(e)) e = DistanceKernels.Distance(DistanceMetric.Euclidean, a, 0, b, 0);
                    dist[i * n + j] = e;
                    sim[i * n + j] = EuclideanSimilarity(e, oldNorms[i], newNorms[j]);
                }
                else
                {
                    double dot = fast ? TensorPrimitives.Dot(a, b) : double.NaN;
                    if (!double.IsFinite(dot)) dot = DistanceKernels.Dot(a, b);
                    double cos = Math.Clamp(dot / (oldNorms[i] * newNorms[j]), -1.0, 1.0);
                    dist[i * n + j] = 1.0 - cos;
                    sim[i * n + j] = Math.Max(0.0, cos);
                }
            }
        });
        return new CentroidDistances(yesterday.ClusterIds.ToArray(), today.ClusterIds.ToArray(), metric, dist, sim);
    }

    /// <summary>
    /// The article's similarity of two centres from their distance: cosine, max(0, 1 - distance); euclidean,
    /// clip(1 - distance / (2 max(normA, normB)), 0, 1), and 1 when both centres are zero (identical). Both norms are
    /// required: a euclidean distance means nothing without the scale of the two vectors.
    /// </summary>
    /// <param name="metric">Euclidean or cosine.</param>
    /// <param name="distance">Euclidean distance ||a - b||, or cosine distance 1 - cos in [0, 2].</param>
    /// <param name="normA">||a||, finite and &gt;= 0 (&gt; 0 under cosine: a zero vector has no direction).</param>
    /// <param name="normB">||b||, the same.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-finite or negative value, a cosine distance outside
    /// [0, 2], a zero norm under cosine, or a euclidean distance above normA + normB, which no two vectors of those
    /// norms can have (e.g. any distance &gt; 0 with both norms 0).</exception>
    public static double Similarity(DistanceMetric metric, double distance, double normA, double normB)
    {
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Euclidean or Cosine.");
        if (!(double.IsFinite(distance) && distance >= 0))
            throw new ArgumentOutOfRangeException(nameof(distance), distance, "distance must be finite and >= 0.");
        if (!(double.IsFinite(normA) && normA >= 0))
            throw new ArgumentOutOfRangeException(nameof(normA), normA, "normA must be finite and >= 0.");
        if (!(double.IsFinite(normB) && normB >= 0))
            throw new ArgumentOutOfRangeException(nameof(normB), normB, "normB must be finite and >= 0.");
        if (metric == DistanceMetric.Cosine)
        {
            if (normA == 0 || normB == 0)
                throw new ArgumentOutOfRangeException(normA == 0 ? nameof(normA) : nameof(normB), 0.0,
                    "a zero vector has no direction, so no cosine distance: both norms must be > 0.");
            if (distance > 2)
                throw new ArgumentOutOfRangeException(nameof(distance), distance, "a cosine distance 1 - cos must be in [0, 2].");
            return Math.Clamp(1.0 - distance, 0.0, 1.0);
        }
        // Triangle inequality, with room for the rounding of a computed distance.
        if (distance > (normA + normB) * (1 + 1e-9))
            throw new ArgumentOutOfRangeException(nameof(distance), distance,
                $"distance {distance} is above normA + normB = {normA + normB}: no two vectors with norms {normA} and {normB} are that far apart.");
        return EuclideanSimilarity(distance, normA, normB);
    }

    private static double EuclideanSimilarity(double distance, double normA, double normB)
    {
        double scale = 2 * Math.Max(normA, normB);
        return scale == 0 ? 1.0 : Math.Clamp(1.0 - distance / scale, 0.0, 1.0);
    }

    // A float32 norm at or above this (and finite) is accurate, and so are the row's float32 products with another
    // such row unless they overflow (then the pair is redone in float64). Below it, squares may have underflowed.
    private const float SmallNorm = 9.094947017729282e-13f; // 2^-40

    /// <summary>
    /// Each row's norm, and whether its float32 arithmetic is safe. Safe rows keep their float32 norm (the results of
    /// ordinary inputs do not change); the others take the float64 norm, which cannot overflow or underflow for
    /// float32 values (squares stay within 1e-90 .. 1e77), so the cosine is scale-invariant.
    /// </summary>
    private static (double[] Norms, bool[] Safe) Norms(EmbeddingMatrix centres, DistanceMetric metric, string name)
    {
        var norms = new double[centres.Count];
        var safe = new bool[centres.Count];
        for (int i = 0; i < centres.Count; i++)
        {
            float f = TensorPrimitives.Norm(centres.Row(i));
            safe[i] = f >= SmallNorm && float.IsFinite(f);
            norms[i] = safe[i] ? f : DistanceKernels.Norm(centres.Row(i));
            if (metric == DistanceMetric.Cosine && norms[i] == 0)
                throw new ArgumentException(
                    $"{name} row {i} is the zero vector (all {centres.Dimension} values are exactly 0): it has no direction, so no cosine distance.", name);
        }
        return (norms, safe);
    }
}
