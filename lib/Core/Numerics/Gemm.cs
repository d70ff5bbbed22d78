using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// Dense float32 products of the form C = A·Bᵀ, the kernel under every all-pairs distance (KMeans assignment,
/// DBSCAN neighbourhoods, nearest centre): with row norms, ||a - b||² = ||a||² + ||b||² - 2 a·b.
/// Single-threaded by design: callers parallelise over blocks of rows so results do not depend on thread count.
/// </summary>
/// <remarks>
/// GotoBLAS/BLIS layout: panels of A (MR rows) and B (NR rows) are packed k-major into per-thread buffers,
/// blocked so a B micro-panel stays in L1 and the A block in L2, and a register-blocked FMA micro-kernel
/// computes an MR x NR tile (6 x 16 with Vector256, 12 x 32 with Vector512 when the hardware accelerates it).
/// Every C[i, j] is the same sequential FMA chain over k (KC-long pieces added in order) whichever SIMD kernel
/// runs, whatever the shape or the row blocking,
/// so splitting rows across threads gives bitwise-identical results.
/// </remarks>
public static unsafe class Gemm
{
    // Depth of one packed block: an A micro-panel (MR x KC) and a B micro-panel (KC x NR) fit L1 together.
    private const int KC = 256;
    // Rows of A packed at once (L2-resident): a multiple of both MR values.
    private const int MC = 192;
    // Rows of B packed at once.
    private const int NC = 2048;

    [ThreadStatic] private static float[]? t_packA;
    [ThreadStatic] private static float[]? t_packB;

    /// <summary>Which micro-kernel runs on this machine ("Vector512 12x32", "Vector256 6x16" or "scalar").</summary>
    public static string KernelDescription =>
        UseV512 ? "Vector512 12x32" : UseV256 ? "Vector256 6x16" : "scalar (TensorPrimitives.Dot)";

    private static bool UseV512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported && !ForceVector256;
    private static bool UseV256 => Vector256.IsHardwareAccelerated && Fma.IsSupported;

    [ThreadStatic] private static bool t_forceVector256;

    /// <summary>Test hook: run the Vector256 kernel even where Vector512 is accelerated (calling thread only).</summary>
    internal static bool ForceVector256 { get => t_forceVector256; set => t_forceVector256 = value; }

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
        Validate(a.Length, m, b.Length, n, d, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        if (UseV512)
            Blocked(a, m, b, n, d, c, ldc, 12, 32);
        else if (UseV256)
            Blocked(a, m, b, n, d, c, ldc, 6, 16);
        else
            Reference(a, m, b, n, d, c, ldc);
    }

    /// <summary>
    /// The same product as <see cref="MultiplyTransposed"/>, with rows of A split into fixed blocks run in parallel.
    /// The block size does not depend on the thread count, and each C[i, j] is computed the same way as in the
    /// single-threaded call, so the result is bitwise identical for any <paramref name="options"/>.
    /// </summary>
    /// <param name="a">m x d, row-major.</param>
    /// <param name="m">Rows of A.</param>
    /// <param name="b">n x d, row-major.</param>
    /// <param name="n">Rows of B.</param>
    /// <param name="d">Shared inner dimension.</param>
    /// <param name="c">Output; row i starts at i * ldc.</param>
    /// <param name="ldc">Row stride of C, at least n.</param>
    /// <param name="options">Degree of parallelism and cancellation; null for the defaults.</param>
    public static void MultiplyTransposedParallel(ReadOnlyMemory<float> a, int m, ReadOnlyMemory<float> b, int n, int d,
        Memory<float> c, int ldc, ParallelOptions? options = null)
    {
        Validate(a.Length, m, b.Length, n, d, c.Length, ldc);
        if (m == 0 || n == 0)
            return;
        const int rowsPerBlock = MC;
        int blocks = (m + rowsPerBlock - 1) / rowsPerBlock;
        Parallel.For(0, blocks, options ?? new ParallelOptions(), blk =>
        {
            int i0 = blk * rowsPerBlock, rows = Math.Min(rowsPerBlock, m - i0);
            MultiplyTransposed(a.Span.Slice(i0 * d, rows * d), rows, b.Span, n, d,
                c.Span.Slice(i0 * ldc, (rows - 1) * ldc + n), ldc);
        });
    }

    private static void Validate(int aLength, int m, int bLength, int n, int d, int cLength, int ldc)
    {
        if (m < 0)
            throw new ArgumentOutOfRangeException(nameof(m), m, "m (rows of a) must be >= 0.");
        if (n < 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, "n (rows of b) must be >= 0.");
        if (d < 1)
            throw new ArgumentOutOfRangeException(nameof(d), d, "d (inner dimension) must be >= 1.");
        if (aLength < (long)m * d)
            throw new ArgumentException($"a has {aLength} values; m={m} x d={d} needs {(long)m * d}.", "a");
        if (bLength < (long)n * d)
            throw new ArgumentException($"b has {bLength} values; n={n} x d={d} needs {(long)n * d}.", "b");
        if (ldc < n)
            throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be >= n={n}.");
        if (m > 0 && n > 0 && cLength < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"c has {cLength} values with ldc={ldc}; m={m} rows of n={n} need {(long)(m - 1) * ldc + n}.", "c");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Reference(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var ai = a.Slice(i * d, d);
            var ci = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
                ci[j] = TensorPrimitives.Dot(ai, b.Slice(j * d, d));
        }
    }

    private static float[] Buffer(ref float[]? cache, int length)
    {
        if (cache is null || cache.Length < length)
            cache = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return cache;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocked(ReadOnlySpan<float> a, int m, ReadOnlySpan<float> b, int n, int d, Span<float> c, int ldc, int mr, int nr)
    {
        int ncMax = Math.Min(NC, RoundUp(n, nr));
        int mcMax = Math.Min(MC, RoundUp(m, mr));
        int kcMax = Math.Min(KC, d);
        float[] packA = Buffer(ref t_packA, mcMax * kcMax);
        float[] packB = Buffer(ref t_packB, ncMax * kcMax);
        float* tile = stackalloc float[12 * 32];
        fixed (float* pa = a, pb = b, pc = c, ap = packA, bp = packB)
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc);
                for (int kk = 0; kk < d; kk += KC)
                {
                    int kc = Math.Min(KC, d - kk);
                    bool accumulate = kk > 0;
                    Pack(pb + (long)jc * d + kk, d, nc, kc, nr, bp);
                    for (int ic = 0; ic < m; ic += MC)
                    {
                        int mc = Math.Min(MC, m - ic);
                        Pack(pa + (long)ic * d + kk, d, mc, kc, mr, ap);
                        for (int jr = 0; jr < nc; jr += nr)
                        {
                            int nrows = Math.Min(nr, nc - jr);
                            float* bPanel = bp + (long)jr * kc;
                            for (int ir = 0; ir < mc; ir += mr)
                            {
                                int mrows = Math.Min(mr, mc - ir);
                                float* aPanel = ap + (long)ir * kc;
                                float* cTile = pc + (long)(ic + ir) * ldc + jc + jr;
                                bool full = mrows == mr && nrows == nr;
                                if (mr == 12)
                                {
                                    if (full) Kernel12x32(aPanel, bPanel, kc, cTile, ldc, accumulate);
                                    else { Kernel12x32(aPanel, bPanel, kc, tile, 32, false); Merge(tile, 32, cTile, ldc, mrows, nrows, accumulate); }
                                }
                                else
                                {
                                    if (full) Kernel6x16(aPanel, bPanel, kc, cTile, ldc, accumulate);
                                    else { Kernel6x16(aPanel, bPanel, kc, tile, 16, false); Merge(tile, 16, cTile, ldc, mrows, nrows, accumulate); }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int x, int step) => (x + step - 1) / step * step;

    /// <summary>Copies rows x kc of a row-major source into panels of <paramref name="r"/> rows, k-major, zero-padded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack(float* src, int ld, int rows, int kc, int r, float* dst)
    {
        for (int p = 0; p < rows; p += r)
        {
            int valid = Math.Min(r, rows - p);
            float* panel = dst + (long)p * kc;
            int q = 0;
            if (Avx.IsSupported)
            {
                // Eight rows at a time: 8 x 8 transposes in registers instead of strided scalar stores.
                int k8 = kc & ~7;
                for (; q + 8 <= valid; q += 8)
                {
                    float* s = src + (long)(p + q) * ld;
                    for (int k = 0; k < k8; k += 8)
                        Transpose8x8(s + k, ld, panel + (long)k * r + q, r);
                    for (int k = k8; k < kc; k++)
                        for (int t = 0; t < 8; t++)
                            panel[(long)k * r + q + t] = s[(long)t * ld + k];
                }
            }
            for (; q < valid; q++)
            {
                float* s = src + (long)(p + q) * ld;
                float* t = panel + q;
                for (int k = 0; k < kc; k++)
                    t[k * r] = s[k];
            }
            for (q = valid; q < r; q++)
            {
                float* t = panel + q;
                for (int k = 0; k < kc; k++)
                    t[k * r] = 0f;
            }
        }
    }

    /// <summary>dst[j * ldd + i] = src[i * lds + j] for an 8 x 8 block (unpack, shuffle, lane permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int lds, float* dst, int ldd)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + lds);
        var r2 = Avx.LoadVector256(src + 2L * lds);
        var r3 = Avx.LoadVector256(src + 3L * lds);
        var r4 = Avx.LoadVector256(src + 4L * lds);
        var r5 = Avx.LoadVector256(src + 5L * lds);
        var r6 = Avx.LoadVector256(src + 6L * lds);
        var r7 = Avx.LoadVector256(src + 7L * lds);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Scalar tail: copies (or adds) the valid part of a full tile computed into a scratch buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Merge(float* tile, int ldt, float* c, int ldc, int rows, int cols, bool accumulate)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * ldt, ci = c + (long)i * ldc;
            if (accumulate)
                for (int j = 0; j < cols; j++) ci[j] += t[j];
            else
                for (int j = 0; j < cols; j++) ci[j] = t[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector256<float> v, bool accumulate)
    {
        if (accumulate) v += Vector256.Load(c);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector512<float> v, bool accumulate)
    {
        if (accumulate) v += Vector512.Load(c);
        v.Store(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
            a += 6; b += 16;
        }
        Put(c, c00, accumulate); Put(c + 8, c01, accumulate); c += ldc;
        Put(c, c10, accumulate); Put(c + 8, c11, accumulate); c += ldc;
        Put(c, c20, accumulate); Put(c + 8, c21, accumulate); c += ldc;
        Put(c, c30, accumulate); Put(c + 8, c31, accumulate); c += ldc;
        Put(c, c40, accumulate); Put(c + 8, c41, accumulate); c += ldc;
        Put(c, c50, accumulate); Put(c + 8, c51, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel12x32(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default,
            c90 = default, c91 = default, ca0 = default, ca1 = default, cb0 = default, cb1 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8]);
            c80 = Avx512F.FusedMultiplyAdd(x, b0, c80); c81 = Avx512F.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9]);
            c90 = Avx512F.FusedMultiplyAdd(x, b0, c90); c91 = Avx512F.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10]);
            ca0 = Avx512F.FusedMultiplyAdd(x, b0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(a[11]);
            cb0 = Avx512F.FusedMultiplyAdd(x, b0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, b1, cb1);
            a += 12; b += 32;
        }
        Put(c, c00, accumulate); Put(c + 16, c01, accumulate); c += ldc;
        Put(c, c10, accumulate); Put(c + 16, c11, accumulate); c += ldc;
        Put(c, c20, accumulate); Put(c + 16, c21, accumulate); c += ldc;
        Put(c, c30, accumulate); Put(c + 16, c31, accumulate); c += ldc;
        Put(c, c40, accumulate); Put(c + 16, c41, accumulate); c += ldc;
        Put(c, c50, accumulate); Put(c + 16, c51, accumulate); c += ldc;
        Put(c, c60, accumulate); Put(c + 16, c61, accumulate); c += ldc;
        Put(c, c70, accumulate); Put(c + 16, c71, accumulate); c += ldc;
        Put(c, c80, accumulate); Put(c + 16, c81, accumulate); c += ldc;
        Put(c, c90, accumulate); Put(c + 16, c91, accumulate); c += ldc;
        Put(c, ca0, accumulate); Put(c + 16, ca1, accumulate); c += ldc;
        Put(c, cb0, accumulate); Put(c + 16, cb1, accumulate);
    }
}
