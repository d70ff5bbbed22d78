using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

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

    /// <summary>Whether every score is finite (no overflow): only then do the bounds above hold.</summary>
    public static bool AllFinite(ReadOnlySpan<float> scores) =>
        scores.Length == 0 || float.IsFinite(scores[TensorPrimitives.IndexOfMaxMagnitude(scores)]);

    /// <summary>
    /// The largest part of a row's error bound that does not depend on its score, over every row of an index whose
    /// largest norm is <paramref name="maxNorm"/> (float32 screening), or whose int8 copy has the largest error
    /// <paramref name="maxQuantError"/> and largest error over norm <paramref name="maxQuantErrorOverNorm"/>.
    /// </summary>
    public static double MaxRowError(DistanceMetric metric, double factor, double xn, double maxNorm, bool quantized,
        double maxQuantError, double maxQuantErrorOverNorm) =>
        quantized
            ? (metric == DistanceMetric.Cosine ? maxQuantErrorOverNorm : 2.0 * xn * maxQuantError + 1e-6 * (xn * xn + maxNorm * maxNorm))
            : (metric == DistanceMetric.Cosine ? factor : 2.0 * factor * xn * maxNorm + 1e-6 * (xn * xn + maxNorm * maxNorm));

    /// <summary>
    /// A float32 threshold t such that every score s with s - err(s) &lt;= <paramref name="upper"/> has s &lt;= t, where
    /// err(s) = E + 1e-6·(|s| + 1) and E &lt;= <paramref name="maxRowError"/> (the form of both error bounds): a superset
    /// test one SIMD comparison can make, refined row by row with the exact bound.
    /// </summary>
    public static float CandidateThreshold(double upper, double maxRowError)
    {
        if (double.IsPositiveInfinity(upper) || double.IsNaN(upper)) return float.PositiveInfinity;
        // s >= 0: s(1 - 1e-6) <= U; s < 0: s(1 + 1e-6) <= U, with U = upper + E + 1e-6; a relative margin for rounding.
        double u = upper + maxRowError + 1e-6;
        double t = Math.Max(u / (1 - 1e-6), u / (1 + 1e-6));
        t += 1e-9 * (Math.Abs(t) + 1);
        return MathF.BitIncrement((float)t);
    }

    /// <summary>Fills <paramref name="rows"/> (ascending) with every j with values[j] &lt;= threshold (all of them when the threshold is +∞).</summary>
    public static void CollectAtMost(ReadOnlySpan<float> values, float threshold, List<int> rows)
    {
        rows.Clear();
        int j = 0;
        if (Vector256.IsHardwareAccelerated && values.Length >= 8)
        {
            var t = Vector256.Create(threshold);
            for (; j + 8 <= values.Length; j += 8)
            {
                uint mask = Vector256.LessThanOrEqual(Vector256.Create(values.Slice(j, 8)), t).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    rows.Add(j + System.Numerics.BitOperations.TrailingZeroCount(mask));
                    mask &= mask - 1;
                }
            }
        }
        for (; j < values.Length; j++)
            if (values[j] <= threshold) rows.Add(j);
        if (float.IsPositiveInfinity(threshold) && rows.Count < values.Length)
        {
            // NaN fails every comparison: at +∞ "all rows" is meant.
            rows.Clear();
            for (int r = 0; r < values.Length; r++) rows.Add(r);
        }
    }

    /// <summary>
    /// <see cref="Nearest"/> with one SIMD pass instead of two scalar ones, plus rows whose screening score is not in
    /// <paramref name="scores"/> (set to +∞ there) but bounded by an interval [lo, hi] (centres that moved or opened
    /// since the scores were computed). The same exact answer: the row with the smallest exact distance, lowest row on
    /// ties, (-1, +∞) when there are no rows. <paramref name="buffer"/> is scratch. With <paramref name="trusted"/>
    /// false (some score of the chunk overflowed: not finite) every row is measured exactly.
    /// </summary>
    public static (int Row, double Distance) NearestBounded(DistanceMetric metric, ReadOnlySpan<float> scores,
        double factor, double xn, double[] norms, double[]? quantErr, double maxRowError,
        ReadOnlySpan<int> extraRows, ReadOnlySpan<double> extraLo, ReadOnlySpan<double> extraHi,
        Func<int, double> exact, List<int> buffer, bool trusted = true)
    {
        double upper = double.PositiveInfinity;
        if (scores.Length > 0 && trusted)
        {
            int jmin = TensorPrimitives.IndexOfMin(scores);
            float s = scores[jmin];
            if (float.IsFinite(s)) upper = s + Err(metric, factor, xn, norms, jmin, s, quantErr);
        }
        if (trusted)
            for (int e = 0; e < extraRows.Length; e++) upper = Math.Min(upper, extraHi[e]);
        if (scores.Length == 0 && extraRows.Length == 0) return (-1, double.PositiveInfinity);
        buffer.Clear();
        CollectAtMost(scores, CandidateThreshold(upper, maxRowError), buffer);
        int best = -1;
        double bestD = double.PositiveInfinity;
        foreach (int j in buffer)
        {
            float s = scores[j];
            if (trusted && (float.IsPositiveInfinity(s) || s - Err(metric, factor, xn, norms, j, s, quantErr) > upper)) continue;
            double dist = exact(j);
            if (dist < bestD || (dist == bestD && j < best)) { bestD = dist; best = j; }
        }
        for (int e = 0; e < extraRows.Length; e++)
        {
            if (trusted && extraLo[e] > upper) continue;
            int j = extraRows[e];
            double dist = exact(j);
            if (dist < bestD || (dist == bestD && j < best)) { bestD = dist; best = j; }
        }
        return (best, bestD);
    }

    /// <summary>
    /// <see cref="NearestBounded"/> (trusted, float32 scores) when only the rows in <paramref name="rows"/> (ascending)
    /// have a score, <paramref name="rowScores"/>, and every other row's is +∞: the same answer without three passes
    /// over the whole table (a batch's commit loop runs it once per item, alone on one core).
    /// </summary>
    public static (int Row, double Distance) NearestBoundedSparse(DistanceMetric metric, ReadOnlySpan<int> rows,
        ReadOnlySpan<float> rowScores, double factor, double xn, double[] norms, double maxRowError,
        ReadOnlySpan<int> extraRows, ReadOnlySpan<double> extraLo, ReadOnlySpan<double> extraHi, Func<int, double> exact,
        double cap = double.PositiveInfinity)
    {
        // The dense form's upper bound: the first row with the smallest score; no higher than cap (a caller that only
        // wants rows whose score is within cap gets the nearest of those, or (-1, +∞)).
        int jmin = -1;
        float smin = float.PositiveInfinity;
        for (int k = 0; k < rows.Length; k++)
            if (rowScores[k] < smin) { smin = rowScores[k]; jmin = rows[k]; }
        double upper = jmin >= 0 ? smin + Err(metric, factor, xn, norms, jmin, smin, null) : double.PositiveInfinity;
        for (int e = 0; e < extraRows.Length; e++) upper = Math.Min(upper, extraHi[e]);
        upper = Math.Min(upper, cap);
        float threshold = CandidateThreshold(upper, maxRowError);
        int best = -1;
        double bestD = double.PositiveInfinity;
        for (int k = 0; k < rows.Length; k++)
        {
            float sk = rowScores[k];
            if (!(sk <= threshold) || float.IsPositiveInfinity(sk) || sk - Err(metric, factor, xn, norms, rows[k], sk, null) > upper) continue;
            int j = rows[k];
            double dist = exact(j);
            if (dist < bestD || (dist == bestD && j < best)) { bestD = dist; best = j; }
        }
        for (int e = 0; e < extraRows.Length; e++)
        {
            if (extraLo[e] > upper) continue;
            int j = extraRows[e];
            double dist = exact(j);
            if (dist < bestD || (dist == bestD && j < best)) { bestD = dist; best = j; }
        }
        return (best, bestD);
    }

    /// <summary>
    /// <see cref="FirstWithin"/> over the same inputs as <see cref="NearestBounded"/>: the first row in table order
    /// whose exact distance is &lt;= eps, or -1.
    /// </summary>
    public static (int Row, double Distance) FirstWithinBounded(DistanceMetric metric, ReadOnlySpan<float> scores,
        double factor, double xn, double[] norms, double[]? quantErr, double maxRowError, double eps,
        ReadOnlySpan<int> extraRows, ReadOnlySpan<double> extraLo, Func<int, double> exact, List<int> buffer, bool trusted = true)
    {
        double thr = trusted ? DistanceKernels.ToScore(metric, eps) : double.PositiveInfinity;
        buffer.Clear();
        CollectAtMost(scores, CandidateThreshold(thr, maxRowError), buffer);
        int keep = 0;
        for (int c = 0; c < buffer.Count; c++)
        {
            int j = buffer[c];
            float s = scores[j];
            if (trusted && (float.IsPositiveInfinity(s) || s - Err(metric, factor, xn, norms, j, s, quantErr) > thr)) continue;
            buffer[keep++] = j;
        }
        buffer.RemoveRange(keep, buffer.Count - keep);
        for (int e = 0; e < extraRows.Length; e++)
            if (!trusted || extraLo[e] <= thr) buffer.Add(extraRows[e]);
        buffer.Sort();
        int unique = 0; // untrusted: a changed row is both in scores (collected) and an extra
        for (int c = 0; c < buffer.Count; c++)
            if (c == 0 || buffer[c] != buffer[c - 1]) buffer[unique++] = buffer[c];
        buffer.RemoveRange(unique, buffer.Count - unique);
        foreach (int j in buffer)
        {
            double dist = exact(j);
            if (dist <= eps) return (j, dist);
        }
        return (-1, double.PositiveInfinity);
    }
}
