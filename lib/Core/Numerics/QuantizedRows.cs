using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LabelAssignment.Numerics;

/// <summary>
/// An int8 copy of index rows (per-row scale) for screening one item at a time. Matching one item against every
/// centre reads the whole index once (a matrix-vector product, bound by memory traffic, not arithmetic): int8
/// reads a quarter of the bytes of float32. The screening stays rigorous: with c ≈ s·q and r = ‖c - s·q‖₂ kept
/// per row, |x·c - s·Σxₖqₖ| ≤ |x|·(r + accumulation error), so no row that could win is ever skipped, and the
/// decision is still made with exact float64 distances.
/// </summary>
/// <remarks>The same values are also kept in the panel layout of <see cref="Int8Product"/> (<see cref="Panels"/>,
/// with each row's sum of values), so a batch of items can be screened with integer dot products.</remarks>
internal sealed class QuantizedRows
{
    private sbyte[] _q;
    private float[] _scale;
    private double[] _error; // bound on |x·c - s·fl(Σxq)| / |x|
    private sbyte[] _panels;  // Int8Product's layout: panels of PanelRows rows, depth padded to a multiple of 4
    private int[] _sums;      // Σₖ qₖ per row (the product's correction for its unsigned item values)
    private float[] _scaleOverNorm, _normSquared; // the product's per-row factors (SetNorm), kept so a call does not recompute them
    // Per split h of Int8Product.SplitGroups (a staged product's partial scores): Σ_{k<4h} qₖ, and ‖c[4h..d)‖ of the
    // row as set, alone and over ‖c‖ (SetNorm), rounded up.
    private readonly int[] _splits;
    private readonly int[][] _headSums;
    private readonly float[][] _tails, _tailsOverNorm;
    private readonly int _d;

    /// <param name="dimension">Values per row.</param>
    /// <param name="capacity">Rows to make room for.</param>
    /// <param name="staged">Keep the head sums and tail norms a staged product reads (<see cref="Int8Product.SplitGroups"/>).</param>
    public QuantizedRows(int dimension, int capacity, bool staged = false)
    {
        _d = dimension;
        _q = new sbyte[(long)capacity * dimension];
        _scale = new float[capacity];
        _error = new double[capacity];
        _panels = new sbyte[Int8Product.PanelBytes(capacity, dimension)];
        _sums = new int[capacity];
        _scaleOverNorm = new float[capacity];
        _normSquared = new float[capacity];
        Staged = staged;
        _splits = staged ? Int8Product.SplitGroups(dimension) : [];
        _headSums = _splits.Select(_ => new int[capacity]).ToArray();
        _tails = _splits.Select(_ => new float[capacity]).ToArray();
        _tailsOverNorm = _splits.Select(_ => new float[capacity]).ToArray();
    }

    public sbyte[] Values => _q;
    public float[] Scales => _scale;
    public double[] Errors => _error;

    /// <summary>The rows in <see cref="Int8Product"/>'s panel layout.</summary>
    public sbyte[] Panels => _panels;

    /// <summary>Σₖ qₖ of each row.</summary>
    public int[] Sums => _sums;

    /// <summary>s/‖c‖ of each row (0 for a zero row), float32: the cosine factor of <see cref="Int8Product.Scores"/>.</summary>
    public float[] ScaleOverNorm => _scaleOverNorm;

    /// <summary>‖c‖² of each row, float32: the euclidean term of <see cref="Int8Product.Scores"/>.</summary>
    public float[] NormSquared => _normSquared;

    /// <summary>Whether the rows keep what a staged <see cref="Int8Product.Scores{TSink}"/> reads.</summary>
    public bool Staged { get; }

    /// <summary>Σ_{k&lt;4h} qₖ of each row, for split <paramref name="split"/> (h = <see cref="Int8Product.SplitGroups"/>[split]).</summary>
    public int[] HeadSums(int split) => _headSums[split];

    /// <summary>‖c[4h..d)‖₂ of each row as set, rounded up, for split <paramref name="split"/>.</summary>
    public float[] Tails(int split) => _tails[split];

    /// <summary>‖c[4h..d)‖₂/‖c‖ of each row (0 for a zero row), rounded up, for split <paramref name="split"/>.</summary>
    public float[] TailsOverNorm(int split) => _tailsOverNorm[split];

    /// <summary>Records row <paramref name="row"/>'s norm (call after <see cref="Set(int, ReadOnlySpan{double})"/>): the product's factors.</summary>
    public void SetNorm(int row, double norm)
    {
        _scaleOverNorm[row] = norm == 0 ? 0f : (float)(_scale[row] / norm);
        _normSquared[row] = (float)(norm * norm);
        for (int t = 0; t < _splits.Length; t++)
            _tailsOverNorm[t][row] = norm == 0 ? 0f : FloatRounding.Up(_tails[t][row] / norm * (1 + 1e-12));
    }

    public int Dimension => _d;

    public void Resize(int capacity)
    {
        Array.Resize(ref _q, checked(capacity * _d));
        Array.Resize(ref _scale, capacity);
        Array.Resize(ref _error, capacity);
        Array.Resize(ref _panels, Int8Product.PanelBytes(capacity, _d)); // panel-major: growing appends panels
        Array.Resize(ref _sums, capacity);
        Array.Resize(ref _scaleOverNorm, capacity);
        Array.Resize(ref _normSquared, capacity);
        for (int t = 0; t < _splits.Length; t++)
        {
            Array.Resize(ref _headSums[t], capacity);
            Array.Resize(ref _tails[t], capacity);
            Array.Resize(ref _tailsOverNorm[t], capacity);
        }
    }

    public QuantizedRows Clone(int rows, int capacity = -1)
    {
        var c = new QuantizedRows(_d, capacity < 0 ? _scale.Length : Math.Max(capacity, rows), Staged);
        _q.AsSpan(0, rows * _d).CopyTo(c._q);
        _scale.AsSpan(0, rows).CopyTo(c._scale);
        _error.AsSpan(0, rows).CopyTo(c._error);
        _panels.AsSpan(0, Int8Product.PanelBytes(rows, _d)).CopyTo(c._panels);
        _sums.AsSpan(0, rows).CopyTo(c._sums);
        _scaleOverNorm.AsSpan(0, rows).CopyTo(c._scaleOverNorm);
        _normSquared.AsSpan(0, rows).CopyTo(c._normSquared);
        for (int t = 0; t < _splits.Length; t++)
        {
            _headSums[t].AsSpan(0, rows).CopyTo(c._headSums[t]);
            _tails[t].AsSpan(0, rows).CopyTo(c._tails[t]);
            _tailsOverNorm[t].AsSpan(0, rows).CopyTo(c._tailsOverNorm[t]);
        }
        return c;
    }

    /// <summary>Quantizes row <paramref name="row"/> from its float64 values.</summary>
    public void Set(int row, ReadOnlySpan<double> c)
    {
        double max = c.IsEmpty ? 0 : Math.Abs(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(c));
        var q = _q.AsSpan(row * _d, _d);
        float s = (float)(max / 127.0);
        if (s == 0 || !float.IsNormal(s))
        {
            // A zero (or denormal-scale) row: keep it exactly as zero and carry its whole norm as the error.
            q.Clear();
            _scale[row] = 0;
            _error[row] = DistanceKernels.Norm(c);
            _sums[row] = 0;
            SetSplits(row, c, q);
            Int8Product.PackRow(_panels, row, q, _d);
            return;
        }
        double res = 0, qq = 0;
        int sum = 0;
        int k0 = 0;
        if (Vector256.IsHardwareAccelerated && c.Length >= 8)
        {
            // 8 values at a time (one width for AVX2 and AVX-512 machines: a row is quantized once per move).
            var vs = Vector256.Create((double)s);
            var vinv = Vector256.Create(1.0 / s);
            var lo = Vector256.Create(-127.0);
            var hi = Vector256.Create(127.0);
            Vector256<double> vres = default, vqq = default, vsum = default;
            for (; k0 + 8 <= c.Length; k0 += 8)
            {
                var v0 = Vector256.Create(c.Slice(k0, 4));
                var v1 = Vector256.Create(c.Slice(k0 + 4, 4));
                var r0 = Vector256.Min(Vector256.Max(Vector256.Round(v0 * vinv), lo), hi);
                var r1 = Vector256.Min(Vector256.Max(Vector256.Round(v1 * vinv), lo), hi);
                // s·r is exact (a float times an integer below 2^8), so t has one rounding.
                var t0 = v0 - vs * r0;
                var t1 = v1 - vs * r1;
                vres += t0 * t0 + t1 * t1;
                vqq += r0 * r0 + r1 * r1;
                vsum += r0 + r1;
                var ints = Vector256.ConvertToInt32(Vector256.Narrow(r0, r1)); // integers in [-127, 127]: exact as floats
                for (int l = 0; l < 8; l++) q[k0 + l] = (sbyte)ints[l];
            }
            res = Vector256.Sum(vres);
            qq = Vector256.Sum(vqq);
            sum = (int)Vector256.Sum(vsum);
        }
        for (int k = k0; k < c.Length; k++)
        {
            int v = (int)Math.Round(c[k] / s);
            v = Math.Clamp(v, -127, 127);
            q[k] = (sbyte)v;
            double t = c[k] - (double)s * v;
            res += t * t;
            qq += (double)v * v;
            sum += v;
        }
        _scale[row] = s;
        _sums[row] = sum;
        SetSplits(row, c, q);
        Int8Product.PackRow(_panels, row, q, _d);
        // Residual plus float32 accumulation of Σxₖqₖ (γ_d·Σ|xₖqₖ| ≤ γ_d·|x|·|q|), times s, doubled for safety.
        _error[row] = Math.Sqrt(res) + 2.0 * (_d + 2) * Math.ScaleB(1.0, -24) * s * Math.Sqrt(qq) + 1e-12;
    }

    /// <summary>The head sums and tail norms of row <paramref name="row"/> at each split (the tail from the values as
    /// given: a staged product bounds the true dot's tail, not the quantized one's).</summary>
    private void SetSplits(int row, ReadOnlySpan<double> c, ReadOnlySpan<sbyte> q)
    {
        if (_splits.Length == 0) return;
        // One pass each way: head sums forwards, tail sums of squares backwards (the tails' norms from the end, so
        // each split's is one running sum rather than a pass of its own; a relative 1e-12 covers that sum's rounding
        // for any d up to Int8Product.MaxDimension).
        int sum = 0, k = 0;
        for (int t = 0; t < _splits.Length; t++)
        {
            for (int h = 4 * _splits[t]; k < h; k++) sum += q[k];
            _headSums[t][row] = sum;
        }
        double squares = 0;
        k = c.Length;
        for (int t = _splits.Length - 1; t >= 0; t--)
        {
            for (int h = 4 * _splits[t]; k > h; ) { double v = c[--k]; squares += v * v; }
            _tails[t][row] = FloatRounding.Up(Math.Sqrt(squares) * (1 + 1e-9));
        }
    }

    /// <summary>Quantizes row <paramref name="row"/> from float32 values.</summary>
    public void Set(int row, ReadOnlySpan<float> c)
    {
        double[] wide = System.Buffers.ArrayPool<double>.Shared.Rent(c.Length);
        for (int k = 0; k < c.Length; k++) wide[k] = c[k];
        Set(row, wide.AsSpan(0, c.Length));
        System.Buffers.ArrayPool<double>.Shared.Return(wide);
    }

    /// <summary>Σ qxₖ·qₖ for row <paramref name="row"/>, exact (|q| &lt;= 127 on both sides: 127²·d &lt; 2^31 for
    /// d up to <see cref="Int8Product.MaxDimension"/>).</summary>
    public int IntDot(ReadOnlySpan<sbyte> qx, int row)
    {
        var b = _q.AsSpan(row * _d, _d);
        int i = 0, s = 0;
        if (Avx2.IsSupported && b.Length >= 32)
        {
            // Bytes widened to 16 bits and summed in pairs by vpmaddwd: 32 products per two multiplies.
            var a0 = Vector256<int>.Zero; var a1 = Vector256<int>.Zero;
            ref sbyte xa = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(qx);
            ref sbyte ba = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(b);
            for (; i + 32 <= b.Length; i += 32)
            {
                var x0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref xa, (nuint)i));
                var x1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref xa, (nuint)i + 16));
                var c0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ba, (nuint)i));
                var c1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref ba, (nuint)i + 16));
                a0 += Avx2.MultiplyAddAdjacent(x0, c0);
                a1 += Avx2.MultiplyAddAdjacent(x1, c1);
            }
            s = Vector256.Sum(a0 + a1);
        }
        for (; i < b.Length; i++) s += qx[i] * b[i];
        return s;
    }

    /// <summary>Asks the cache for row <paramref name="row"/>'s int8 values (a hint; nothing where SSE is missing).</summary>
    public unsafe void Prefetch(int row)
    {
        if (!Sse.IsSupported) return;
        fixed (sbyte* p = &_q[row * _d])
            for (int k = 0; k < _d; k += 64) Sse.Prefetch0(p + k);
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
