using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LabelAssignment.Numerics;

/// <summary>
/// Small SIMD kernels next to <see cref="Gemm"/>: products of many rows with a few vectors, and the nearest and
/// second-nearest centre from a centres x rows product.
/// </summary>
internal static unsafe class SmallKernels
{
    /// <summary>
    /// dots[t * rows + r] = x_r · c_t for a few candidates (count even): four rows by two candidates in eight
    /// vector accumulators, streaming the rows once without packing. k-means++ calls it with 2 + ln k candidates,
    /// too few for <see cref="Gemm"/>'s tiles to pay for packing all rows at every step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void DotsWithFew(ReadOnlySpan<float> x, int rows, int d, ReadOnlySpan<float> candidates, int count, Span<float> dots)
    {
        if (count % 2 != 0 || x.Length < rows * d || candidates.Length < count * d || dots.Length < count * rows)
            throw new ArgumentException("DotsWithFew: inconsistent shapes.");
        float* s = stackalloc float[8];
        fixed (float* px = x, pc = candidates, po = dots)
        {
            for (int r = 0; r < rows; r += 4)
            {
                int valid = Math.Min(4, rows - r);
                // Short last group: repeat the last row (its results are not stored).
                float* x0 = px + (long)r * d;
                float* x1 = valid > 1 ? x0 + d : x0;
                float* x2 = valid > 2 ? x0 + 2 * d : x0;
                float* x3 = valid > 3 ? x0 + 3 * d : x0;
                for (int t = 0; t < count; t += 2)
                {
                    float* c0 = pc + (long)t * d, c1 = c0 + d;
                    if (Vector512.IsHardwareAccelerated)
                        Dots4x2V512(x0, x1, x2, x3, c0, c1, d, s);
                    else
                        Dots4x2V256(x0, x1, x2, x3, c0, c1, d, s);
                    for (int q = 0; q < valid; q++)
                    {
                        po[(long)t * rows + r + q] = s[q];
                        po[(long)(t + 1) * rows + r + q] = s[4 + q];
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots4x2V512(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int d, float* s)
    {
        int dv = d & ~15;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int q = 0; q < dv; q += 16)
        {
            var u = Vector512.Load(c0 + q);
            var v = Vector512.Load(c1 + q);
            var w = Vector512.Load(x0 + q);
            a0 = Vector512.FusedMultiplyAdd(w, u, a0); b0 = Vector512.FusedMultiplyAdd(w, v, b0);
            w = Vector512.Load(x1 + q);
            a1 = Vector512.FusedMultiplyAdd(w, u, a1); b1 = Vector512.FusedMultiplyAdd(w, v, b1);
            w = Vector512.Load(x2 + q);
            a2 = Vector512.FusedMultiplyAdd(w, u, a2); b2 = Vector512.FusedMultiplyAdd(w, v, b2);
            w = Vector512.Load(x3 + q);
            a3 = Vector512.FusedMultiplyAdd(w, u, a3); b3 = Vector512.FusedMultiplyAdd(w, v, b3);
        }
        s[0] = Vector512.Sum(a0); s[1] = Vector512.Sum(a1); s[2] = Vector512.Sum(a2); s[3] = Vector512.Sum(a3);
        s[4] = Vector512.Sum(b0); s[5] = Vector512.Sum(b1); s[6] = Vector512.Sum(b2); s[7] = Vector512.Sum(b3);
        ScalarTail(x0, x1, x2, x3, c0, c1, dv, d, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots4x2V256(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int d, float* s)
    {
        int dv = Vector256.IsHardwareAccelerated ? d & ~7 : 0;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int q = 0; q < dv; q += 8)
        {
            var u = Vector256.Load(c0 + q);
            var v = Vector256.Load(c1 + q);
            var w = Vector256.Load(x0 + q);
            a0 = Vector256.FusedMultiplyAdd(w, u, a0); b0 = Vector256.FusedMultiplyAdd(w, v, b0);
            w = Vector256.Load(x1 + q);
            a1 = Vector256.FusedMultiplyAdd(w, u, a1); b1 = Vector256.FusedMultiplyAdd(w, v, b1);
            w = Vector256.Load(x2 + q);
            a2 = Vector256.FusedMultiplyAdd(w, u, a2); b2 = Vector256.FusedMultiplyAdd(w, v, b2);
            w = Vector256.Load(x3 + q);
            a3 = Vector256.FusedMultiplyAdd(w, u, a3); b3 = Vector256.FusedMultiplyAdd(w, v, b3);
        }
        s[0] = Vector256.Sum(a0); s[1] = Vector256.Sum(a1); s[2] = Vector256.Sum(a2); s[3] = Vector256.Sum(a3);
        s[4] = Vector256.Sum(b0); s[5] = Vector256.Sum(b1); s[6] = Vector256.Sum(b2); s[7] = Vector256.Sum(b3);
        ScalarTail(x0, x1, x2, x3, c0, c1, dv, d, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ScalarTail(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int from, int d, float* s)
    {
        for (int q = from; q < d; q++)
        {
            s[0] += x0[q] * c0[q]; s[1] += x1[q] * c0[q]; s[2] += x2[q] * c0[q]; s[3] += x3[q] * c0[q];
            s[4] += x0[q] * c1[q]; s[5] += x1[q] * c1[q]; s[6] += x2[q] * c1[q]; s[7] += x3[q] * c1[q];
        }
    }

    /// <summary>
    /// For each row r: best[r] = min over j of ||c_j||² - 2 dots[j * rows + r], bestJ[r] the first j reaching it,
    /// second[r] the next smallest value (+infinity when k = 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void NearestTwo(float[] dots, float[] cNorms, int k, int rows, float[] best, float[] second, int[] bestJ)
    {
        int r0 = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var two = Vector256.Create(2f);
            for (; r0 + 8 <= rows; r0 += 8)
            {
                var b = Vector256.Create(cNorms[0]) - two * Vector256.LoadUnsafe(ref dots[r0]);
                var s2 = Vector256.Create(float.PositiveInfinity);
                var bj = Vector256<int>.Zero;
                for (int j = 1; j < k; j++)
                {
                    var v = Vector256.Create(cNorms[j]) - two * Vector256.LoadUnsafe(ref dots[j * rows + r0]);
                    var less = Vector256.LessThan(v, b);
                    s2 = Vector256.ConditionalSelect(less, b, Vector256.Min(s2, v));
                    b = Vector256.ConditionalSelect(less, v, b);
                    bj = Vector256.ConditionalSelect(less.AsInt32(), Vector256.Create(j), bj);
                }
                b.StoreUnsafe(ref best[r0]);
                s2.StoreUnsafe(ref second[r0]);
                bj.StoreUnsafe(ref bestJ[r0]);
            }
        }
        for (int r = r0; r < rows; r++)
        {
            float b = cNorms[0] - 2f * dots[r], s2 = float.PositiveInfinity;
            int bj = 0;
            for (int j = 1; j < k; j++)
            {
                float v = cNorms[j] - 2f * dots[j * rows + r];
                if (v < b) { s2 = b; b = v; bj = j; }
                else if (v < s2) s2 = v;
            }
            best[r] = b;
            second[r] = s2;
            bestJ[r] = bj;
        }
    }
}
