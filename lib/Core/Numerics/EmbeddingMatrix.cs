namespace LabelAssignment.Numerics;

/// <summary>
/// A dense row-major matrix of float32 embeddings: <see cref="Count"/> rows of <see cref="Dimension"/> values.
/// The one in-memory shape every algorithm in the library takes, so that a .npy file, an ONNX output and a
/// notebook array all pass through without copies.
/// </summary>
public sealed class EmbeddingMatrix
{
    /// <summary>The values, row after row: element (i, j) is at <c>i * Dimension + j</c>.</summary>
    public float[] Data { get; }

    /// <summary>Number of rows (items).</summary>
    public int Count { get; }

    /// <summary>Number of columns (embedding dimension).</summary>
    public int Dimension { get; }

    /// <summary>Wraps <paramref name="data"/> (not copied) as <paramref name="count"/> x <paramref name="dimension"/>.</summary>
    public EmbeddingMatrix(float[] data, int count, int dimension)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 0.");
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be >= 1.");
        if ((long)count * dimension != data.LongLength)
            throw new ArgumentException(
                $"data has {data.LongLength} values but count={count} x dimension={dimension} needs {(long)count * dimension}.",
                nameof(data));
        Data = data;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>A zero-filled matrix of the given shape.</summary>
    public static EmbeddingMatrix Zeros(int count, int dimension)
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 0.");
        if (dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be >= 1.");
        return new EmbeddingMatrix(new float[checked(count * dimension)], count, dimension);
    }

    /// <summary>Copies jagged rows (all of one length) into a matrix.</summary>
    public static EmbeddingMatrix FromRows(IReadOnlyList<float[]> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
            throw new ArgumentException("rows is empty: need at least one row to know the dimension.", nameof(rows));
        int d = rows[0].Length;
        var m = Zeros(rows.Count, d);
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != d)
                throw new ArgumentException($"rows[{i}] has {rows[i].Length} values; rows[0] has {d}.", nameof(rows));
            rows[i].CopyTo(m.Data, (long)i * d);
        }
        return m;
    }

    /// <summary>Row <paramref name="i"/> as a writable span of length <see cref="Dimension"/>.</summary>
    public Span<float> Row(int i)
    {
        if ((uint)i >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"row index must be in [0, {Count}).");
        return Data.AsSpan(i * Dimension, Dimension);
    }

    /// <summary>A new matrix holding the rows at <paramref name="indices"/>, in that order.</summary>
    public EmbeddingMatrix SelectRows(ReadOnlySpan<int> indices)
    {
        var m = Zeros(indices.Length, Dimension);
        for (int k = 0; k < indices.Length; k++)
            Row(indices[k]).CopyTo(m.Data.AsSpan(k * Dimension, Dimension));
        return m;
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first row and column holding NaN or infinity.
    /// </summary>
    public void EnsureFinite(string parameterName)
    {
        var data = Data;
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
                throw new ArgumentException(
                    $"{parameterName} holds {data[i]} at row {i / Dimension}, column {i % Dimension}: embeddings must be finite.",
                    parameterName);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"EmbeddingMatrix[{Count} x {Dimension}]";

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming <paramref name="parameterName"/>, the row and the column when a
    /// value of the first <paramref name="rows"/> rows of <paramref name="data"/> is NaN or infinite, or (for cosine,
    /// where a zero vector has no direction) when a row is exactly zero. A row of tiny values (say 1e-30) is not zero:
    /// its direction is well defined and the float64 norms used for cosine do not underflow.
    /// </summary>
    public static void ValidateRows(ReadOnlySpan<float> data, int rows, int d, DistanceMetric metric, string parameterName)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = data.Slice(i * d, d);
            bool zero = true;
            for (int k = 0; k < d; k++)
            {
                float v = row[k];
                if (!float.IsFinite(v))
                    throw new ArgumentException($"{parameterName} holds {v} at row {i}, column {k}: embeddings must be finite.", parameterName);
                if (v != 0) zero = false;
            }
            // Only an exactly zero row: norms are taken in float64 (DistanceKernels.Norm), where the squares of any
            // nonzero float32 (down to 1.4e-45) stay normal, so a tiny row's norm never underflows to 0.
            if (zero && metric == DistanceMetric.Cosine)
                throw new ArgumentException(
                    $"{parameterName} row {i} is the zero vector (all {d} values are exactly 0): it has no direction, so its cosine distance is undefined.",
                    parameterName);
        }
    }
}
