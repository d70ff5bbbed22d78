using LabelAssignment.Data;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Data;

public sealed class NpyRoundTripTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Float32MatrixRoundTrips()
    {
        var m = new EmbeddingMatrix([1f, 2f, 3f, 4f, 5f, float.Epsilon], 3, 2);
        string path = Path.Combine(_dir, "m.npy");
        Npy.Write(path, m);
        var back = Npy.ReadMatrix(path);
        Assert.Equal(3, back.Count);
        Assert.Equal(2, back.Dimension);
        Assert.Equal(m.Data, back.Data);
        Assert.Equal(128 + 24, new FileInfo(path).Length); // 128-byte header (numpy's padding for this shape) + 6 floats
    }
}
