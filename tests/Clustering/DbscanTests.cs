using LabelAssignment.Tests.Oracles;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Clustering;

public class DbscanTests
{
    private static EmbeddingMatrix Blobs(int seed, int n, int d, int centres, double spread, bool duplicates)
    {
        var rng = new Random(seed);
        var c = new double[centres, d];
        for (int k = 0; k < centres; k++)
            for (int j = 0; j < d; j++) c[k, j] = rng.NextDouble() * 2 - 1;
        var x = EmbeddingMatrix.Zeros(n, d);
        for (int i = 0; i < n; i++)
        {
            int k = rng.Next(centres);
            var row = x.Row(i);
            for (int j = 0; j < d; j++) row[j] = (float)(c[k, j] + spread * (rng.NextDouble() * 2 - 1));
        }
        if (duplicates)
        {
            // Exact copies and (for cosine) positive multiples: distance exactly 0.
            for (int i = 0; i + 1 < n / 10; i++) x.Row(i).CopyTo(x.Row(n - 1 - i));
            for (int j = 0; j < d; j++) x.Row(n / 2)[j] = 2 * x.Row(n / 2 + 1)[j];
        }
        return x;
    }

    public static TheoryData<int, int, int, double, int, DistanceMetric> Cases() => new()
    {
        { 1, 200, 8, 0.05, 3, DistanceMetric.Cosine },
        { 2, 300, 16, 0.05, 5, DistanceMetric.Cosine },
        { 3, 257, 5, 0.1, 1, DistanceMetric.Cosine },
        { 4, 250, 3, 0.01, 4, DistanceMetric.Cosine },
        { 5, 200, 8, 0.6, 3, DistanceMetric.Euclidean },
        { 6, 300, 4, 0.25, 6, DistanceMetric.Euclidean },
        { 7, 129, 2, 0.15, 2, DistanceMetric.Euclidean },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fit_MatchesBruteForceOracle(int seed, int n, int d, double eps, int minSamples, DistanceMetric metric)
    {
        var x = Blobs(seed, n, d, centres: 6, spread: 0.3, duplicates: seed % 2 == 0);
        var (labels, core) = DbscanOracle.Fit(x, eps, minSamples, metric);
        var result = Dbscan.Fit(x, new DbscanOptions { Eps = eps, MinSamples = minSamples, Metric = metric });
        Assert.Equal(labels, result.Labels);
        Assert.Equal(Enumerable.Range(0, n).Where(i => core[i]).ToArray(), result.CoreSampleIndices);
        Assert.Equal(labels.Max() + 1, result.ClusterCount);
        Assert.Equal(labels.Count(l => l < 0), result.NoiseCount);
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(core[i], result.IsCore(i)));
        // The case must exercise something: at least one cluster and, unless minSamples is 1, some noise or border.
        Assert.True(result.ClusterCount >= 1);
        if (minSamples > 1) Assert.True(result.CoreSampleIndices.Length < n);
    }

    [Fact]
    public void Fit_SmallBlocks_SameAsOracle_AcrossTileEdges()
    {
        // Block edge 7 forces many tiles, partial tiles and diagonal tiles on a small input.
        var x = Blobs(11, 100, 6, centres: 4, spread: 0.4, duplicates: true);
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.Euclidean })
        {
            double eps = metric == DistanceMetric.Cosine ? 0.05 : 0.5;
            var graph = RadiusNeighbors.ComputeCore(x, eps, metric, block: 7, null, default);
            var (labels, _) = DbscanOracle.Fit(x, eps, 3, metric);
            Assert.Equal(labels, Dbscan.Label(graph, 3).Labels);
        }
    }

    [Fact]
    public void Fit_EuclideanTiesOnTheBoundary_AreInside()
    {
        // Integer grid points: distances 1, √2, 2 are exact, and eps = 1 must include the unit steps (distance <= eps).
        float[] data = [0, 0, 1, 0, 2, 0, 5, 5, 5, 6, 9, 9];
        var x = new EmbeddingMatrix(data, 6, 2);
        var r = Dbscan.Fit(x, new DbscanOptions { Eps = 1.0, MinSamples = 2, Metric = DistanceMetric.Euclidean });
        Assert.Equal([0, 0, 0, 1, 1, -1], r.Labels);
        Assert.Equal([0, 1, 2, 3, 4], r.CoreSampleIndices);
        var r3 = Dbscan.Fit(x, new DbscanOptions { Eps = 1.0, MinSamples = 3, Metric = DistanceMetric.Euclidean });
        // Only the middle point of 0-1-2 has 3 points (itself included) within 1.
        Assert.Equal([0, 0, 0, -1, -1, -1], r3.Labels);
        Assert.Equal([1], r3.CoreSampleIndices);
    }

    [Fact]
    public void Fit_BorderPointReachableFromTwoClusters_GoesToTheClusterMetFirst()
    {
        // Line: cluster A = {0..4}, border point 7, cluster B = {10..14}; eps 3, minSamples 4. Point 7 is within eps of
        // core points 4 (A) and 10 (B) but has only 3 points (itself included) within eps: a border point of both.
        // Row order puts B's core points first, so B is cluster 0 and takes the border point.
        float[] xs = [10, 11, 12, 13, 14, 7, 0, 1, 2, 3, 4];
        var x = new EmbeddingMatrix(xs, 11, 1);
        var r = Dbscan.Fit(x, new DbscanOptions { Eps = 3, MinSamples = 4, Metric = DistanceMetric.Euclidean });
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], r.Labels);
        Assert.False(r.IsCore(5));
        Assert.True(r.IsCore(0) && r.IsCore(10));
        Assert.Equal(2, r.ClusterCount);
        // Reversed row order: A comes first and takes the border point.
        var rev = Dbscan.Fit(new EmbeddingMatrix([.. xs.Reverse()], 11, 1), new DbscanOptions { Eps = 3, MinSamples = 4, Metric = DistanceMetric.Euclidean });
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], rev.Labels);
    }

    [Fact]
    public void Fit_CosineIgnoresScale_AndDuplicatesAreNeighbours()
    {
        float[] data = [1, 0, 2, 0, 0.5f, 0, 0, 1, 0, 3, -1, 0];
        var x = new EmbeddingMatrix(data, 6, 2);
        var r = Dbscan.Fit(x, new DbscanOptions { Eps = 1e-6, MinSamples = 2 });
        Assert.Equal([0, 0, 0, 1, 1, -1], r.Labels);
        Assert.Equal(1, r.NoiseCount);
    }

    [Fact]
    public void Fit_MinSamplesOne_EveryPointIsCore()
    {
        var x = Blobs(3, 50, 4, 3, 0.2, false);
        var r = Dbscan.Fit(x, new DbscanOptions { Eps = 0.01, MinSamples = 1 });
        Assert.Equal(50, r.CoreSampleIndices.Length);
        Assert.Equal(0, r.NoiseCount);
    }

    [Theory]
    [InlineData(0.0, 5, "Eps")]
    [InlineData(-0.1, 5, "Eps")]
    [InlineData(double.NaN, 5, "Eps")]
    [InlineData(double.PositiveInfinity, 5, "Eps")]
    [InlineData(0.1, 0, "MinSamples")]
    [InlineData(0.1, -3, "MinSamples")]
    public void Fit_BadOptions_NameTheParameter(double eps, int minSamples, string name)
    {
        var x = Blobs(1, 10, 3, 2, 0.1, false);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = eps, MinSamples = minSamples }));
        Assert.Equal(name, e.ParamName);
        Assert.Contains(name + "=", e.Message);
    }

    [Fact]
    public void Fit_BadMetric_NamesTheParameter()
    {
        var x = Blobs(1, 10, 3, 2, 0.1, false);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = 0.1, MinSamples = 3, Metric = (DistanceMetric)42 }));
        Assert.Equal("Metric", e.ParamName);
    }

    [Fact]
    public void Fit_NaNOrInfinity_Rejected()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var x = Blobs(1, 10, 3, 2, 0.1, false);
            x.Row(4)[2] = bad;
            var e = Assert.Throws<ArgumentException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = 0.1, MinSamples = 3, Metric = DistanceMetric.Euclidean }));
            Assert.Equal("x", e.ParamName);
            Assert.Contains("row 4", e.Message);
        }
    }

    [Fact]
    public void Fit_ZeroVectorUnderCosine_Rejected_ButFineUnderEuclidean()
    {
        var x = Blobs(1, 10, 3, 2, 0.1, false);
        x.Row(7).Clear();
        var e = Assert.Throws<ArgumentException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = 0.1, MinSamples = 3 }));
        Assert.Equal("x", e.ParamName);
        Assert.Contains("row 7 is a zero vector", e.Message);
        Assert.Equal(10, Dbscan.Fit(x, new DbscanOptions { Eps = 0.1, MinSamples = 3, Metric = DistanceMetric.Euclidean }).Labels.Length);
    }

    [Fact]
    public void Fit_EmptyOrNull_Rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => Dbscan.Fit(EmbeddingMatrix.Zeros(0, 4), new DbscanOptions { Eps = 0.1 }));
        Assert.Equal("x", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => Dbscan.Fit(null!, new DbscanOptions { Eps = 0.1 }));
        Assert.Throws<ArgumentNullException>(() => Dbscan.Fit(EmbeddingMatrix.Zeros(2, 4), null!));
    }

    [Fact]
    public void Fit_Cancelled_Throws()
    {
        var x = Blobs(1, 2000, 16, 5, 0.3, false);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = 0.1 }, null, cts.Token));
    }

    [Fact]
    public void Fit_CancelledMidway_Throws_AndProgressIsMonotoneTowardsOne()
    {
        var x = Blobs(2, 3000, 16, 5, 0.3, false);
        using var cts = new CancellationTokenSource();
        var seen = new List<WorkProgress>();
        var progress = new SyncProgress(p =>
        {
            lock (seen) seen.Add(p);
            if (p.Fraction > 0.2) cts.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => Dbscan.Fit(x, new DbscanOptions { Eps = 0.1 }, progress, cts.Token));
        Assert.NotEmpty(seen);
        Assert.True(seen.Max(p => p.Fraction) < 1.0);

        // Uncancelled, from worker threads: the reports arrive in order, one per tile, and the last one is complete.
        var all = new List<WorkProgress>();
        Dbscan.Fit(x, new DbscanOptions { Eps = 0.1 }, new SyncProgress(p => { lock (all) all.Add(p); }));
        long total = all[0].Total;
        Assert.True(total > 1, $"total {total}");
        Assert.All(all, p => Assert.Equal(total, p.Total));
        Assert.Equal(Enumerable.Range(1, (int)total).Select(i => (long)i), all.Select(p => p.Done));
        Assert.Equal(1.0, all[^1].Fraction);
        Assert.All(all, p => Assert.False(string.IsNullOrEmpty(p.Stage)));
    }

    private sealed class SyncProgress(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => report(value);
    }
}
