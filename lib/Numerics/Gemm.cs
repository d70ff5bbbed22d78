using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// Dense float32 products of the form C = A·Bᵀ, the kernel under every all-pairs distance (KMeans assignment,
/// DBSCAN neighbourhoods, nearest centre): with row norms, ||a - b||² = ||a||² + ||b||² - 2 a·b.
/// Single-threaded by design: callers parallelise over blocks of rows so results do not depend on thread count.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// c[i * ldc + j] = Σₖ a[i * d + k] · b[j * d + k] for i &lt; m, j &lt; n.
    /// </summary>
    /// <param name="a">m x d, row-major, contiguous.</param>
    /// <param name="m">Rows of A.</param>
    /// <param name="b">n x d, row-major, contiguous.</param>
    /// <param name="n">Rows of B.</param>
    /// <param name="d">Shared inner dimension.</param>
    /// <param name="c">Output; row i starts at i * ldc.</param>
    /// <param name="ldc">Row stride of C, at least n.</param>
    public static void MultiplyTransposed(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c, int ldc)
    {
        if (m < 0 || n < 0 || d < 1)
            throw new ArgumentOutOfRangeException(nameof(d), $"need m >= 0, n >= 0, d >= 1; got m={m}, n={n}, d={d}.");
        if (a.Length < (long)m * d)
            throw new ArgumentException($"a has {a.Length} values; m={m} x d={d} needs {(long)m * d}.", nameof(a));
        if (b.Length < (long)n * d)
            throw new ArgumentException($"b has {b.Length} values; n={n} x d={d} needs {(long)n * d}.", nameof(b));
        if (ldc < n || (m > 0 && c.Length < (long)(m - 1) * ldc + n))
            throw new ArgumentException($"c has {c.Length} values with ldc={ldc}; m={m} rows of n={n} need more.", nameof(c));
        // Reference implementation; replaced by a register-blocked kernel (see bench "gemm").
        for (int i = 0; i < m; i++)
        {
            var ai = a.Slice(i * d, d);
            var ci = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
                ci[j] = TensorPrimitives.Dot(ai, b.Slice(j * d, d));
        }
    }
}
