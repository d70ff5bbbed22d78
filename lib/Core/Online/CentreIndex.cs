using System.Runtime.Intrinsics;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// The rows an assigner searches, kept in the forms its screening reads: a float32 copy (for <see cref="Gemm"/>),
/// the float64 norms, and an int8 copy (<see cref="QuantizedRows"/>, for one item at a time). The
/// <see cref="ClusterTables"/> keep one for their centres, refreshed whenever a centre moves or opens; the
/// <see cref="CorePointAssigner"/> builds one of its core points. The float64 truth stays with the owner: an index
/// holds only what screening needs, so every decision is still confirmed with exact distances.
/// </summary>
internal sealed class CentreIndex
{
    private float[] _rows;      // capacity x Dimension
    private double[] _norms;
    private QuantizedRows _quant;
    // Running maxima over every row ever set: never lowered, so they bound every current row (screening thresholds).
    private double _maxNorm, _maxQuantError, _maxQuantErrorOverNorm;

    public CentreIndex(int dimension, int capacity, bool staged = false)
    {
        Dimension = dimension;
        _rows = new float[(long)capacity * dimension];
        _norms = new double[capacity];
        _quant = new QuantizedRows(dimension, capacity, staged);
    }

    private CentreIndex(int dimension, float[] rows, double[] norms, QuantizedRows quant, double maxNorm, double maxQuantError,
        double maxQuantErrorOverNorm)
    {
        Dimension = dimension;
        _rows = rows;
        _norms = norms;
        _quant = quant;
        _maxNorm = maxNorm;
        _maxQuantError = maxQuantError;
        _maxQuantErrorOverNorm = maxQuantErrorOverNorm;
    }

    public int Dimension { get; }

    /// <summary>Rows the arrays have room for.</summary>
    public int Capacity => _norms.Length;

    /// <summary>float32 rows, row-major (only the first rows the owner uses are meaningful).</summary>
    public float[] Rows => _rows;

    /// <summary>float64 norm of each row.</summary>
    public double[] Norms => _norms;

    /// <summary>The int8 copy.</summary>
    public QuantizedRows Quantized => _quant;

    /// <summary>At least the largest norm of any row.</summary>
    public double MaxNorm => _maxNorm;

    /// <summary>At least the largest int8 error bound of any row.</summary>
    public double MaxQuantError => _maxQuantError;

    /// <summary>At least the largest int8 error bound over norm of any non-zero row (the cosine form of the bound).</summary>
    public double MaxQuantErrorOverNorm => _maxQuantErrorOverNorm;

    private void Track(int row)
    {
        double n = _norms[row], e = _quant.Errors[row];
        _maxNorm = Math.Max(_maxNorm, n);
        _maxQuantError = Math.Max(_maxQuantError, e);
        if (n > 0) _maxQuantErrorOverNorm = Math.Max(_maxQuantErrorOverNorm, e / n);
    }

    /// <summary>Grows (or shrinks) the room to <paramref name="capacity"/> rows, keeping the rows already set.</summary>
    public void Resize(int capacity)
    {
        Array.Resize(ref _rows, checked(capacity * Dimension));
        Array.Resize(ref _norms, capacity);
        _quant.Resize(capacity);
    }

    /// <summary>Sets row <paramref name="row"/> from a float64 centre (float32 copy rounded from it, norm of the float64 values).</summary>
    public void Set(int row, ReadOnlySpan<double> centre)
    {
        SetRowAndNorm(row, centre);
        _quant.Set(row, centre);
        _quant.SetNorm(row, _norms[row]);
        Track(row);
    }

    /// <summary>
    /// <see cref="Set(int, ReadOnlySpan{double})"/> without the int8 copy: the float32 row and the norm now, the int8
    /// row later through <see cref="SetQuantized"/>. Until then the row's int8 values, scale and error are stale, so a
    /// caller defers only rows that nothing screens with the int8 copy before it catches up.
    /// </summary>
    public void SetDeferringQuantized(int row, ReadOnlySpan<double> centre)
    {
        SetRowAndNorm(row, centre);
        _maxNorm = Math.Max(_maxNorm, _norms[row]);
    }

    /// <summary>The float32 row (rounded from the float64 centre) and the norm of the float64 values.</summary>
    private void SetRowAndNorm(int row, ReadOnlySpan<double> centre)
    {
        var f = _rows.AsSpan(row * Dimension, Dimension);
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 8 <= centre.Length; k += 8) // the same rounding as the cast, 8 at a time
                Vector256.Narrow(Vector256.Create(centre.Slice(k, 4)), Vector256.Create(centre.Slice(k + 4, 4))).CopyTo(f.Slice(k, 8));
        for (; k < centre.Length; k++) f[k] = (float)centre[k];
        _norms[row] = DistanceKernels.Norm(centre);
    }

    /// <summary>The int8 copy of <paramref name="rows"/> (distinct) from their float64 centres in
    /// <paramref name="centres"/> (row-major), in parallel: each row writes only its own bytes of the panels.</summary>
    public void SetQuantized(int[] rows, double[] centres)
    {
        int d = Dimension;
        var po = new ParallelOptions { MaxDegreeOfParallelism = (long)rows.Length * d < 200_000 ? 1 : Environment.ProcessorCount };
        Parallel.For(0, rows.Length, po, k =>
        {
            int row = rows[k];
            _quant.Set(row, centres.AsSpan(row * d, d));
            _quant.SetNorm(row, _norms[row]);
        });
        foreach (int row in rows) Track(row);
    }

    /// <summary>Sets row <paramref name="row"/> from a float32 point (copied as it is).</summary>
    public void Set(int row, ReadOnlySpan<float> point)
    {
        point.CopyTo(_rows.AsSpan(row * Dimension, Dimension));
        _norms[row] = DistanceKernels.Norm(point);
        _quant.Set(row, point);
        _quant.SetNorm(row, _norms[row]);
        Track(row);
    }

    /// <summary>An independent copy of the first <paramref name="rows"/> rows, with the same capacity or the one given.</summary>
    public CentreIndex Clone(int rows, int capacity = -1)
    {
        capacity = capacity < 0 ? _norms.Length : Math.Max(capacity, rows);
        var f = new float[(long)capacity * Dimension];
        _rows.AsSpan(0, rows * Dimension).CopyTo(f);
        var n = new double[capacity];
        _norms.AsSpan(0, rows).CopyTo(n);
        return new CentreIndex(Dimension, f, n, _quant.Clone(rows, capacity), _maxNorm, _maxQuantError, _maxQuantErrorOverNorm);
    }
}
