using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Numerics;

public class GemmTests
{
    private static float[] Random(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Double-precision naive product, the oracle.</summary>
    private static double[] Naive(float[] a, int m, float[] b, int n, int d)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < d; k++) s += (double)a[i * d + k] * b[j * d + k];
                c[i * n + j] = s;
            }
        return c;
    }

    private static void Check(int m, int n, int d, int ldc, int seed, params bool[] forceVector256)
    {
        var a = Random(m * d, seed);
        var b = Random(n * d, seed + 1);
        var expected = Naive(a, m, b, n, d);
        bool saved = Gemm.ForceVector256;
        try
        {
            foreach (bool narrow in forceVector256)
            {
                Gemm.ForceVector256 = narrow;
                const float Sentinel = 12345f;
                var c = new float[Math.Max(0, (m - 1) * ldc + n) + 3];
                Array.Fill(c, Sentinel);
                Gemm.MultiplyTransposed(a, m, b, n, d, c, ldc);
                // float32 sums of d products of values in [-1, 1]: error grows at most ~d * eps.
                double tol = 1e-6 * d + 1e-6;
                for (int i = 0; i < m; i++)
                {
                    for (int j = 0; j < n; j++)
                        if (!(Math.Abs(c[i * ldc + j] - expected[i * n + j]) <= tol))
                            Assert.Fail($"m={m} n={n} d={d} ldc={ldc} vector256={narrow}: c[{i},{j}]={c[i * ldc + j]} expected {expected[i * n + j]}");
                    // Padding between rows and after the last row is never written.
                    for (int j = n; j < ldc && i < m - 1; j++)
                        Assert.Equal(Sentinel, c[i * ldc + j]);
                }
                for (int t = Math.Max(0, (m - 1) * ldc + n); t < c.Length; t++)
                    Assert.Equal(Sentinel, c[t]);
            }
        }
        finally { Gemm.ForceVector256 = saved; }
    }

    [Fact]
    public void OddShapesMatchDoublePrecisionProduct()
    {
        int seed = 1;
        int[] sizes = [1, 2, 3, 5, 6, 7, 11, 12, 13, 16, 17, 31, 33, 47, 64, 70];
        foreach (int m in sizes)
            foreach (int n in sizes)
                foreach (int d in new[] { 1, 3, 8, 17, 70 })
                    Check(m, n, d, n + (seed % 3), seed++, false, true);
    }

    [Fact]
    public void LargeShapeCrossesEveryBlockBoundary()
    {
        // m > MC (192), n > NC (2048), d > KC (256), none a multiple of the tile sizes.
        Check(203, 2081, 300, 2085, 99, false, true);
    }

    [Fact]
    public void ParallelIsBitwiseEqualToSingleThreadedForAnyThreadCount()
    {
        int m = 517, n = 77, d = 300;
        var a = Random(m * d, 5);
        var b = Random(n * d, 6);
        var single = new float[m * n];
        Gemm.MultiplyTransposed(a, m, b, n, d, single, n);
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var par = new float[m * n];
            Gemm.MultiplyTransposedParallel(a, m, b, n, d, par, n, new ParallelOptions { MaxDegreeOfParallelism = threads });
            Assert.Equal(single, par);
        }
    }

    [Fact]
    public void BothKernelsGiveBitwiseEqualResults()
    {
        int m = 100, n = 90, d = 600;
        var a = Random(m * d, 7);
        var b = Random(n * d, 8);
        var wide = new float[m * n];
        var narrow = new float[m * n];
        bool saved = Gemm.ForceVector256;
        try
        {
            Gemm.ForceVector256 = false;
            Gemm.MultiplyTransposed(a, m, b, n, d, wide, n);
            Gemm.ForceVector256 = true;
            Gemm.MultiplyTransposed(a, m, b, n, d, narrow, n);
        }
        finally { Gemm.ForceVector256 = saved; }
        Assert.Equal(wide, narrow);
    }

    [Fact]
    public void EmptyShapesWriteNothing()
    {
        var c = new float[] { 7f };
        Gemm.MultiplyTransposed([], 0, [1f, 2f], 1, 2, c, 1);
        Gemm.MultiplyTransposed([1f, 2f], 1, [], 0, 2, c, 0);
        Assert.Equal(7f, c[0]);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        var a = new float[6];
        var c = new float[4];
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposed(a, -1, a, 2, 3, c, 2)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposed(a, 2, a, -1, 3, c, 2)).ParamName);
        Assert.Equal("d", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposed(a, 2, a, 2, 0, c, 2)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(a, 3, a, 2, 3, c, 2)).ParamName);
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(a, 2, a, 3, 3, new float[9], 3)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MultiplyTransposed(a, 2, a, 2, 3, c, 1)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MultiplyTransposed(a, 2, a, 2, 3, new float[3], 2)).ParamName);
    }
}
