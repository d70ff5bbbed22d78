using LabelAssignment.Numerics;
using LabelAssignment.Remapping;

namespace LabelAssignment.Tests.Remapping;

public sealed class CentroidMatcherTests
{
    private static EmbeddingMatrix M(params float[][] rows) => EmbeddingMatrix.FromRows(rows);

    private static ClusterCentres C(EmbeddingMatrix centres, params int[] ids) => new(centres, ids);

    [Fact]
    public void EuclideanDistancesAndTheArticlesSimilarity()
    {
        var old = M([3, 4], [0, 0]);
        var now = M([3, 4], [6, 8], [0, 1]);
        var d = CentroidMatcher.Compute(C(old, 10, 11), C(now, 0, 1, 2), DistanceMetric.Euclidean);
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
        var d = CentroidMatcher.Compute(C(old, 0, 1), C(now, 0, 1, 2), DistanceMetric.Cosine);
        Assert.Equal(0.0, d.Distance(0, 0), 6);
        Assert.Equal(1.0, d.Similarity(0, 0), 6);
        Assert.Equal(2.0, d.Distance(0, 1), 6);                      // opposite directions
        Assert.Equal(0.0, d.Similarity(0, 1));                       // clipped, not -1
        Assert.Equal(1 - Math.Sqrt(0.5), d.Distance(1, 2), 6);       // 45 degrees
        Assert.Equal(Math.Sqrt(0.5), d.Similarity(1, 2), 6);
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
        var eu = CentroidMatcher.Compute(C(a, Enumerable.Range(0, m).ToArray()), C(b, Enumerable.Range(100, n).ToArray()), DistanceMetric.Euclidean);
        var co = CentroidMatcher.Compute(C(a, Enumerable.Range(0, m).ToArray()), C(b, Enumerable.Range(100, n).ToArray()), DistanceMetric.Cosine);
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
    public void SimilarityFromADistanceNeedsBothNorms()
    {
        // a = (3, 0), b = (0, 4): ||a - b|| = 5, norms 3 and 4, so 1 - 5 / (2 * 4) = 0.375.
        Assert.Equal(0.375, CentroidMatcher.Similarity(DistanceMetric.Euclidean, 5, 3, 4), 15);
        var d = CentroidMatcher.Compute(C(M([3, 0]), 0), C(M([0, 4]), 0), DistanceMetric.Euclidean);
        Assert.Equal(0.375, d.Similarity(0, 0), 6);
        // Two zero vectors are identical: distance 0, similarity 1.
        Assert.Equal(1.0, CentroidMatcher.Similarity(DistanceMetric.Euclidean, 0, 0, 0));
        // A distance no two vectors of those norms can have (the old default norms 0 and 0 gave 1.0 for any distance).
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Euclidean, 5, 0, 0));
        Assert.Equal("distance", e.ParamName);
        Assert.Equal("distance", Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Euclidean, 8, 3, 4)).ParamName);
        Assert.Equal("normA", Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Euclidean, 1, -1, 4)).ParamName);
        Assert.Equal("normB", Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Euclidean, 1, 1, double.NaN)).ParamName);
        // Cosine: a = (1, 0), b = (1, 1): cos = 1/sqrt(2), distance 1 - 1/sqrt(2), similarity 1/sqrt(2).
        Assert.Equal(Math.Sqrt(0.5), CentroidMatcher.Similarity(DistanceMetric.Cosine, 1 - Math.Sqrt(0.5), 1, Math.Sqrt(2)), 15);
        Assert.Equal(0.0, CentroidMatcher.Similarity(DistanceMetric.Cosine, 1.5, 1, 1));   // cos = -0.5 clipped to 0
        Assert.Equal("normA", Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Cosine, 0.5, 0, 1)).ParamName);
        Assert.Equal("distance", Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Similarity(DistanceMetric.Cosine, 2.5, 1, 1)).ParamName);
    }

    [Fact]
    public void BadInputGetsAClearError()
    {
        var a = M([1, 2, 3]);
        var e = Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(C(a, 0), C(M([1, 2]), 0), DistanceMetric.Euclidean));
        Assert.Contains("dimension 2 but yesterday's have 3", e.Message);
        Assert.Equal("today", e.ParamName);
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(C(a, 0), C(M([0, 0, 0]), 0), DistanceMetric.Cosine)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => CentroidMatcher.Compute(C(a, 0), C(M([0, float.NaN, 0]), 0), DistanceMetric.Euclidean)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => CentroidMatcher.Compute(C(a, 0), C(a, 0), (DistanceMetric)7));
    }
}

public sealed class ClusterCentresTests
{
    [Fact]
    public void CentresAreLookedUpByIdNotByPosition()
    {
        // IDs that are not 0..k-1 (as after a remap): row 0 holds cluster 12, row 1 cluster 3, row 2 cluster 7.
        var m = EmbeddingMatrix.FromRows([[1f, 0f], [0f, 1f], [5f, 5f]]);
        var c = new ClusterCentres(m, [12, 3, 7]);
        Assert.Equal(0, c.RowOf(12));
        Assert.Equal(1, c.RowOf(3));
        Assert.Equal(2, c.RowOf(7));
        Assert.Equal([0f, 1f], c.Centre(3).ToArray());
        Assert.Equal([5f, 5f], c.Centre(7).ToArray());
        Assert.True(c.Contains(12));
        Assert.False(c.Contains(0));
        Assert.Contains("clusterId 1 has no centre", Assert.Throws<ArgumentException>(() => c.RowOf(1)).Message);
        // A copy: changing the matrix given does not change the centres.
        m.Row(1)[0] = 9f;
        Assert.Equal([0f, 1f], c.Centre(3).ToArray());
    }

    [Fact]
    public void FromKMeansKeysEachRowByItsLabel()
    {
        var x = EmbeddingMatrix.FromRows([[0f, 0f], [0.1f, 0f], [10f, 10f], [10.1f, 10f]]);
        var fit = LabelAssignment.Clustering.KMeans.Fit(x, new LabelAssignment.Clustering.KMeansOptions { K = 2, Metric = DistanceMetric.Euclidean });
        var c = ClusterCentres.FromKMeans(fit);
        foreach (int item in new[] { 0, 2 })
        {
            // The centre of item 0's cluster is the mean of items 0 and 1, whatever label KMeans gave it.
            float expected = item == 0 ? 0.05f : 10.05f;
            Assert.Equal(expected, c.Centre(fit.Labels[item])[0], 5);
        }
    }

    [Fact]
    public void BadIdsAreNamed()
    {
        var m = EmbeddingMatrix.FromRows([[1f, 2f], [3f, 4f]]);
        Assert.Contains("clusterIds has 1 ids but centres has 2 rows", Assert.Throws<ArgumentException>(() => new ClusterCentres(m, [0])).Message);
        Assert.Contains("cluster ID 4 twice (at index 0 and 1)", Assert.Throws<ArgumentException>(() => new ClusterCentres(m, [4, 4])).Message);
        Assert.Contains("clusterIds[1] = -1", Assert.Throws<ArgumentOutOfRangeException>(() => new ClusterCentres(m, [0, -1])).Message);
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => new ClusterCentres(EmbeddingMatrix.Zeros(0, 2), [])).Message);
    }
}
