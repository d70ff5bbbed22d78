using System.Runtime.Intrinsics;

namespace LabelAssignment.Numerics;

/// <summary>
/// An int8 copy of index rows (per-row scale) for screening one item at a time. Matching one item against every
/// centre reads the whole index once (a matrix-vector product, bound by memory traffic, not arithmetic): int8
/// reads a quarter of the bytes of float32. The screening stays rigorous: with c ≈ s·q and r = ‖c - s·q‖₂ kept
/// per row, |x·c - s·Σxₖqₖ| ≤ |x|·(r + accumulation error), so no row that could win is ever skipped, and the
/// decision is still made with exact float64 distances.
/// </summary>
internal sealed class QuantizedRows
{
    private sbyte[] _q;
    private float[] _scale;
    private double[] _error; // bound on |x·c - s·fl(Σxq)| / |x|
    private readonly int _d;

    public QuantizedRows(int dimension, int capacity)
    {
        _d = dimension;
        _q = new sbyte[(long)capacity * dimension];
        _scale = new float[capacity];
        _error = new double[capacity];
    }

    public sbyte[] Values => _q;
    public float[] Scales => _scale;
    public double[] Errors => _error;

    public void Resize(int capacity)
    {
        Array.Resize(ref _q, checked(capacity * _d));
        Array.Resize(ref _scale, capacity);
        Array.Resize(ref _error, capacity);
    }

    public QuantizedRows Clone(int rows)
    {
        var c = new QuantizedRows(_d, _scale.Length);
        _q.AsSpan(0, rows * _d).CopyTo(c._q);
        _scale.AsSpan(0, rows).CopyTo(c._scale);
        _error.AsSpan(0, rows).CopyTo(c._error);
        return c;
    }

    /// <summary>Quantizes row <paramref name="row"/> from its float64 values.</summary>
    public void Set(int row, ReadOnlySpan<double> c)
    {
        double max = 0;
        foreach (double v in c) max = Math.Max(max, Math.Abs(v));
        var q = _q.AsSpan(row * _d, _d);
        float s = (float)(max / 127.0);
        if (s == 0 || !float.IsNormal(s))
        {
            // A zero (or denormal-scale) row: keep it exactly as zero and carry its whole norm as the error.
            q.Clear();
            _scale[row] = 0;
            _error[row] = DistanceKernels.Norm(c);
            return;
        }
        double res = 0, qq = 0;
        for (int k = 0; k < c.Length; k++)
        {
            int v = (int)Math.Round(c[k] / s);
            v = Math.Clamp(v, -127, 127);
            q[k] = (sbyte)v;
            double t = c[k] - (double)s * v;
            res += t * t;
            qq += (double)v * v;
        }
        _scale[row] = s;
        // Residual plus float32 accumulation of Σxₖqₖ (γ_d·Σ|xₖqₖ| ≤ γ_d·|x|·|q|), times s, doubled for safety.
        _error[row] = Math.Sqrt(res) + 2.0 * (_d + 2) * Math.ScaleB(1.0, -24) * s * Math.Sqrt(qq) + 1e-12;
    }

    /// <summary>Quantizes row <paramref name="row"/> from float32 values.</summary>
    public void Set(int row, ReadOnlySpan<float> c)
    {
        var wide = new double[c.Length];
        for (int k = 0; k < c.Length; k++) wide[k] = c[k];
        Set(row, wide);
    }

    /// <summary>s·Σ xₖ·qₖ for row <paramref name="row"/>.</summary>
    public float Dot(ReadOnlySpan<float> x, int row) => _scale[row] * Dot(x, _q.AsSpan(row * _d, _d));

    private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<sbyte> b)
    {
        int i = 0;
        float s = 0;
        if (Vector512.IsHardwareAccelerated && x.Length >= 64)
        {
            var a0 = Vector512<float>.Zero; var a1 = Vector512<float>.Zero;
            var a2 = Vector512<float>.Zero; var a3 = Vector512<float>.Zero;
            for (; i + 64 <= x.Length; i += 64)
            {
                var (s0, s1) = Vector512.Widen(Vector512.Create(b.Slice(i, 64)));
                var (i0, i1) = Vector512.Widen(s0);
                var (i2, i3) = Vector512.Widen(s1);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i, 16)), Vector512.ConvertToSingle(i0), a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 16, 16)), Vector512.ConvertToSingle(i1), a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 32, 16)), Vector512.ConvertToSingle(i2), a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Slice(i + 48, 16)), Vector512.ConvertToSingle(i3), a3);
            }
            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && x.Length >= 32)
        {
            var a0 = Vector256<float>.Zero; var a1 = Vector256<float>.Zero;
            var a2 = Vector256<float>.Zero; var a3 = Vector256<float>.Zero;
            for (; i + 32 <= x.Length; i += 32)
            {
                var (s0, s1) = Vector256.Widen(Vector256.Create(b.Slice(i, 32)));
                var (i0, i1) = Vector256.Widen(s0);
                var (i2, i3) = Vector256.Widen(s1);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, 8)), Vector256.ConvertToSingle(i0), a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i + 8, 8)), Vector256.ConvertToSingle(i1), a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i + 16, 8)), Vector256.ConvertToSingle(i2), a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i + 24, 8)), Vector256.ConvertToSingle(i3), a3);
            }
            s = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < x.Length; i++) s += x[i] * b[i];
        return s;
    }
}
