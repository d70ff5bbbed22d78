using LabelAssignment.Tests.Oracles;
using LabelAssignment.Clustering;
using LabelAssignment.Ids;
using LabelAssignment.IO;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Remapping;
using LabelAssignment.Tests.Online;

namespace LabelAssignment.Tests.Numerics;

/// <summary>
/// Issue 9, finding 7: extreme but finite inputs (values near float's range, tiny rows, huge cluster counts, float64
/// values beyond float32) either give the answer ordinary inputs give, scaled, or a clear error. Each test is the
/// issue's reproduction; expectations are hand-computed or brute force in double.
/// </summary>
public sealed class ExtremeValueTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("extreme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // KMeansTests.HandComputedBlobs: A around (1, 1) SS 8, B (100.5, 100) SS 0.5, C (-50, 82) SS 8; inertia 16.5.
    private static readonly float[][] Blobs =
    [
        [0, 0], [100, 100], [2, 0], [-50, 80], [0, 2], [101, 100], [2, 2], [-50, 84], [-50, 82],
    ];

    [Theory]
    [InlineData(1e30)]
    [InlineData(3e36)]   // largest value 101 x 3e36 = 3.03e38, just below float.MaxValue; the spread overflows float
    [InlineData(1e-30)]  // squares (1e-60) underflow float
    [InlineData(1e-38)]
    public void KMeansOnScaledBlobsGivesTheScaledAnswer(double scale)
    {
        var data = EmbeddingMatrix.FromRows(Blobs.Select(r => r.Select(v => (float)(v * scale)).ToArray()).ToList());
        // The exact optimum of the scaled float data, in double: the partition is the blobs'.
        int[][] groups = [[0, 2, 4, 6], [1, 5], [3, 7, 8]];
        double expected = 0;
        var means = new double[3][];
        for (int g = 0; g < 3; g++)
        {
            means[g] = new double[2];
            foreach (int i in groups[g]) for (int t = 0; t < 2; t++) means[g][t] += data.Row(i)[t] / (double)groups[g].Length;
            foreach (int i in groups[g]) for (int t = 0; t < 2; t++) expected += Math.Pow(data.Row(i)[t] - means[g][t], 2);
        }
        Assert.True(double.IsFinite(expected) && expected > 0);

        var result = KMeans.Fit(data, new KMeansOptions { K = 3, NInit = 1, Seed = 0, Metric = DistanceMetric.Euclidean });
        Assert.True(double.IsFinite(result.Inertia), $"inertia {result.Inertia}");
        Assert.Equal(1.0, result.Inertia / expected, 4);
        int[] l = result.Labels;
        Assert.Equal(3, l.Distinct().Count());
        for (int gi = 0; gi < 3; gi++)
        {
            int[] g = groups[gi];
            Assert.All(g, i => Assert.Equal(l[g[0]], l[i]));
            for (int t = 0; t < 2; t++)
            {
                double c = result.Centres.Row(l[g[0]])[t];
                Assert.True(Math.Abs(c - means[gi][t]) <= 1e-5 * 100 * scale, $"centre {c}, mean {means[gi][t]}");
            }
        }
    }

    [Theory]
    [InlineData(1e30)]
    [InlineData(3e37)]
    [InlineData(1e-30)]
    public void SphericalKMeansIsScaleInvariant(double scale)
    {
        // Two directions, (1, 0.1) and (0.1, 1), three rows each; a row of 1e-30 (not zero) points like group 0.
        float[][] rows =
        [
            [1f, 0.1f], [2f, 0.2f], [3f, 0.3f], [0.1f, 1f], [0.2f, 2f], [0.3f, 3f],
        ];
        var data = EmbeddingMatrix.FromRows(rows.Select(r => r.Select(v => (float)(v * scale)).ToArray()).ToList());
        var result = KMeans.Fit(data, new KMeansOptions { K = 2, NInit = 2, Seed = 0, Metric = DistanceMetric.Cosine });
        int[] l = result.Labels;
        Assert.True(l[0] == l[1] && l[1] == l[2] && l[3] == l[4] && l[4] == l[5] && l[0] != l[3], string.Join(",", l));
        // Unit rows of one direction coincide: the optimum's inertia is 0 up to float rounding.
        Assert.True(result.Inertia < 1e-10, $"inertia {result.Inertia}");
        for (int j = 0; j < 2; j++)
            Assert.Equal(1.0, DistanceKernels.Norm(result.Centres.Row(j)), 5);
    }

    [Fact]
    public void ATinyRowIsNotAZeroRowAndAZeroRowIsReportedAsExactlyZero()
    {
        float[][] rows = [[1f, 0f], [1e-30f, 1e-31f], [0f, 1f], [0.1f, 1f]];
        var fit = KMeans.Fit(EmbeddingMatrix.FromRows(rows), new KMeansOptions { K = 2, NInit = 1, Metric = DistanceMetric.Cosine });
        Assert.Equal(fit.Labels[0], fit.Labels[1]);
        Assert.NotEqual(fit.Labels[0], fit.Labels[2]);

        float[][] withZero = [[1f, 0f], [0f, 0f], [0f, 1f]];
        var ex = Assert.Throws<ArgumentException>(() =>
            KMeans.Fit(EmbeddingMatrix.FromRows(withZero), new KMeansOptions { K = 2, Metric = DistanceMetric.Cosine }));
        Assert.Equal("data", ex.ParamName);
        Assert.Contains("row 1 is the zero vector (all 2 values are exactly 0)", ex.Message);

        // The shared row check: 1e-30 and a subnormal pass, exact zero is named as such.
        EmbeddingMatrix.ValidateRows([1e-30f, 0f, 0f, float.Epsilon], 2, 2, DistanceMetric.Cosine, "x");
        var vex = Assert.Throws<ArgumentException>(() =>
            EmbeddingMatrix.ValidateRows([1f, 0f, 0f, 0f], 2, 2, DistanceMetric.Cosine, "x"));
        Assert.Equal("x", vex.ParamName);
        Assert.Contains("row 1 is the zero vector (all 2 values are exactly 0)", vex.Message);
    }

    [Theory]
    [InlineData(1e20)]
    [InlineData(1e-30)]
    public void ByCentroidsUnderCosineIsScaleInvariant(double scale)
    {
        var rng = new Random(3);
        int k = 5, d = 8;
        var today = EmbeddingMatrix.Zeros(k, d);
        for (int i = 0; i < today.Data.Length; i++) today.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        var old = new EmbeddingMatrix(today.Data.Select(v => (float)(v * scale)).ToArray(), k, d);
        int[] oldIds = [10, 11, 12, 13, 14];
        var r = LabelRemapper.ByCentroids(new ClusterCentres(old, oldIds), new ClusterCentres(today, [0, 1, 2, 3, 4]),
            new RemappingOptions { Metric = DistanceMetric.Cosine });
        // Same directions: every new cluster keeps its old ID with similarity 1.
        for (int j = 0; j < k; j++) Assert.Equal(oldIds[j], r.FinalId(j));
        Assert.Empty(r.RetiredIds);
        Assert.All(r.Matches, m => Assert.Equal(1.0, m.Score, 6));
    }

    [Theory]
    [InlineData(DistanceMetric.Euclidean)]
    [InlineData(DistanceMetric.Cosine)]
    public void CentresNearFloatsRangeMatchWithFiniteCosts(DistanceMetric metric)
    {
        var old = EmbeddingMatrix.FromRows([[3e38f, -3e38f], [-3e38f, 3e38f], [3e38f, 3e38f]]);
        var now = EmbeddingMatrix.FromRows([[-2.99e38f, 3e38f], [3e38f, 2.99e38f], [3e38f, -2.99e38f]]);
        var distances = CentroidMatcher.Compute(new ClusterCentres(old, [0, 1, 2]), new ClusterCentres(now, [0, 1, 2]), metric);
        Assert.All(distances.Distances, v => Assert.True(double.IsFinite(v), $"distance {v}"));
        // Brute force in double: old 0 <-> new 2, old 1 <-> new 0, old 2 <-> new 1 (each moved by 1e36 along one axis).
        double moved = Math.Sqrt(Math.Pow((double)3e38f - (double)2.99e38f, 2));
        if (metric == DistanceMetric.Euclidean)
            Assert.Equal(1.0, distances.Distance(0, 2) / moved, 6);
        double far = Math.Sqrt(Math.Pow(2.0 * 3e38f, 2) + Math.Pow((double)3e38f + 2.99e38f, 2));
        if (metric == DistanceMetric.Euclidean)
            Assert.Equal(1.0, distances.Distance(0, 0) / far, 6);
        var r = LabelRemapper.ByCentroids(distances);
        Assert.Equal(1, r.FinalId(0));
        Assert.Equal(2, r.FinalId(1));
        Assert.Equal(0, r.FinalId(2));
        Assert.Empty(r.RetiredIds);
    }

    [Fact]
    public void AssignmentErrorsNameTheCallersParameter()
    {
        var bad = new CentroidDistances([0, 1], [0, 1], DistanceMetric.Euclidean, [0.0, double.NaN, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]);
        var ex = Assert.Throws<ArgumentException>(() => LabelRemapper.ByCentroids(bad));
        Assert.Equal("distances", ex.ParamName);
        Assert.Contains("row 0, column 1", ex.Message);

        var infeasible = new CentroidDistances([0, 1], [0, 1], DistanceMetric.Euclidean,
            [double.PositiveInfinity, double.PositiveInfinity, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]);
        // +infinity would make the solver report an infeasible "cost"; no two finite centres are that far apart.
        var iex = Assert.Throws<ArgumentException>(() => LabelRemapper.ByCentroids(infeasible));
        Assert.Equal("distances", iex.ParamName);
        Assert.Contains("row 0, column 0", iex.Message);
    }

    [Fact]
    public void ByOverlapWithTooManyClustersForADenseMatrixSolvesOnTheSparseGraph()
    {
        // 46,341 singletons (DBSCAN noise, each a cluster of its own): 46341² cells exceed int.MaxValue, so no dense
        // matrix can be built; the remap must still answer, on the sparse overlap graph, and keep every ID (Jaccard 1).
        const int n = 46_341;
        var ids = new long[n];
        var labels = new int[n];
        for (int i = 0; i < n; i++) { ids[i] = i; labels[i] = i; }
        var day = new Labeling(ids, labels);
        var result = LabelRemapper.ByOverlap(day, day);
        Assert.Equal(n, result.KeptIds.Length);
        Assert.Empty(result.CreatedIds);
        Assert.Equal(17, result.FinalId(17));
        // The dense matrix itself is refused with the sizes named.
        var overlap = ClusterOverlap.Compute(day, day);
        var ex = Assert.Throws<InvalidOperationException>(() => overlap.JaccardMatrix());
        Assert.Contains("46341 x 46341", ex.Message);
        Assert.Contains("2147488281", ex.Message.Replace(",", ""));
    }

    [Fact]
    public void Float64BeyondFloat32IsAnErrorNamingFileIndexAndValue()
    {
        string path = Path.Combine(_dir, "big.npy");
        Npy.Write<double>(path, [0.5, -1.0, 2.0, 3.0, 1e300, 4.0], 2, 3);
        var ex = Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("row 1, column 1", ex.Message);
        Assert.Contains("1E+300", ex.Message);

        // Values that round to float32's largest finite value, and infinities written as such, are not out of range.
        Npy.Write<double>(path, [3.4028234663852886e38, double.NegativeInfinity], 1, 2);
        var m = Npy.ReadMatrix(path);
        Assert.Equal([float.MaxValue, float.NegativeInfinity], m.Data);
        Npy.Write<double>(path, [-3.5e38, 0.0], 1, 2);
        Assert.Contains("row 0, column 0", Assert.Throws<InvalidDataException>(() => Npy.ReadMatrix(path)).Message);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 1e20)]
    [InlineData(DistanceMetric.Cosine, 3e37)]
    [InlineData(DistanceMetric.Cosine, 1e-30)]
    [InlineData(DistanceMetric.Euclidean, 1e20)]
    [InlineData(DistanceMetric.Euclidean, 1e30)]
    [InlineData(DistanceMetric.Euclidean, 1e-30)]
    public void OnlinePredictOnExtremeScalesIsTheNaiveLoopsAnswer(DistanceMetric metric, double scale)
    {
        double eps = metric == DistanceMetric.Cosine ? 0.06 : 1.6 * scale;
        var x = OnlineTestData.Clumps(600, 24, 10, 0.2, seed: 17);
        var scaled = new EmbeddingMatrix(x.Data.Select(v => (float)(v * scale)).ToArray(), x.Count, x.Dimension);
        var init = OnlineTestData.Rows(scaled, 0, 300);
        var (labels, core) = DbscanOracle.FitCoreRows(OnlineTestData.Rows(x, 0, 300), eps / (metric == DistanceMetric.Cosine ? 1 : scale), 3, metric);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, core, metric);
        // The naive loop (float64 means, one distance at a time) on the same scaled rows.
        var reference = new OnlineTestData.ReferenceLoop(init, t.ItemClusterIds.ToArray(), metric, eps, false);
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps });
        var rows = OnlineTestData.Rows(scaled, 300, 300);
        var batch = a.PredictBatch(OnlineTestData.Ids(300, 300), rows);
        int joined = 0;
        for (int i = 0; i < 300; i++)
        {
            var (id, isNew) = reference.Predict(rows.Row(i).ToArray());
            Assert.Equal(id, batch[i].ClusterId);
            Assert.Equal(isNew, batch[i].CreatedCluster);
            Assert.True(double.IsFinite(batch[i].NearestDistance), $"nearest distance {batch[i].NearestDistance}");
            Assert.Equal(batch[i], a.Predict(300 + i, rows.Row(i)));
            if (!isNew) joined++;
        }
        Assert.InRange(joined, 10, 290);
    }

    [Fact]
    public void NeighbourAccuracyTakesTinyAndHugeRowsByDirection()
    {
        // Row 0's nearest by cosine is row 1 (same direction, 1e-30 long); row 2's is row 3 (3e38 long).
        float[][] rows = [[1f, 0.1f], [1e-30f, 1e-31f], [0.1f, 1f], [3e37f, 3e38f]];
        var nn = LabelAssignment.Metrics.NeighbourAccuracy.NearestNeighbours(EmbeddingMatrix.FromRows(rows), 1);
        Assert.Equal([1, 0, 3, 2], nn);
        var ex = Assert.Throws<ArgumentException>(() =>
            LabelAssignment.Metrics.NeighbourAccuracy.NearestNeighbours(EmbeddingMatrix.FromRows([[1f, 0f], [0f, 0f], [0f, 1f]]), 1));
        Assert.Contains("row 1 is the zero vector", ex.Message);
    }

    // DBSCAN at the edges of float's range: the labels must be the brute-force oracle's on the same stored values
    // (computed in double), and, for an exact power-of-two scaling, the labels of the unscaled data.
    [Theory]
    [InlineData(100)]   // euclidean float dot products of 2^100-sized values overflow
    [InlineData(-100)]  // and of 2^-100-sized values underflow
    public void DbscanEuclideanAtExtremeScalesGivesTheOraclesLabels(int exponent)
    {
        var x = OnlineTestData.Clumps(300, 12, 5, 0.15, seed: 12);
        const double eps = 0.8; // clump members lie about 0.15·sqrt(2·12) = 0.73 apart
        var plain = Dbscan.Fit(x, new DbscanOptions { Eps = eps, MinSamples = 4, Metric = DistanceMetric.Euclidean });
        double scale = Math.ScaleB(1.0, exponent);
        var scaled = new EmbeddingMatrix(x.Data.Select(v => (float)(v * scale)).ToArray(), x.Count, x.Dimension);
        var got = Dbscan.Fit(scaled, new DbscanOptions { Eps = eps * scale, MinSamples = 4, Metric = DistanceMetric.Euclidean });
        Assert.Equal(DbscanOracle.Fit(scaled, eps * scale, 4, DistanceMetric.Euclidean).Labels, got.Labels);
        Assert.Equal(plain.Labels, got.Labels);
        Assert.True(plain.ClusterCount >= 2, $"the test data should cluster ({plain.ClusterCount} clusters)");
    }

    [Theory]
    [InlineData(-135)]  // rows of subnormal values: 1/|x| overflows a float
    [InlineData(126)]   // rows near float's top: 1/|x| is subnormal
    public void DbscanCosineAtExtremeScalesGivesTheOraclesLabels(int exponent)
    {
        var x = OnlineTestData.Clumps(300, 12, 5, 0.15, seed: 12);
        double scale = Math.ScaleB(1.0, exponent);
        var scaled = new EmbeddingMatrix(x.Data.Select(v => (float)(v * scale)).ToArray(), x.Count, x.Dimension);
        var options = new DbscanOptions { Eps = 0.05, MinSamples = 4, Metric = DistanceMetric.Cosine };
        var got = Dbscan.Fit(scaled, options);
        var oracle = DbscanOracle.Fit(scaled, 0.05, 4, DistanceMetric.Cosine);
        Assert.Equal(oracle.Labels, got.Labels);
        Assert.True(got.ClusterCount >= 2, $"the test data should cluster ({got.ClusterCount} clusters)");
    }
}
