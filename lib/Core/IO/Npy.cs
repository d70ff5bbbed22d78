using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using LabelAssignment.Numerics;

namespace LabelAssignment.IO;

/// <summary>The parsed header of a .npy file: element type, layout, shape and where the data starts.</summary>
/// <param name="Descr">numpy's type string, e.g. <c>&lt;f4</c>.</param>
/// <param name="FortranOrder">True for column-major data (not supported for reading values).</param>
/// <param name="Shape">Dimensions; empty for a 0-d array.</param>
/// <param name="DataOffset">Byte offset of the first element.</param>
/// <param name="Version">Format version as (major, minor).</param>
public sealed record NpyHeader(string Descr, bool FortranOrder, int[] Shape, long DataOffset, (int Major, int Minor) Version)
{
    /// <summary>Number of elements (product of the shape; 1 for a 0-d array; long.MaxValue if it would overflow).</summary>
    public long ElementCount
    {
        get
        {
            if (Shape.Contains(0)) return 0;
            long count = 1;
            foreach (int s in Shape)
                count = count > long.MaxValue / s ? long.MaxValue : count * s;
            return count;
        }
    }
}

/// <summary>An array read from a .npy file: the values in C order and the shape.</summary>
public sealed record NpyArray<T>(T[] Data, int[] Shape) where T : unmanaged;

/// <summary>
/// Reads and writes numpy's .npy format (versions 1.0 to 3.0 on read; 1.0, or 2.0 when the header needs it, on
/// write) so that embeddings, labels and cost matrices pass between this library and numpy/pandas unchanged.
/// Supported element types: little-endian float32, float64, int32, int64; C order only.
/// Corrupt files throw <see cref="InvalidDataException"/> naming the file.
/// </summary>
public static class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy pads the header so that the data starts on a multiple of 64 bytes, and leaves room for the first
    // axis to grow to 21 digits (numpy/lib/format.py: ARRAY_ALIGN, GROWTH_AXIS_MAX_DIGITS).
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>The numpy type string of <typeparamref name="T"/> (little-endian).</summary>
    public static string DescrOf<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? "<f4"
        : typeof(T) == typeof(double) ? "<f8"
        : typeof(T) == typeof(int) ? "<i4"
        : typeof(T) == typeof(long) ? "<i8"
        : throw new NotSupportedException($"element type {typeof(T).Name} is not supported; use float, double, int or long.");

    /// <summary>Reads only the header of <paramref name="path"/>.</summary>
    public static NpyHeader ReadHeader(string path)
    {
        using var stream = OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>
    /// Reads an array whose element type is exactly <typeparamref name="T"/>; any other type, Fortran order,
    /// a bad magic or missing bytes throw <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    public static NpyArray<T> Read<T>(string path) where T : unmanaged
    {
        using var stream = OpenRead(path);
        return Read<T>(stream, path);
    }

    /// <summary>The same from <paramref name="stream"/>, read once and in order from its current position (it needs
    /// Length; Position is only ever set to where it already is); <paramref name="path"/> names it in errors.</summary>
    internal static NpyArray<T> Read<T>(Stream stream, string path) where T : unmanaged
    {
        string want = DescrOf<T>();
        var header = ReadHeader(stream, path);
        if (header.Descr != want)
            throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '{want}' ({Describe(want)}).");
        return new NpyArray<T>(ReadData<T>(stream, header, path), header.Shape);
    }

    /// <summary>Reads a 2-D float32 array (float64 is narrowed to float32) as an <see cref="EmbeddingMatrix"/>.</summary>
    /// <exception cref="InvalidDataException">Among others: a finite float64 value beyond float32's range (it would
    /// become infinity), named with the file, its row and column, and the value.</exception>
    public static EmbeddingMatrix ReadMatrix(string path)
    {
        using var stream = OpenRead(path);
        return ReadMatrix(stream, path);
    }

    /// <summary>The same from <paramref name="stream"/>, read once and in order from its current position (it needs
    /// Length; Position is only ever set to where it already is); <paramref name="path"/> names it in errors.</summary>
    internal static EmbeddingMatrix ReadMatrix(Stream stream, string path)
    {
        var header = ReadHeader(stream, path);
        if (header.Descr is not ("<f4" or "<f8"))
            throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<f4' (float32) or '<f8' (float64).");
        if (header.Shape.Length != 2)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", header.Shape)}) is not 2-D; expected (rows, dimension).");
        if (header.Shape[1] == 0)
            throw new InvalidDataException($"{path}: shape ({header.Shape[0]}, 0) has no columns; expected a dimension >= 1.");
        float[] data = header.Descr switch
        {
            "<f4" => ReadData<float>(stream, header, path),
            "<f8" => NarrowToFloat32(ReadData<double>(stream, header, path), header.Shape[1], path),
            _ => throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<f4' (float32) or '<f8' (float64)."),
        };
        return new EmbeddingMatrix(data, header.Shape[0], header.Shape[1]);
    }

    /// <summary>
    /// float64 to float32, refusing a finite value beyond float32's range (it would silently become infinity).
    /// NaN and infinities stay what they are; values too small for float32 round towards 0 as any rounding does.
    /// </summary>
    private static float[] NarrowToFloat32(double[] values, int columns, string path)
    {
        var result = new float[values.Length];
        for (int k = 0; k < values.Length; k++)
        {
            double v = values[k];
            float f = (float)v;
            if (float.IsInfinity(f) && double.IsFinite(v))
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: the float64 value {v:R} at row {k / columns}, column {k % columns} (flat index {k}) is beyond float32's range " +
                    $"(±{float.MaxValue:R}); it would become infinity. Rescale the data or keep it in float64."));
            result[k] = f;
        }
        return result;
    }

    /// <summary>Reads a 1-D int32 or int64 array (int64 must fit in int32) as labels or ids.</summary>
    public static int[] ReadLabels(string path)
    {
        using var stream = OpenRead(path);
        return ReadLabels(stream, path);
    }

    /// <summary>The same from <paramref name="stream"/>, read once and in order from its current position (it needs
    /// Length; Position is only ever set to where it already is); <paramref name="path"/> names it in errors.</summary>
    internal static int[] ReadLabels(Stream stream, string path)
    {
        var header = ReadHeader(stream, path);
        if (header.Descr is not ("<i4" or "<i8"))
            throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<i4' (int32) or '<i8' (int64).");
        if (header.Shape.Length != 1)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", header.Shape)}) is not 1-D; expected (n,).");
        return ToInt32(stream, header, path);
    }

    /// <summary>Reads a 1-D int64 or int32 array (int32 is widened) as item ids: files written before ids were
    /// int64 still read.</summary>
    public static long[] ReadItemIds(string path)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        if (header.Shape.Length != 1)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", header.Shape)}) is not 1-D; expected (n,).");
        return header.Descr switch
        {
            "<i8" => ReadData<long>(stream, header, path),
            "<i4" => Array.ConvertAll(ReadData<int>(stream, header, path), v => (long)v),
            _ => throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<i8' (int64) or '<i4' (int32)."),
        };
    }

    /// <summary>Reads a 2-D float64 array (float32 is widened), e.g. a cost matrix, as (values, rows, columns).</summary>
    public static (double[] Data, int Rows, int Columns) ReadFloat64Matrix(string path)
    {
        using var stream = OpenRead(path);
        return ReadFloat64Matrix(stream, path);
    }

    /// <summary>The same from <paramref name="stream"/>, read once and in order from its current position (it needs
    /// Length; Position is only ever set to where it already is); <paramref name="path"/> names it in errors.</summary>
    internal static (double[] Data, int Rows, int Columns) ReadFloat64Matrix(Stream stream, string path)
    {
        var header = ReadHeader(stream, path);
        if (header.Shape.Length != 2)
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", header.Shape)}) is not 2-D; expected (rows, columns).");
        double[] data = header.Descr switch
        {
            "<f8" => ReadData<double>(stream, header, path),
            "<f4" => Array.ConvertAll(ReadData<float>(stream, header, path), v => (double)v),
            _ => throw new InvalidDataException(
                $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<f8' (float64) or '<f4' (float32)."),
        };
        return (data, header.Shape[0], header.Shape[1]);
    }

    /// <summary>Reads a 2-D int32 or int64 array (e.g. label pairs of shape (2, n)) as int32 values and the shape.</summary>
    public static NpyArray<int> ReadInt32Array(string path)
    {
        using var stream = OpenRead(path);
        var header = ReadHeader(stream, path);
        return new NpyArray<int>(ToInt32(stream, header, path), header.Shape);
    }

    /// <summary>
    /// Writes <paramref name="data"/> with the given C-order <paramref name="shape"/> atomically, with exactly the
    /// header numpy writes for the same array (format 1.0, or 2.0 when the header needs more than 65535 bytes).
    /// </summary>
    /// <exception cref="ArgumentException">An empty path, a negative dimension, or a shape whose element count
    /// is not <c>data.Length</c>; the message names the parameter and the values.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double, int or long.</exception>
    public static unsafe void Write<T>(string path, ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(shape);
        string descr = DescrOf<T>();
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
                throw new ArgumentOutOfRangeException(nameof(shape), shape[i],
                    $"shape[{i}] = {shape[i]} in shape ({string.Join(", ", shape)}); every dimension must be >= 0.");
            count = count > long.MaxValue / Math.Max(shape[i], 1) ? long.MaxValue : count * shape[i];
        }
        if (count != data.Length && shape.Length == 0)
            throw new ArgumentException(
                $"shape () is 0-d (one value) but data has {data.Length} values; pass the shape, e.g. ({data.Length}) for 1-D.",
                nameof(shape));
        if (count != data.Length)
            throw new ArgumentException(
                $"shape ({string.Join(", ", shape)}) holds {(count == long.MaxValue ? "more than 2^63" : count.ToString(CultureInfo.InvariantCulture))} values but data has {data.Length}; expected equal counts.",
                nameof(shape));
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("writing .npy on a big-endian machine is not supported.");
        byte[] header = BuildHeader(descr, shape);
        long byteCount = (long)data.Length * sizeof(T);
        // Pin instead of copying: an embedding file can be hundreds of MB; the write is synchronous, so the
        // pointer stays valid for the whole callback.
        fixed (T* pointer = data)
        {
            nint address = (nint)pointer;
            AtomicFile.Write(path, s =>
            {
                s.Write(header);
                for (long at = 0; at < byteCount; at += 1 << 30)
                    s.Write(new ReadOnlySpan<byte>((byte*)address + at, (int)Math.Min(1 << 30, byteCount - at)));
            });
        }
    }

    /// <summary>Writes a 1-D array.</summary>
    public static void Write<T>(string path, T[] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        Write(path, (ReadOnlySpan<T>)data, data.Length);
    }

    /// <summary>Writes an embedding matrix as float32 (rows, dimension).</summary>
    public static void Write(string path, EmbeddingMatrix matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Write(path, (ReadOnlySpan<float>)matrix.Data, matrix.Count, matrix.Dimension);
    }

    /// <summary>The exact header bytes numpy 1.24+ writes for this type and shape (version 1.0 unless too long).</summary>
    internal static byte[] BuildHeader(string descr, int[] shape)
    {
        string shapeText = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0]},)",
            _ => "(" + string.Join(", ", shape) + ")",
        };
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        if (shape.Length > 0)
            dict += new string(' ', Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));
        foreach (var (major, lengthBytes) in new[] { (1, 2), (2, 4) })
        {
            int hlen = dict.Length + 1; // + '\n'
            // As numpy's _wrap_header: an already aligned header still gets a full ArrayAlign spaces, never 0.
            int pad = ArrayAlign - ((Magic.Length + 2 + lengthBytes + hlen) % ArrayAlign);
            int total = hlen + pad;
            if (lengthBytes == 2 && total > ushort.MaxValue)
                continue;
            var result = new byte[Magic.Length + 2 + lengthBytes + total];
            Magic.CopyTo(result, 0);
            result[6] = (byte)major;
            result[7] = 0;
            if (lengthBytes == 2)
                BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)total);
            else
                BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)total);
            int at = Magic.Length + 2 + lengthBytes;
            Encoding.ASCII.GetBytes(dict, result.AsSpan(at));
            result.AsSpan(at + dict.Length, pad).Fill((byte)' ');
            result[^1] = (byte)'\n';
            return result;
        }
        throw new ArgumentException($"shape has {shape.Length} dimensions: the header is too long for the .npy format.", nameof(shape));
    }

    private static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such .npy file.", path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
    }

    private static readonly Regex DescrRx = new(@"'descr'\s*:\s*'([^']*)'", RegexOptions.CultureInvariant);
    private static readonly Regex FortranRx = new(@"'fortran_order'\s*:\s*(True|False)", RegexOptions.CultureInvariant);
    private static readonly Regex ShapeRx = new(@"'shape'\s*:\s*\(([^)]*)\)", RegexOptions.CultureInvariant);

    private static NpyHeader ReadHeader(Stream stream, string path)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..8], 8, throwOnEndOfStream: false);
        int magicSeen = Math.Min(got, Magic.Length);
        if (!prefix[..magicSeen].SequenceEqual(Magic.AsSpan(0, magicSeen)) || got == 0)
            throw new InvalidDataException($"{path}: not a .npy file (the first 6 bytes are not \\x93NUMPY).");
        if (got < 8)
            throw new InvalidDataException(
                $"{path}: truncated at offset {got}: the file has {stream.Length} bytes, fewer than the 8-byte magic and version.");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new InvalidDataException($"{path}: .npy format version {major}.{minor} is not supported; expected 1.0, 2.0 or 3.0.");
        int lengthBytes = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(prefix.Slice(8, lengthBytes), lengthBytes, throwOnEndOfStream: false) < lengthBytes)
            throw new InvalidDataException(
                $"{path}: truncated at offset {stream.Length}: the {lengthBytes}-byte header length at offset 8 is missing.");
        long headerLength = lengthBytes == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        long dataOffset = 8 + lengthBytes + headerLength;
        if (dataOffset > stream.Length)
            throw new InvalidDataException(
                $"{path}: truncated header: it claims {headerLength} bytes from offset {8 + lengthBytes} (to offset {dataOffset}) but the file has {stream.Length} bytes.");
        if (headerLength > 1 << 24)
            throw new InvalidDataException($"{path}: header length {headerLength} is implausibly large (more than 16 MiB); the file is corrupt.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);

        var descr = DescrRx.Match(text);
        var fortran = FortranRx.Match(text);
        var shape = ShapeRx.Match(text);
        if (!descr.Success || !fortran.Success || !shape.Success)
            throw new InvalidDataException($"{path}: malformed .npy header {text.Trim()}: expected 'descr', 'fortran_order' and 'shape'.");
        var dims = new List<int>();
        foreach (string part in shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string digits = part.TrimEnd('L'); // Python 2 wrote longs as 10L
            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int dim))
                throw new InvalidDataException($"{path}: shape entry '{part}' is not a dimension this reader supports (0 to {int.MaxValue}).");
            dims.Add(dim);
        }
        var header = new NpyHeader(descr.Groups[1].Value, fortran.Groups[1].Value == "True", [.. dims], dataOffset, (major, minor));
        if (header.FortranOrder && dims.Count > 1)
            throw new InvalidDataException($"{path}: Fortran (column-major) order is not supported; save with np.ascontiguousarray first.");
        return header;
    }

    private static T[] ReadData<T>(Stream stream, NpyHeader header, string path) where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        long count = header.ElementCount;
        if (count > Array.MaxLength)
            throw new InvalidDataException($"{path}: {count} elements is more than one array can hold.");
        long need = header.DataOffset + count * size;
        if (stream.Length < need)
            throw new InvalidDataException(
                $"{path}: truncated data: shape ({string.Join(", ", header.Shape)}) of '{header.Descr}' needs {need} bytes (data from offset {header.DataOffset}); the file has {stream.Length} bytes, so it ends at offset {stream.Length}, {need - stream.Length} bytes short.");
        var data = new T[count];
        stream.Position = header.DataOffset;
        stream.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
        return data;
    }

    private static int[] ToInt32(Stream stream, NpyHeader header, string path)
    {
        switch (header.Descr)
        {
            case "<i4":
                return ReadData<int>(stream, header, path);
            case "<i8":
                var wide = ReadData<long>(stream, header, path);
                var narrow = new int[wide.Length];
                for (int i = 0; i < wide.Length; i++)
                {
                    if (wide[i] is < int.MinValue or > int.MaxValue)
                        throw new InvalidDataException($"{path}: value {wide[i]} at index {i} does not fit in int32.");
                    narrow[i] = (int)wide[i];
                }
                return narrow;
            default:
                throw new InvalidDataException(
                    $"{path}: element type '{header.Descr}' ({Describe(header.Descr)}); expected '<i4' (int32) or '<i8' (int64).");
        }
    }

    private static string Describe(string descr)
    {
        if (descr is "<f4" or "<f8" or "<i4" or "<i8")
            return $"little-endian {Name(descr[1], descr[2..])}";
        if (descr.Length < 2)
            return "not supported";
        string order = descr[0] switch { '>' => "big-endian ", '<' => "little-endian ", _ => "" };
        return $"{order}{Name(descr[1], descr[2..])}, not supported";

        static string Name(char kind, string size)
        {
            bool bytes = int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out int n);
            return kind switch
            {
                'f' when bytes => $"float{8 * n}",
                'i' when bytes => $"int{8 * n}",
                'u' when bytes => $"uint{8 * n}",
                'c' when bytes => $"complex{8 * n}",
                'b' => "bool",
                'U' => "unicode string",
                'S' => "byte string",
                'O' => "Python object",
                _ => $"type '{kind}{size}'",
            };
        }
    }
}
