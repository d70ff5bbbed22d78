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
    public void AgreesWithAPlainDoubleLoopOnRandomCentres()
    {
        var rng = new Random(8);
        int m = 7, n = 9, d = 512;
        var a = EmbeddingMatrix.Zeros(m, d);
        var b = EmbeddingMatrix.Zeros(n, d);
        for (int k = 0; k < a.Data.Length; k++) a.Data[k] = (float)(rng.NextDouble() - 0.3);
        for (int k = 0; k < b.Data.Length; k++) b.Data[k] = (float)(rng.NextDouble() - 0.3);
        var eu = CentroidMatcher.Compute(a, Enumerable.Range(0, m).ToArray(), b, Enumerable.Range(100, n).ToArray());
        var co = CentroidMatcher.Compute(a, Enumerable.Range(0, m).ToArray(), b, Enumerable.Range(100, n).ToArray(), DistanceMetric.Cosine);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double ss = 0, dot = 0, na = 0, nb = 0;
            for (int k = 0; k < d; k++)
            {
                double x = a.Data[i * d + k], y = b.Data[j * d + k];
                ss += (x - y) * (x - y); dot += x * y; na += x * x; nb += y * y;
            }
            Assert.Equal(Math.Sqrt(ss), eu.Distance(i, j), 1e-4 * Math.Sqrt(ss));
            Assert.Equal(Math.Clamp(1 - Math.Sqrt(ss) / (2 * Math.Sqrt(Math.Max(na, nb))), 0, 1), eu.Similarity(i, j), 1e-5);
            double cos = dot / Math.Sqrt(na * nb);
            Assert.Equal(1 - cos, co.Distance(i, j), 1e-5);
            Assert.Equal(Math.Max(0, cos), co.Similarity(i, j), 1e-5);
        }
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
