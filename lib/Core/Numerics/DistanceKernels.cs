using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace LabelAssignment.Numerics;

/// <summary>
/// The distance arithmetic of online assignment, in two grades. <b>Screening</b>: float32 dot products from
/// <see cref="Gemm"/> for a whole batch against the whole index, turned into scores (cosine distance, or squared
/// euclidean distance) with a rigorous bound on their error. <b>Decision</b>: the few candidates the bound cannot
/// rule out are re-measured exactly in float64 with a fixed summation order, so the answer never depends on the
/// batch size, the alignment of a row or the number of threads: a batch gives what one-at-a-time gives.
/// </summary>
public static class DistanceKernels
{
    private const int ColumnBlock = 256;
    private const int DirectRows = 2;

    /// <summary>
    /// Bound on |fl32(x·c) - x·c| relative to |x||c|: a float32 dot product of length d errs by at most about
    /// d·u·Σ|xₖcₖ| (u = 2⁻²⁴), and the float32 copy of a float64 centre adds u; doubled for safety.
    /// </summary>
    internal static double DotErrorFactor(int dimension) => 2.0 * (dimension + 2) * Math.ScaleB(1.0, -24) + 1e-12;

    /// <summary>Σ a[k]·b[k] in float64, in a fixed order (four Vector256 lanes, then the tail).</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        int d = a.Length;
        int k = 0;
        double s;
        if (Vector256.IsHardwareAccelerated && d >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k + 8 <= d; k += 8)
            {
                var (alo, ahi) = Vector256.Widen(Vector256.Create(a.Slice(k, 8)));
                acc0 += alo * Vector256.Create(b.Slice(k, 4));
                acc1 += ahi * Vector256.Create(b.Slice(k + 4, 4));
            }
            s = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            s = 0;
        }
        for (; k < d; k++)
            s += a[k] * b[k];
        return s;
    }

    /// <summary>Σ a[k]·b[k] in float64 for two float32 rows, in a fixed order.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int d = a.Length;
        int k = 0;
        double s = 0;
        if (Vector256.IsHardwareAccelerated && d >= 8)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k + 8 <= d; k += 8)
            {
                var va = Vector256.Create(a.Slice(k, 8));
                var vb = Vector256.Create(b.Slice(k, 8));
                var (alo, ahi) = Vector256.Widen(va);
                var (blo, bhi) = Vector256.Widen(vb);
                acc0 += alo * blo;
                acc1 += ahi * bhi;
            }
            s = Vector256.Sum(acc0 + acc1);
        }
        for (; k < d; k++)
            s += (double)a[k] * b[k];
        return s;
    }

    /// <summary>||a||₂ in float64 (cannot overflow or underflow for float32 values: their squares stay in 1e-90 .. 1e77).</summary>
    public static double Norm(ReadOnlySpan<float> a) => Math.Sqrt(Dot(a, a));

    // A float32 norm at or above 2^-40 (and finite) is accurate: squares that underflowed are far below its rounding.
    private const float SmallNorm = 9.094947017729282e-13f;

    /// <summary>
    /// <paramref name="destination"/> = <paramref name="row"/> / ||row||, scale-safe: when the float32 norm
    /// overflows or (nearly) underflows, the row is first scaled by a power of two (exact). Ordinary rows take the
    /// plain float32 path, bit for bit. Returns false, writing nothing, only when the row is exactly zero.
    /// </summary>
    internal static bool TryNormalise(ReadOnlySpan<float> row, Span<float> destination)
    {
        float norm = TensorPrimitives.Norm(row);
        if (!(norm >= SmallNorm && float.IsFinite(norm)))
        {
            float largest = Math.Abs(row[TensorPrimitives.IndexOfMaxMagnitude(row)]);
            if (largest == 0f) return false;
            double f = Math.ScaleB(1.0, -Math.ILogB(largest));
            for (int k = 0; k < row.Length; k++) destination[k] = (float)(row[k] * f);
            row = destination;
            norm = TensorPrimitives.Norm(row);
        }
        TensorPrimitives.Divide(row, norm, destination);
        return true;
    }

    /// <summary>||a||₂ in float64.</summary>
    public static double Norm(ReadOnlySpan<double> a)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += a[k] * a[k];
        return Math.Sqrt(s);
    }

    /// <summary>
    /// The exact distance used for every decision: cosine 1 - x·c/(|x||c|) (a zero centre counts as distance 1,
    /// as scikit-learn's cosine_distances does), or euclidean sqrt(|x|² + |c|² - 2x·c) clipped at 0.
    /// </summary>
    public static double Distance(DistanceMetric metric, double dot, double xNorm, double cNorm)
    {
        if (metric == DistanceMetric.Cosine)
        {
            if (cNorm == 0 || xNorm == 0) return 1.0;
            return Math.Clamp(1.0 - dot / (xNorm * cNorm), 0.0, 2.0);
        }
        return Math.Sqrt(Math.Max(0.0, xNorm * xNorm + cNorm * cNorm - 2.0 * dot));
    }

    /// <summary>Exact distance between a float32 item and a float64 centre.</summary>
    public static double Distance(DistanceMetric metric, ReadOnlySpan<float> x, double xNorm, ReadOnlySpan<double> c, double cNorm)
    {
        if (metric == DistanceMetric.Euclidean)
        {
            // Direct sum of squared differences: no cancellation near zero distance.
            double s = 0;
            for (int k = 0; k < x.Length; k++)
            {
                double t = x[k] - c[k];
                s += t * t;
            }
            return Math.Sqrt(s);
        }
        return Distance(metric, Dot(x, c), xNorm, cNorm);
    }

    /// <summary>Exact distance between two float32 rows.</summary>
    public static double Distance(DistanceMetric metric, ReadOnlySpan<float> x, double xNorm, ReadOnlySpan<float> c, double cNorm)
    {
        if (metric == DistanceMetric.Euclidean)
        {
            double s = 0;
            for (int k = 0; k < x.Length; k++)
            {
                double t = (double)x[k] - c[k];
                s += t * t;
            }
            return Math.Sqrt(s);
        }
        return Distance(metric, Dot(x, c), xNorm, cNorm);
    }

    /// <summary>
    /// Screening scores of m items against n index rows: scores[i*n + j] is the cosine distance, or the squared
    /// euclidean distance, computed from float32 dot products. Parallel over blocks of index rows; every score
    /// depends only on its own row pair, so the result does not depend on the thread count.
    /// </summary>
    /// <remarks>With <paramref name="quantized"/> and one item, the int8 copy is read instead of the float32 rows
    /// (a quarter of the memory traffic); its error bound is then <see cref="QuantizedScoreError"/>.</remarks>
    internal static void Scores(DistanceMetric metric, ReadOnlySpan<float> items, int m, double[] itemNorms,
        float[] index, int n, double[] indexNorms, int d, float[] scores, QuantizedRows? quantized = null)
    {
        if (m == 0 || n == 0) return;
        int blocks = (n + ColumnBlock - 1) / ColumnBlock;
        float[] itemsArray = items.ToArray();
        // Small problems are not worth the thread hand-off.
        var po = new ParallelOptions { MaxDegreeOfParallelism = (long)m * n * d < 2_000_000 ? 1 : Environment.ProcessorCount };
        Parallel.For(0, blocks, po, b =>
        {
            int j0 = b * ColumnBlock;
            int nb = Math.Min(ColumnBlock, n - j0);
            var c = scores.AsSpan(j0);
            if (m == 1 && quantized is not null)
            {
                var x0 = itemsArray.AsSpan(0, d);
                for (int j = 0; j < nb; j++)
                    c[j] = quantized.Dot(x0, j0 + j);
            }
            else if (m <= DirectRows)
            {
                // A packed GEMM would copy the whole block of centres for one or two rows: stream it once instead.
                for (int i = 0; i < m; i++)
                {
                    var xi = itemsArray.AsSpan(i * d, d);
                    for (int j = 0; j < nb; j++)
                        c[i * n + j] = TensorPrimitives.Dot(xi, index.AsSpan((j0 + j) * d, d));
                }
            }
            else
            {
                Gemm.MultiplyTransposed(itemsArray.AsSpan(0, m * d), m, index.AsSpan(j0 * d, nb * d), nb, d, c, n);
            }
            for (int i = 0; i < m; i++)
            {
                var row = scores.AsSpan(i * n + j0, nb);
                double xn = itemNorms[i];
                for (int j = 0; j < nb; j++)
                {
                    double cn = indexNorms[j0 + j];
                    row[j] = metric == DistanceMetric.Cosine
                        ? (float)(cn == 0 ? 1.0 : 1.0 - row[j] / (xn * cn))
                        : (float)(xn * xn + cn * cn - 2.0 * row[j]);
                }
            }
        });
    }

    /// <summary>
    /// The chunk's screening scores against itself below the diagonal: gram[i*m + q] for q &lt; i, in the form of
    /// <see cref="Scores"/> (the same float32 values, and error bound), 0 elsewhere. A batch only ever asks an item
    /// about earlier items of its chunk, so half the products suffice; blocks of rows run in parallel, the last (widest)
    /// first so the cores finish together.
    /// </summary>
    internal static void LowerGram(DistanceMetric metric, ReadOnlySpan<float> items, int m, double[] norms, int d, float[] gram)
    {
        gram.AsSpan(0, m * m).Clear();
        if (m < 2) return;
        const int block = 64;
        int blocks = (m + block - 1) / block;
        float[] a = items.Slice(0, m * d).ToArray();
        var po = new ParallelOptions { MaxDegreeOfParallelism = (long)m * m * d < 4_000_000 ? 1 : Environment.ProcessorCount };
        Parallel.For(0, blocks, po, b =>
        {
            int i0 = (blocks - 1 - b) * block, rows = Math.Min(block, m - i0), cols = i0 + rows - 1; // columns q < i <= i0 + rows - 1
            if (cols <= 0) return;
            var c = gram.AsSpan(i0 * m, (rows - 1) * m + cols);
            if (rows <= DirectRows)
                for (int i = 0; i < rows; i++)
                    for (int q = 0; q < Math.Min(cols, i0 + i); q++)
                        c[i * m + q] = TensorPrimitives.Dot(a.AsSpan((i0 + i) * d, d), a.AsSpan(q * d, d));
            else
                Gemm.MultiplyTransposed(a.AsSpan(i0 * d, rows * d), rows, a.AsSpan(0, cols * d), cols, d, c, m);
            for (int i = 0; i < rows; i++)
            {
                var row = gram.AsSpan((i0 + i) * m, m);
                double xn = norms[i0 + i];
                int q1 = i0 + i;
                for (int q = 0; q < q1; q++) row[q] = ScoreFromDot(metric, row[q], xn, norms[q]);
                row.Slice(q1).Clear(); // the product wrote a few entries on and above the diagonal: not asked for
            }
        });
    }

    /// <summary>
    /// Error bound of a screening score for an item of norm <paramref name="xNorm"/> against an index row of norm
    /// <paramref name="cNorm"/> (includes the float32 rounding of the score itself).
    /// </summary>
    internal static double ScoreError(DistanceMetric metric, double factor, double xNorm, double cNorm, double score)
    {
        double rounding = 1e-6 * (Math.Abs(score) + 1.0);
        return metric == DistanceMetric.Cosine
            ? factor + rounding
            : 2.0 * factor * xNorm * cNorm + 1e-6 * (xNorm * xNorm + cNorm * cNorm) + rounding;
    }

    /// <summary>
    /// Error bound of a score computed from the int8 copy: its dot product errs by at most |x|·<paramref name="quantError"/>.
    /// </summary>
    internal static double QuantizedScoreError(DistanceMetric metric, double quantError, double xNorm, double cNorm, double score)
    {
        double rounding = 1e-6 * (Math.Abs(score) + 1.0);
        return metric == DistanceMetric.Cosine
            ? (cNorm == 0 ? 0 : quantError / cNorm) + rounding
            : 2.0 * xNorm * quantError + 1e-6 * (xNorm * xNorm + cNorm * cNorm) + rounding;
    }

    /// <summary>
    /// The screening score of a dot product (as <see cref="Scores"/> computes it): cosine distance 1 - dot/(|x||c|),
    /// 1 for a zero row, or squared euclidean |x|² + |c|² - 2·dot; rounded to float32.
    /// </summary>
    internal static float ScoreFromDot(DistanceMetric metric, double dot, double xNorm, double cNorm) =>
        metric == DistanceMetric.Cosine
            ? (float)(cNorm == 0 ? 1.0 : 1.0 - dot / (xNorm * cNorm))
            : (float)(xNorm * xNorm + cNorm * cNorm - 2.0 * dot);

    /// <summary>The score (cosine distance or squared euclidean) of an exact distance, to compare with screening scores.</summary>
    internal static double ToScore(DistanceMetric metric, double distance) =>
        metric == DistanceMetric.Cosine ? distance : distance * distance;
}
