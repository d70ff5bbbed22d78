
namespace LabelAssignment.Numerics;

/// <summary>
/// Turns screening scores (with their error bounds) into an exact decision: only the index rows whose score
/// could, within its bound, beat the best upper bound are measured exactly, and ties go to the lower row.
/// </summary>
internal static class Screening
{
    /// <summary>Error bound of score (float32 screening, or the int8 copy's bound when <paramref name="quantErr"/> is given) <paramref name="s"/> of row <paramref name="j"/>.</summary>
    private static double Err(DistanceMetric metric, double factor, double xn, double[] norms, int j, float s, double[]? quantErr) =>
        quantErr is null
            ? DistanceKernels.ScoreError(metric, factor, xn, norms[j], s)
            : DistanceKernels.QuantizedScoreError(metric, quantErr[j], xn, norms[j], s);

    /// <summary>
    /// The row with the smallest exact distance among rows [0, count) (lowest row on ties) and that distance; <paramref name="quantErr"/>: the scores came from the int8 copy with these per-row bounds;
    /// (-1, +∞) when count is 0. <paramref name="exact"/> gives the exact distance of a row.
    /// </summary>
    public static (int Row, double Distance) Nearest(DistanceMetric metric, ReadOnlySpan<float> scores, int count,
        double factor, double xn, double[] norms, Func<int, double> exact, double[]? quantErr = null)
    {
        if (count == 0) return (-1, double.PositiveInfinity);
        double upper = double.PositiveInfinity;
        for (int j = 0; j < count; j++)
        {
            float s = scores[j];
            double u = s + Err(metric, factor, xn, norms, j, s, quantErr);
            if (u < upper) upper = u;
        }
        int best = -1;
        double bestD = double.PositiveInfinity;
        for (int j = 0; j < count; j++)
        {
            float s = scores[j];
            if (s - Err(metric, factor, xn, norms, j, s, quantErr) > upper) continue;
            double dist = exact(j);
            if (dist < bestD) { bestD = dist; best = j; }
        }
        return (best, bestD);
    }

    /// <summary>
    /// The first row in table order whose exact distance is &lt;= eps (the article's loop), or -1; rows whose
    /// score rules them out are skipped without an exact measurement.
    /// </summary>
    public static (int Row, double Distance) FirstWithin(DistanceMetric metric, ReadOnlySpan<float> scores, int count,
        double factor, double xn, double[] norms, double eps, Func<int, double> exact, double[]? quantErr = null)
    {
        double thr = DistanceKernels.ToScore(metric, eps);
        for (int j = 0; j < count; j++)
        {
            float s = scores[j];
            if (s - Err(metric, factor, xn, norms, j, s, quantErr) > thr) continue;
            double dist = exact(j);
            if (dist <= eps) return (j, dist);
        }
        return (-1, double.PositiveInfinity);
    }
}
