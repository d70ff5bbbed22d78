using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Data;

/// <summary>
/// Interop with numpy both ways. Every file under Fixtures/npy was written by Debian's numpy 1.24.2 with
/// tests/Fixtures/npy/make_fixtures.py (rerun it to regenerate; the output is deterministic).
/// </summary>
public sealed class NpyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "npy", name);

    // The same values as VALUES_2D / VALUES_1D / PAIRS in make_fixtures.py.
    private static readonly double[] Values2D = [0.5, -1.25, 3.4028234663852886e38, 1.401298464324817e-45, -0.0, 1.0 / 3.0];
    private static readonly int[] Values1D = [0, -1, 7, 123456, int.MinValue, int.MaxValue, 3];
    private static readonly int[] Pairs = [0, 0, 1, 1, -1, 5, 5, 9, 9, 5];

    private static float[] Values2DAsFloat => Array.ConvertAll(Values2D, v => (float)v);

    // ---------------------------------------------------------------- numpy -> us

    [Fact]
    public void Float32FromNumpyLoadsBitExact()
    {
        var a = Npy.Read<float>(Fixture("f4_3x2.npy"));
        Assert.Equal([3, 2], a.Shape);
        Assert.Equal(Values2DAsFloat.Select(BitConverter.SingleToInt32Bits), a.Data.Select(BitConverter.SingleToInt32Bits));
        Assert.True(float.IsNegative(a.Data[4])); // -0.0 kept
        Assert.True(float.IsSubnormal(a.Data[3]));

        var m = Npy.ReadMatrix(Fixture("f4_3x2.npy"));
        Assert.Equal((3, 2), (m.Count, m.Dimension));
        Assert.Equal(a.Data, m.Data);
    }

    [Fact]
    public void Float64FromNumpyLoadsBitExactAndNarrowsForMatrix()
    {
        var a = Npy.Read<double>(Fixture("f8_3x2.npy"));
        Assert.Equal([3, 2], a.Shape);
        Assert.Equal(Values2D.Select(BitConverter.DoubleToInt64Bits), a.Data.Select(BitConverter.DoubleToInt64Bits));

        var m = Npy.ReadMatrix(Fixture("f8_3x2.npy"));
        Assert.Equal(Values2DAsFloat, m.Data);

        var (data, rows, columns) = Npy.ReadFloat64Matrix(Fixture("f8_3x2.npy"));
        Assert.Equal((3, 2), (rows, columns));
        Assert.Equal(a.Data, data);
        // float32 widened exactly
        Assert.Equal(Values2DAsFloat.Select(v => (double)v), Npy.ReadFloat64Matrix(Fixture("f4_3x2.npy")).Data);
    }

    [Fact]
    public void IntegersFromNumpyLoadExactly()
    {
        var i4 = Npy.Read<int>(Fixture("i4_7.npy"));
        Assert.Equal([7], i4.Shape);
        Assert.Equal(Values1D, i4.Data);

        var i8 = Npy.Read<long>(Fixture("i8_7.npy"));
        Assert.Equal(Values1D.Select(v => (long)v), i8.Data);

        Assert.Equal(Values1D, Npy.ReadLabels(Fixture("i4_7.npy")));
        Assert.Equal(Values1D, Npy.ReadLabels(Fixture("i8_7.npy")));

        var pairs = Npy.ReadInt32Array(Fixture("i4_2x5.npy"));
        Assert.Equal([2, 5], pairs.Shape);
        Assert.Equal(Pairs, pairs.Data);
    }

    [Theory]
    [InlineData("f4_3x2_v1.npy", 1)]
    [InlineData("f4_3x2_v2.npy", 2)]
    [InlineData("f4_3x2_v3.npy", 3)]
    public void EveryFormatVersionLoads(string name, int major)
    {
        var header = Npy.ReadHeader(Fixture(name));
        Assert.Equal((major, 0), header.Version);
        Assert.Equal("<f4", header.Descr);
        Assert.False(header.FortranOrder);
        Assert.Equal(0, header.DataOffset % 64); // numpy aligns the data on 64 bytes in every version
        Assert.Equal(Values2DAsFloat, Npy.ReadMatrix(Fixture(name)).Data);
    }

    [Fact]
    public void ZeroRowArrayLoads()
    {
        var m = Npy.ReadMatrix(Fixture("f4_0x4.npy"));
        Assert.Equal((0, 4), (m.Count, m.Dimension));
        Assert.Empty(m.Data);
        Assert.Equal(0, Npy.ReadHeader(Fixture("f4_0x4.npy")).ElementCount);
    }

    // ---------------------------------------------------------------- us -> numpy

    public static TheoryData<string, string> HeaderCases()
    {
        var data = new TheoryData<string, string>();
        string[] shapes = ["3x2", "10000x512", "7", "0x4", "scalar", "50000x1408", "2x10000", "12x3x4", "0x1x1x1x1x1x1x100x1000x1000x1000"];
        foreach (string descr in new[] { "<f4", "<f8", "<i4", "<i8" })
            foreach (string shape in shapes)
                data.Add(descr, shape);
        return data;
    }

    private static int[] ParseShape(string tag) => tag == "scalar" ? [] : tag.Split('x').Select(int.Parse).ToArray();

    [Theory]
    [MemberData(nameof(HeaderCases))]
    public void HeaderIsByteForByteNumpys(string descr, string shape)
    {
        byte[] numpy = File.ReadAllBytes(Fixture($"hdr_{descr[1..]}_{shape}.bin"));
        Assert.Equal(numpy, Npy.BuildHeader(descr, ParseShape(shape)));
    }

    [Fact]
    public void AlreadyAlignedHeaderGetsAFull64BytesOfPadding()
    {
        // numpy's _wrap_header never pads with 0 spaces: an aligned header gets 64 (this shape is such a case).
        byte[] header = Npy.BuildHeader("<f4", [0, 1, 1, 1, 1, 1, 1, 100, 1000, 1000, 1000]);
        Assert.Equal(192, header.Length);
        Assert.All(header[^65..^1], b => Assert.Equal((byte)' ', b));
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(10000, 512)]
    [InlineData(7)]
    [InlineData(0, 4)]
    public void WrittenFileStartsWithNumpysHeader(params int[] shape)
    {
        string tag = string.Join("x", shape);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        string path = Path.Combine(_dir, $"w_{tag}.npy");
        Npy.Write<float>(path, new float[count], shape);
        byte[] numpy = File.ReadAllBytes(Fixture($"hdr_f4_{tag}.bin"));
        byte[] ours = File.ReadAllBytes(path);
        Assert.Equal(numpy.Length + count * 4, ours.Length);
        Assert.Equal(numpy, ours[..numpy.Length]);
    }

    [Fact]
    public void WrittenFilesAreByteForByteNumpys()
    {
        string f4 = Path.Combine(_dir, "f4.npy"), f8 = Path.Combine(_dir, "f8.npy"), i4 = Path.Combine(_dir, "i4.npy"),
            i8 = Path.Combine(_dir, "i8.npy"), pairs = Path.Combine(_dir, "pairs.npy"), empty = Path.Combine(_dir, "empty.npy");
        Npy.Write(f4, new EmbeddingMatrix(Values2DAsFloat, 3, 2));
        Npy.Write<double>(f8, Values2D, 3, 2);
        Npy.Write(i4, Values1D);
        Npy.Write(i8, Values1D.Select(v => (long)v).ToArray());
        Npy.Write<int>(pairs, Pairs, 2, 5);
        Npy.Write(empty, EmbeddingMatrix.Zeros(0, 4));
        Assert.Equal(File.ReadAllBytes(Fixture("f4_3x2.npy")), File.ReadAllBytes(f4));
        Assert.Equal(File.ReadAllBytes(Fixture("f8_3x2.npy")), File.ReadAllBytes(f8));
        Assert.Equal(File.ReadAllBytes(Fixture("i4_7.npy")), File.ReadAllBytes(i4));
        Assert.Equal(File.ReadAllBytes(Fixture("i8_7.npy")), File.ReadAllBytes(i8));
        Assert.Equal(File.ReadAllBytes(Fixture("i4_2x5.npy")), File.ReadAllBytes(pairs));
        Assert.Equal(File.ReadAllBytes(Fixture("f4_0x4.npy")), File.ReadAllBytes(empty));
    }

    [Fact]
    public void OverwriteIsAtomicAndLeavesNoTemporaryFile()
    {
        string path = Path.Combine(_dir, "m.npy");
        Npy.Write(path, new EmbeddingMatrix([1f, 2f], 1, 2));
        Npy.Write(path, new EmbeddingMatrix([1f, 2f, 3f, 4f, 5f, 6f], 3, 2));
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], Npy.ReadMatrix(path).Data);
        Assert.Equal(["m.npy"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    // ---------------------------------------------------------------- bad files

    [Theory]
    [InlineData("bad_magic.npy", "not a .npy file")]
    [InlineData("bad_version.npy", "version 4.0 is not supported")]
    [InlineData("bad_dtype_f4_big.npy", "'>f4' (big-endian float32, not supported)")]
    [InlineData("bad_dtype_u2.npy", "'<u2' (little-endian uint16, not supported)")]
    [InlineData("bad_fortran.npy", "Fortran (column-major) order is not supported")]
    [InlineData("bad_truncated_data.npy", "needs 152 bytes (data from offset 128); the file has 147 bytes")]
    [InlineData("bad_truncated_header.npy", "claims 118 bytes from offset 10 (to offset 128) but the file has 40 bytes")]
    [InlineData("bad_truncated_prefix.npy", "truncated at offset 7")]
    public void BadFileThrowsInvalidDataNamingTheFile(string name, string expected)
    {
        string path = Fixture(name);
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void WrongKindOfArrayThrowsInvalidData()
    {
        string labels = Fixture("i4_7.npy"), matrix = Fixture("f4_3x2.npy"), vector = Path.Combine(_dir, "v.npy");
        Npy.Write<float>(vector, [1f, 2f], 2);
        var e = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(vector));
        Assert.Contains("shape (2) is not 2-D", e.Message);
        Assert.Contains(vector, e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(labels));
        Assert.Contains("element type '<i4' (little-endian int32); expected '<f4' (float32) or '<f8' (float64)", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.ReadLabels(Fixture("i4_2x5.npy")));
        Assert.Contains("shape (2, 5) is not 1-D", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.ReadLabels(matrix));
        Assert.Contains("element type '<f4' (little-endian float32); expected '<i4' (int32) or '<i8' (int64)", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.Read<float>(labels));
        Assert.Contains("element type '<i4'", e.Message);
        Assert.Contains("expected '<f4'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.ReadInt32Array(matrix));
        Assert.Contains("expected '<i4' (int32) or '<i8' (int64)", e.Message);
        e = Assert.Throws<InvalidDataException>(() => Npy.ReadLabels(Fixture("i8_big_3.npy")));
        Assert.Contains("value 1099511627776 at index 1 does not fit in int32", e.Message);
    }

    [Fact]
    public void MissingFileThrowsFileNotFound()
    {
        string path = Path.Combine(_dir, "nope.npy");
        var e = Assert.Throws<FileNotFoundException>(() => Npy.ReadMatrix(path));
        Assert.Contains(path, e.Message);
    }

    // ---------------------------------------------------------------- bad arguments

    [Fact]
    public void WriteRejectsBadArgumentsNamingTheParameter()
    {
        string path = Path.Combine(_dir, "x.npy");
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => Npy.Write<float>(null!, [1f], 1)).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => Npy.Write<float>("", [1f], 1)).ParamName);
        Assert.Equal("shape", Assert.Throws<ArgumentNullException>(() => Npy.Write<float>(path, [1f], null!)).ParamName);

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => Npy.Write<float>(path, [], 3, -2));
        Assert.Equal("shape", negative.ParamName);
        Assert.Contains("shape[1] = -2", negative.Message);

        var mismatch = Assert.Throws<ArgumentException>(() => Npy.Write<float>(path, [1f, 2f, 3f], 2, 2));
        Assert.Equal("shape", mismatch.ParamName);
        Assert.Contains("shape (2, 2) holds 4 values but data has 3", mismatch.Message);

        var huge = Assert.Throws<ArgumentException>(() => Npy.Write<float>(path, [1f], int.MaxValue, int.MaxValue, int.MaxValue));
        Assert.Contains("more than 2^63", huge.Message);

        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => Npy.Write<int>(path, (int[])null!)).ParamName);
        Assert.Equal("matrix", Assert.Throws<ArgumentNullException>(() => Npy.Write(path, (EmbeddingMatrix)null!)).ParamName);
        var scalar = Assert.Throws<ArgumentException>(() => Npy.Write<float>(path, [1f, 2f]));
        Assert.Equal("shape", scalar.ParamName);
        Assert.Contains("shape () is 0-d (one value) but data has 2 values", scalar.Message);
        Assert.Throws<NotSupportedException>(() => Npy.Write<byte>(path, [1, 2], 2));
        Assert.False(File.Exists(path)); // nothing written by any failed call
    }

    [Fact]
    public void ReadRejectsEmptyPath()
    {
        Assert.Equal("path", Assert.Throws<ArgumentException>(() => Npy.ReadMatrix("")).ParamName);
        Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => Npy.ReadLabels(null!)).ParamName);
    }
}
