using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Oracles;

/// <summary>
/// The tests' one reference distance: written directly in double precision from the definitions
/// (cosine 1 - a.b / (|a| |b|), euclidean sqrt(sum (a - b)^2)), independent of the library's kernels.
/// </summary>
internal static class Distances
{
    /// <summary>Distance between a float row and a double vector (e.g. a mean kept in double).</summary>
    public static double Between(DistanceMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}.");
        double dot = 0, aa = 0, bb = 0, sq = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double x = a[k], y = b[k];
            dot += x * y;
            aa += x * x;
            bb += y * y;
            sq += (x - y) * (x - y);
        }
        return metric == DistanceMetric.Cosine ? 1 - dot / Math.Sqrt(aa * bb) : Math.Sqrt(sq);
    }

    /// <summary>Distance between two float rows.</summary>
    public static double Between(DistanceMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var wide = new double[b.Length];
        for (int k = 0; k < b.Length; k++) wide[k] = b[k];
        return Between(metric, a, wide);
    }

    /// <summary>Distance between rows <paramref name="i"/> and <paramref name="j"/> of <paramref name="x"/>.</summary>
    public static double Between(DistanceMetric metric, EmbeddingMatrix x, int i, int j) => Between(metric, x.Row(i), x.Row(j));

    /// <summary>
    /// True when rows i and j are within <paramref name="eps"/>: euclidean compared squared, as scikit-learn's radius
    /// search does (no square-root rounding at the boundary); a row is always within eps of itself.
    /// </summary>
    public static bool Within(DistanceMetric metric, EmbeddingMatrix x, int i, int j, double eps)
    {
        if (i == j) return true;
        double d = Between(metric, x, i, j);
        return metric == DistanceMetric.Cosine ? d <= eps : d * d <= eps * eps;
    }
}
