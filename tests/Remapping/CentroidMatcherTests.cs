using LabelAssignment.Numerics;
using LabelAssignment.Remapping;

namespace LabelAssignment.Tests.Remapping;

public sealed class CentroidMatcherTests
{
    private static EmbeddingMatrix M(params float[][] rows) => EmbeddingMatrix.FromRows(rows);

    [Fact]
    public void EuclideanDistancesAndTheArticlesSimilarity()
    {
        var old = M([3, 4], [0, 0]);
        var now = M([3, 4], [6, 8], [0, 1]);
        var d = CentroidMatcher.Compute(old, [10, 11], now, [0, 1, 2]);
        Assert.Equal(DistanceMetric.Euclidean, d.Metric);
        Assert.Equal(0.0, d.Distance(0, 0), 6);
        Assert.Equal(1.0, d.Similarity(0, 0), 6);
        Assert.Equal(5.0, d.Distance(0, 1), 5);                      // |(3,4)-(6,8)| = 5
        Assert.Equal(1 - 5.0 / (2 * 10), d.Similarity(0, 1), 6);     // max norm 10: 1 - 5/20 = 0.75
        Assert.Equal(Math.Sqrt(9 + 9), d.Distance(0, 2), 5);         // (3,4)-(0,1)
        Assert.Equal(1 - Math.Sqrt(18) / 10, d.Similarity(0, 2), 6);
        Assert.Equal(1.0, d.Distance(1, 2), 6);                      // zero vs (0,1): 1 - 1/2
        Assert.Equal(0.5, d.Similarity(1, 2), 6);
        Assert.Equal([10, 11], d.OldClusterIds);
    }

    [Fact]
    public void CosineDistancesAndSimilarityClippedAtZero()
    {
        var old = M([1, 0], [1, 1]);
        var now = M([2, 0], [-1, 0], [0, 3]);
        var d = CentroidMatcher.Compute(old, [0, 1], now, [0, 1, 2], DistanceMetric.Cosine);
        Assert.Equal(0.0, d.Distance(0, 0), 6);
        Assert.Equal(1.0, d.Similarity(0, 0), 6);
        Assert.Equal(2.0, d.Distance(0, 1), 6);                      // opposite directions
        Assert.Equal(0.0, d.Similarity(0, 1));                       // clipped, not -1
        Assert.Equal(1 - Math.Sqrt(0.5), d.Distance(1, 2), 6);       // 45 degrees
        Assert.Equal(Math.Sqrt(0.5), d.Similarity(1, 2), 6);
        Assert.Equal(0.25, CentroidMatcher.Similarity(DistanceMetric.Cosine, 0.75));
        Assert.Equal(0.75, CentroidMatcher.Similarity(DistanceMetric.Euclidean, 5, 10, 4));
    }

    [Fact]
    public void BadInputGetsAClearError()
    {
        var a = M([1, 2, 3]);
        var e = Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(a, [0], M([1, 2]), [0]));
        Assert.Contains("dimension 2 but oldCentres has 3", e.Message);
        Assert.Contains("2 ids but oldCentres has 1 rows", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(a, [0, 1], a, [0])).Message);
        Assert.Contains("cluster ID 4 twice", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(M([1, 2, 3], [2, 3, 4]), [4, 4], a, [0])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Compute(a, [-1], a, [0]));
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(a, [0], M([0, 0, 0]), [0], DistanceMetric.Cosine)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(a, [0], M([0, float.NaN, 0]), [0])).Message);
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(EmbeddingMatrix.Zeros(0, 3), [], a, [0])).Message);
    }
}
