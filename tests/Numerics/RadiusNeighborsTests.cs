using LabelAssignment.Tests.Oracles;
using LabelAssignment.Tests.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Numerics;

public class RadiusNeighborsTests
{
    private static EmbeddingMatrix Random(int seed, int n, int d)
    {
        var rng = new Random(seed);
        var x = EmbeddingMatrix.Zeros(n, d);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 0.3, 5)]
    [InlineData(DistanceMetric.Cosine, 0.8, 64)]
    [InlineData(DistanceMetric.Euclidean, 1.0, 5)]
    [InlineData(DistanceMetric.Euclidean, 1.5, 13)]
    public void Compute_EqualsBruteForcePairs_ForAnyBlockSize(DistanceMetric metric, double radius, int block)
    {
        var x = Random(17, 150, 6);
        var expected = DbscanOracle.Neighborhoods(x, radius, metric);
        var graph = RadiusNeighbors.ComputeCore(x, radius, metric, block, null, default);
        long pairs = 0;
        for (int i = 0; i < x.Count; i++)
        {
            var want = expected[i].Where(j => j != i).ToArray();   // ascending, without i
            Assert.Equal(want, graph.Neighbors(i).ToArray());
            Assert.Equal(want.Length, graph.Degree(i));
            pairs += want.Length;
        }
        Assert.Equal(pairs / 2, graph.PairCount);
        Assert.True(graph.PairCount > 0 && graph.PairCount < 150L * 149 / 2, "the case must have both kinds of pair");
    }

    [Fact]
    public void Compute_SameResultForEveryBlockSize()
    {
        var x = Random(5, 300, 12);
        var reference = RadiusNeighbors.ComputeCore(x, 0.7, DistanceMetric.Cosine, 300, null, default);
        foreach (int block in new[] { 1, 16, 97, 128 })
        {
            var g = RadiusNeighbors.ComputeCore(x, 0.7, DistanceMetric.Cosine, block, null, default);
            Assert.Equal(reference.Offsets, g.Offsets);
            Assert.Equal(reference.Indices, g.Indices);
        }
    }

    [Fact]
    public void Compute_PairExactlyOnTheRadius_IsIncluded()
    {
        // 3-4-5 triangle: |(0,0) - (3,4)| = 5 exactly.
        var x = new EmbeddingMatrix([0, 0, 3, 4, 10, 10], 3, 2);
        var g = RadiusNeighbors.Compute(x, 5.0, DistanceMetric.Euclidean);
        Assert.Equal([1], g.Neighbors(0).ToArray());
        Assert.Equal(1, g.PairCount);
        Assert.Equal(0, RadiusNeighbors.Compute(x, 4.999999, DistanceMetric.Euclidean).PairCount);
    }

    [Fact]
    public void Compute_CosineNearTheBoundary_DecidedInDoublePrecision()
    {
        // Unit vectors at angles θ with 1 - cos θ just below and just above the radius (by 1e-7, under float32's
        // resolution of the dot product near 1): the double-precision recheck must separate them.
        double r = 0.01;
        double below = Math.Acos(1 - r + 1e-7), above = Math.Acos(1 - r - 1e-7);
        float[] data = [1, 0, (float)Math.Cos(below), (float)Math.Sin(below), (float)Math.Cos(-above), (float)Math.Sin(-above)];
        var x = new EmbeddingMatrix(data, 3, 2);
        var expected = DbscanOracle.Neighborhoods(x, r, DistanceMetric.Cosine);
        var g = RadiusNeighbors.Compute(x, r, DistanceMetric.Cosine);
        for (int i = 0; i < 3; i++)
            Assert.Equal(expected[i].Where(j => j != i).ToArray(), g.Neighbors(i).ToArray());
        Assert.Contains(1, g.Neighbors(0).ToArray());
        Assert.DoesNotContain(2, g.Neighbors(0).ToArray());
    }

    [Fact]
    public void Compute_BadInput_NamesTheParameter()
    {
        var x = Random(1, 10, 3);
        Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => RadiusNeighbors.Compute(x, 0, DistanceMetric.Cosine)).ParamName);
        Assert.Equal("radius", Assert.Throws<ArgumentOutOfRangeException>(() => RadiusNeighbors.Compute(x, double.NaN, DistanceMetric.Cosine)).ParamName);
        Assert.Equal("metric", Assert.Throws<ArgumentOutOfRangeException>(() => RadiusNeighbors.Compute(x, 0.1, (DistanceMetric)9)).ParamName);
        x.Row(3).Clear();
        Assert.Contains("row 3 is a zero vector", Assert.Throws<ArgumentException>(() => RadiusNeighbors.Compute(x, 0.1, DistanceMetric.Cosine)).Message);
        Assert.Equal(0, RadiusNeighbors.Compute(EmbeddingMatrix.Zeros(0, 3), 0.1, DistanceMetric.Euclidean).Count);
        Assert.Throws<ArgumentNullException>(() => RadiusNeighbors.Compute(null!, 0.1, DistanceMetric.Cosine));
    }

    [Fact]
    public void NeighborGraph_RejectsInconsistentArrays()
    {
        Assert.Throws<ArgumentException>(() => new NeighborGraph([0, 2], [1]));
        var g = new NeighborGraph([0, 1, 2], [1, 0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.Neighbors(2));
        Assert.Equal(1, g.PairCount);
    }
}
