using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// A cheap, rigorous upper bound on dot products, used by <see cref="RadiusNeighbors"/> to skip most pairs before the
/// full-dimension product. With Q an (almost) orthonormal k x d basis of the data's dominant subspace, p = Qx and the
/// residual norm r(x) = |x - Πx|, Cauchy-Schwarz on the residuals gives x·y &lt;= (Πx)·(Πy) + r(x)·r(y). The rows
/// z(x) = [p, r(x)] (k + 1 values) turn the bound into one small block product z(x)·z(y); every rounding error
/// (float32 products, Q not exactly orthonormal) is bounded and added as <see cref="Slack"/>·|x||y|, so no pair
/// within the radius is ever dropped: the bound only decides which pairs need the exact product.
/// </summary>
internal sealed class ProjectionBound
{
    /// <summary>n x <see cref="Dimension"/> bound rows z(x) = [Qx, r(x)], row-major.</summary>
    public float[] Z { get; }

    /// <summary>k + 1.</summary>
    public int Dimension { get; }

    /// <summary>x·y &lt;= fl(z(x)·z(y)) + Slack·|x||y| for any two rows.</summary>
    public double Slack { get; }

    private ProjectionBound(float[] z, int dimension, double slack)
    {
        Z = z;
        Dimension = dimension;
        Slack = slack;
    }

    /// <summary>
    /// Builds the bound for the n x d <paramref name="rows"/> (squared norms <paramref name="squaredNorms"/>) with a
    /// rank-<paramref name="k"/> basis found by a randomised range finder (one power iteration) on an evenly spaced
    /// sample of rows; null when no usable basis comes out.
    /// </summary>
    public static ProjectionBound? Build(float[] rows, int n, int d, double[] squaredNorms, int k)
    {
        int m = Math.Min(n, 1024);
        if (k < 1 || k >= d || m < k) return null;
        var s = new float[m * d];
        for (int t = 0; t < m; t++)
            rows.AsSpan((int)((long)t * n / m) * d, d).CopyTo(s.AsSpan(t * d, d));
        var sT = Transpose(s, m, d);

        // Y = Gᵀ S (k x d) for a fixed pseudo-random G, then one power iteration Y = (S Yᵀ)ᵀ S.
        var rng = new Random(20260101);
        var gT = new float[k * m];
        for (int i = 0; i < gT.Length; i++) gT[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[k * d];
        Gemm.MultiplyTransposed(gT, k, sT, d, m, y, d);
        NormaliseRows(y, k, d);
        var w = new float[m * k];
        Gemm.MultiplyTransposed(s, m, y, k, d, w, k);
        Gemm.MultiplyTransposed(Transpose(w, m, k), k, sT, d, m, y, d);

        // Modified Gram-Schmidt, twice, in double; directions that vanish are dropped.
        var basis = new List<double[]>(k);
        for (int i = 0; i < k; i++)
        {
            var v = new double[d];
            for (int j = 0; j < d; j++) v[j] = y[i * d + j];
            double before = Math.Sqrt(TensorPrimitives.Dot<double>(v, v));
            for (int pass = 0; pass < 2; pass++)
                foreach (var q in basis)
                    TensorPrimitives.MultiplyAdd(q, -TensorPrimitives.Dot<double>(v, q), v, v);
            double norm = Math.Sqrt(TensorPrimitives.Dot<double>(v, v));
            if (!(norm > 1e-6 * before)) continue;
            TensorPrimitives.Divide(v, norm, v);
            basis.Add(v);
        }
        int kk = basis.Count;
        if (kk == 0) return null;
        var qf = new float[kk * d];
        for (int i = 0; i < kk; i++)
            for (int j = 0; j < d; j++) qf[i * d + j] = (float)basis[i][j];

        // ε >= ||QQᵀ - I||₂ (Frobenius norm) for the float32 basis actually used; ‖Q‖_F for the projection error.
        double eps2 = 0, frob2 = 0;
        var qi = new double[d];
        var qj = new double[d];
        for (int i = 0; i < kk; i++)
        {
            for (int l = 0; l < d; l++) qi[l] = qf[i * d + l];
            for (int j = i; j < kk; j++)
            {
                for (int l = 0; l < d; l++) qj[l] = qf[j * d + l];
                double g = TensorPrimitives.Dot<double>(qi, qj) - (i == j ? 1 : 0);
                eps2 += i == j ? g * g : 2 * g * g;
            }
            frob2 += TensorPrimitives.Dot<double>(qi, qi);
        }
        double eps = Math.Sqrt(eps2);
        if (eps > 1e-3) return null;

        var p = new float[(long)n * kk];
        Gemm.MultiplyTransposedParallel(rows, n, qf, kk, d, p, kk);

        double u = Math.Pow(2, -24);
        double gammaD = d * u / (1 - d * u);
        double eta = gammaD * Math.Sqrt(frob2);           // |p̂ - p| <= eta·|x|
        int zd = kk + 1;
        var z = new float[(long)n * zd];
        double rhoMax = 1;                                // max |z(x)| / |x|
        for (int i = 0; i < n; i++)
        {
            var pi = p.AsSpan(i * kk, kk);
            double pn2 = 0;
            foreach (float v in pi) pn2 += (double)v * v;
            double xn = Math.Sqrt(squaredNorms[i]);
            // |x - Πx|² = |x|² - pᵀ(QQᵀ)⁻¹p <= |x|² - |p|²/(1+ε), and |p| >= |p̂| - eta·|x|.
            double lower = Math.Max(0, Math.Sqrt(pn2) - eta * xn);
            double r2 = Math.Max(0, squaredNorms[i] - lower * lower / (1 + eps));
            float r = (float)Math.Sqrt(r2);
            if (r < Math.Sqrt(r2)) r = MathF.BitIncrement(r);
            pi.CopyTo(z.AsSpan(i * zd, kk));
            z[i * zd + kk] = r;
            if (xn > 0) rhoMax = Math.Max(rhoMax, Math.Sqrt(pn2 + (double)r * r) / xn);
        }
        // (Πx)·(Πy) = pᵀ(QQᵀ)⁻¹q differs from p·q by at most ε/(1-ε)·|p||q|, |p| <= sqrt(1+ε)|x|;
        // p·q differs from p̂·q̂ by at most eta(2 sqrt(1+ε) + eta)|x||y|; the float32 product of z adds γ_{k+1}|z||z|.
        double gammaZ = zd * u / (1 - zd * u);
        double slack = eps * (1 + eps) / (1 - eps) + eta * (2 * Math.Sqrt(1 + eps) + eta) + gammaZ * rhoMax * rhoMax;
        return new ProjectionBound(z, zd, slack);
    }

    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    private static void NormaliseRows(float[] a, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
        {
            var r = a.AsSpan(i * cols, cols);
            float norm = TensorPrimitives.Norm(r);
            if (norm > 0) TensorPrimitives.Divide(r, norm, r);
        }
    }
}
