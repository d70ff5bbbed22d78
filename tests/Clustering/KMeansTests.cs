using LabelAssignment.Tests.Oracles;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Clustering;

public class KMeansTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "kmeans", name);

    /// <summary>Synchronous progress sink (Progress&lt;T&gt; posts asynchronously).</summary>
    private sealed class Collect : IProgress<WorkProgress>
    {
        public List<WorkProgress> Reports { get; } = [];
        public void Report(WorkProgress value) => Reports.Add(value);
    }

    private static EmbeddingMatrix RandomMatrix(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        return new EmbeddingMatrix(data, n, d);
    }

    /// <summary>Adjusted Rand index by pair counting (Hubert and Arabie), the independent agreement check.</summary>
    private static double AdjustedRand(int[] a, int[] b)
    {
        var table = new Dictionary<(int, int), long>();
        var rows = new Dictionary<int, long>();
        var cols = new Dictionary<int, long>();
        for (int i = 0; i < a.Length; i++)
        {
            table[(a[i], b[i])] = table.GetValueOrDefault((a[i], b[i])) + 1;
            rows[a[i]] = rows.GetValueOrDefault(a[i]) + 1;
            cols[b[i]] = cols.GetValueOrDefault(b[i]) + 1;
        }
        static double Pairs(long x) => x * (x - 1) / 2.0;
        double index = table.Values.Sum(Pairs), sa = rows.Values.Sum(Pairs), sb = cols.Values.Sum(Pairs);
        double expected = sa * sb / Pairs(a.Length), max = (sa + sb) / 2;
        return (index - expected) / (max - expected);
    }

    [Fact]
    public void HandComputedBlobs()
    {
        // A: square around (1, 1), SS 4 x 2 = 8. B: (100.5, 100), SS 2 x 0.25 = 0.5. C: (-50, 82), SS 4 + 0 + 4 = 8.
        float[][] rows =
        [
            [0, 0], [100, 100], [2, 0], [-50, 80], [0, 2], [101, 100], [2, 2], [-50, 84], [-50, 82],
        ];
        var data = EmbeddingMatrix.FromRows(rows);
        foreach (int seed in new[] { 0, 1, 2, 3 })
        {
            var result = KMeans.Fit(data, new KMeansOptions { K = 3, NInit = 1, Seed = seed, Metric = DistanceMetric.Euclidean });
            Assert.Equal(16.5, result.Inertia, 4);
            Assert.True(result.Converged);
            int[] l = result.Labels;
            Assert.True(l[0] == l[2] && l[0] == l[4] && l[0] == l[6]);
            Assert.True(l[1] == l[5]);
            Assert.True(l[3] == l[7] && l[3] == l[8]);
            Assert.Equal(3, new[] { l[0], l[1], l[3] }.Distinct().Count());
            var c = result.Centres;
            // Centres go through centring and back in float32: equal to a few ulps of 100.
            foreach (var (label, expected) in new[] { (l[0], new[] { 1f, 1f }), (l[1], new[] { 100.5f, 100f }), (l[3], new[] { -50f, 82f }) })
                for (int t = 0; t < 2; t++)
                    Assert.Equal(expected[t], c.Row(label)[t], 1e-4f);
        }
    }

    [Fact]
    public void OneClusterIsTheMeanAndKEqualToNIsExact()
    {
        var data = RandomMatrix(50, 7, 3);
        var one = KMeans.Fit(data, new KMeansOptions { K = 1, NInit = 2, Metric = DistanceMetric.Euclidean });
        var mean = new double[7];
        for (int i = 0; i < 50; i++) for (int t = 0; t < 7; t++) mean[t] += data.Data[i * 7 + t] / 50.0;
        double ss = 0;
        for (int i = 0; i < 50; i++) for (int t = 0; t < 7; t++) ss += Math.Pow(data.Data[i * 7 + t] - mean[t], 2);
        Assert.Equal(ss, one.Inertia, 4);
        for (int t = 0; t < 7; t++) Assert.Equal(mean[t], one.Centres.Data[t], 5);
        Assert.All(one.Labels, l => Assert.Equal(0, l));

        var all = KMeans.Fit(data, new KMeansOptions { K = 50, NInit = 1, Metric = DistanceMetric.Euclidean });
        Assert.Equal(0.0, all.Inertia, 6);
        Assert.Equal(50, all.Labels.Distinct().Count());
    }

    [Fact]
    public void InertiaNeverIncreasesAcrossIterations()
    {
        // MaxIterations = i stops the same restart after its i-th iteration (the loop bound changes nothing else),
        // and Lloyd's two steps each never raise the objective: the final inertia is non-increasing in i.
        var data = RandomMatrix(3000, 10, 11);
        double previous = double.PositiveInfinity;
        for (int i = 1; i <= 8; i++)
        {
            var result = KMeans.Fit(data, new KMeansOptions { K = 40, NInit = 1, Seed = 5, Tolerance = 0, MaxIterations = i, Metric = DistanceMetric.Euclidean });
            Assert.True(result.Iterations <= i);
            Assert.True(result.Inertia <= previous * (1 + 1e-6), $"inertia rose from {previous} to {result.Inertia} at MaxIterations={i}");
            previous = result.Inertia;
        }
    }

    [Fact]
    public void ProgressIsMonotoneAndEndsComplete()
    {
        // Two restarts that converge early (default tolerance) and two that run out of iterations (Tolerance = 0).
        var data = RandomMatrix(3000, 10, 11);
        foreach (var (tolerance, maxIterations) in new[] { (1e-4, 300), (0.0, 4) })
        {
            var progress = new Collect();
            var options = new KMeansOptions { K = 40, NInit = 2, Seed = 5, Tolerance = tolerance, MaxIterations = maxIterations, Metric = DistanceMetric.Euclidean };
            var result = KMeans.Fit(data, options, progress);
            var reports = progress.Reports;
            long total = 2L * maxIterations;
            Assert.NotEmpty(reports);
            Assert.All(reports, p => Assert.Equal(("k-means", total), (p.Stage, p.Total)));
            for (int i = 1; i < reports.Count; i++)
                Assert.True(reports[i].Done > reports[i - 1].Done, $"Done went from {reports[i - 1].Done} to {reports[i].Done}");
            Assert.Equal(total, reports[^1].Done);
            Assert.Equal(1.0, reports[^1].Fraction);
            // One report per iteration of the kept restart, numbered 1..Iterations within its share.
            long from = (long)result.BestRestart * maxIterations;
            Assert.Equal(Enumerable.Range(1, result.Iterations).Select(i => from + i),
                reports.Where(p => p.Done > from && p.Done <= from + result.Iterations).Select(p => p.Done));
            Assert.Contains(reports, p => p.Detail is { } d && d.Contains("inertia"));
        }
    }

    [Fact]
    public void EveryLabelIsTheNearestCentre()
    {
        // Brute force in double over the returned centres: the bounded assignment must not keep a stale label.
        var data = RandomMatrix(1500, 16, 8);
        var result = KMeans.Fit(data, new KMeansOptions { K = 30, NInit = 1, Seed = 3, Metric = DistanceMetric.Euclidean });
        double inertia = 0;
        for (int i = 0; i < 1500; i++)
        {
            double Dist(int j) => Math.Pow(Distances.Between(DistanceMetric.Euclidean, data.Row(i), result.Centres.Row(j)), 2);
            double mine = Dist(result.Labels[i]);
            double best = Enumerable.Range(0, 30).Min(Dist);
            Assert.True(mine <= best + 1e-5, $"item {i}: label {result.Labels[i]} at {mine}, nearest at {best}");
            inertia += mine;
        }
        Assert.Equal(inertia, result.Inertia, 1e-3 * inertia);
    }

    [Fact]
    public void ManyDuplicatesAndKNearNRelocateOnlyTheClustersThatWereEmpty()
    {
        // Integer grid points (many duplicates) with K close to n: relocating a far item empties its own cluster of
        // one, which used to be taken for another empty cluster and read past the far items (IndexOutOfRange,
        // found by the within-eps list tests). Every label must still be valid and the inertia that of the labels.
        var rng = new Random(1);
        for (int trial = 0; trial < 400; trial++)
        {
            int n = rng.Next(2, 50), d = rng.Next(1, 4), k = rng.Next(1, n + 1);
            var data = new float[n * d];
            for (int i = 0; i < data.Length; i++) data[i] = rng.Next(-2, 3);
            var x = new EmbeddingMatrix(data, n, d);
            var result = KMeans.Fit(x, new KMeansOptions { K = k, NInit = 1, MaxIterations = 8, Seed = trial, Metric = DistanceMetric.Euclidean });
            Assert.All(result.Labels, l => Assert.InRange(l, 0, k - 1));
            double inertia = Enumerable.Range(0, n)
                .Sum(i => Math.Pow(Distances.Between(DistanceMetric.Euclidean, x.Row(i), result.Centres.Row(result.Labels[i])), 2));
            Assert.Equal(inertia, result.Inertia, 1e-4 * (inertia + 1));
        }
    }

    [Fact]
    public void SameSeedGivesBitwiseTheSameResultForAnyThreadCount()
    {
        // Large enough (n x d x k above 4M, n x d above 256K) that every pass really runs in parallel.
        var data = RandomMatrix(7000, 40, 21);
        KMeansResult Run(int threads) =>
            KMeans.Fit(data, new KMeansOptions { K = 16, NInit = 2, Seed = 1234, MaxDegreeOfParallelism = threads, Metric = DistanceMetric.Euclidean });
        var one = Run(1);
        foreach (int threads in new[] { 2, 3, -1 })
        {
            var other = Run(threads);
            Assert.Equal(one.Labels, other.Labels);
            Assert.Equal(one.Centres.Data, other.Centres.Data);
            Assert.Equal(one.Inertia, other.Inertia);
            Assert.Equal(one.RestartInertias, other.RestartInertias);
            Assert.Equal(one.Iterations, other.Iterations);
        }
        // And the seed matters: another seed starts from other centres.
        var reseeded = KMeans.Fit(data, new KMeansOptions { K = 16, NInit = 2, Seed = 99, Metric = DistanceMetric.Euclidean });
        Assert.NotEqual(one.RestartInertias, reseeded.RestartInertias);
    }

    [Theory]
    [InlineData("blobs")]
    [InlineData("uniform")]
    public void AgreesWithScikitLearn(string name)
    {
        // reference.txt and the .npy files were written by make_fixture.py with Debian's scikit-learn 1.2.1.
        var line = File.ReadAllLines(Fixture("reference.txt")).Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ');
        int k = int.Parse(line[1]), nInit = int.Parse(line[2]);
        double sklearnInertia = double.Parse(line[3], System.Globalization.CultureInfo.InvariantCulture);
        var data = Npy.ReadMatrix(Fixture($"{name}_X.npy"));
        var sklearnLabels = Npy.ReadLabels(Fixture($"{name}_labels.npy"));

        var result = KMeans.Fit(data, new KMeansOptions { K = k, NInit = nInit, Seed = 0, Metric = DistanceMetric.Euclidean });
        Assert.True(Math.Abs(result.Inertia - sklearnInertia) <= 0.01 * sklearnInertia,
            $"inertia {result.Inertia}, scikit-learn {sklearnInertia}");
        // Well-separated blobs have one answer, so the labels must agree too. Uniform data has many optima of
        // near-equal inertia (ARI between them is about 0.2), so there only the inertia is compared.
        if (name == "blobs")
            Assert.Equal(1.0, AdjustedRand(result.Labels, sklearnLabels), 9);
    }

    [Fact]
    public void SphericalClustersByDirection()
    {
        // Three directions, each at magnitudes 0.5 to 20: euclidean k-means would split by magnitude.
        var dirs = new[] { new[] { 1f, 0f, 0f }, new[] { 0f, 1f, 0.2f }, new[] { -0.3f, 0f, 1f } };
        var rows = new List<float[]>();
        var truth = new List<int>();
        var rng = new Random(4);
        for (int i = 0; i < 90; i++)
        {
            int g = i % 3;
            float scale = 0.5f + 19.5f * (float)rng.NextDouble();
            rows.Add(dirs[g].Select(v => v * scale + 0.01f * (float)(rng.NextDouble() - 0.5)).ToArray());
            truth.Add(g);
        }
        var result = KMeans.Fit(EmbeddingMatrix.FromRows(rows), new KMeansOptions { K = 3, NInit = 3, Metric = DistanceMetric.Cosine });
        Assert.Equal(1.0, AdjustedRand(result.Labels, truth.ToArray()), 9);
        for (int j = 0; j < 3; j++)
            Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(result.Centres.Row(j)), 5);
        Assert.True(result.Inertia < 90 * 1e-3, $"inertia on unit vectors {result.Inertia}");
    }

    [Fact]
    public void CosineIsTheDefaultMetricAndFindsTheBruteForceSphericalOptimum()
    {
        // 10 points in 3 loose direction groups at random magnitudes. Reference: every labelling into 3 non-empty
        // clusters (3^10), scored with the spherical k-means objective Σ_S Σ_{x∈S} ||x̂ - ĉ_S||² = Σ_S (2|S| - 2||Σ_S x̂||)
        // (ĉ_S the unit mean direction of S's unit rows), which is what the inertia of Metric = Cosine measures.
        var rng = new Random(21);
        var dirs = new[] { new[] { 1.0, 0.1, 0.0 }, new[] { 0.1, 1.0, 0.3 }, new[] { -0.4, 0.2, 1.0 } };
        var rows = new float[10][];
        for (int i = 0; i < rows.Length; i++)
        {
            double scale = 0.3 + 5 * rng.NextDouble();
            rows[i] = dirs[i % 3].Select(v => (float)(scale * (v + 0.35 * (rng.NextDouble() - 0.5)))).ToArray();
        }
        var unit = rows.Select(r => { double nrm = Math.Sqrt(r.Sum(v => (double)v * v)); return r.Select(v => v / nrm).ToArray(); }).ToArray();
        double best = double.PositiveInfinity;
        var labels = new int[rows.Length];
        for (int code = 0; code < 59049; code++)
        {
            for (int i = 0, c = code; i < rows.Length; i++, c /= 3) labels[i] = c % 3;
            double cost = 0;
            bool empty = false;
            for (int j = 0; j < 3 && !empty; j++)
            {
                var sum = new double[3];
                int size = 0;
                for (int i = 0; i < rows.Length; i++)
                    if (labels[i] == j) { size++; for (int t = 0; t < 3; t++) sum[t] += unit[i][t]; }
                empty = size == 0;
                cost += 2 * size - 2 * Math.Sqrt(sum.Sum(v => v * v));
            }
            if (!empty) best = Math.Min(best, cost);
        }
        var data = EmbeddingMatrix.FromRows(rows);
        Assert.Equal(DistanceMetric.Cosine, new KMeansOptions().Metric);
        var byDefault = KMeans.Fit(data, new KMeansOptions { K = 3, NInit = 10, Seed = 3 });
        var cosine = KMeans.Fit(data, new KMeansOptions { K = 3, NInit = 10, Seed = 3, Metric = DistanceMetric.Cosine });
        Assert.Equal(best, cosine.Inertia, 5);
        Assert.Equal(cosine.Labels, byDefault.Labels);
        Assert.Equal(cosine.Inertia, byDefault.Inertia);
        // Euclidean on the same rows clusters by magnitude too, so it is a different problem (and a different score).
        var euclidean = KMeans.Fit(data, new KMeansOptions { K = 3, NInit = 10, Seed = 3, Metric = DistanceMetric.Euclidean });
        Assert.NotEqual(cosine.Inertia, euclidean.Inertia, 3);
    }

    [Fact]
    public void ValidateNamesThePropertyInParamNameAndMessage()
    {
        var bad = new (string Property, KMeansOptions Options)[]
        {
            ("K", new KMeansOptions { K = 0 }),
            ("NInit", new KMeansOptions { NInit = 0 }),
            ("MaxIterations", new KMeansOptions { MaxIterations = -3 }),
            ("Tolerance", new KMeansOptions { Tolerance = double.NaN }),
            ("Metric", new KMeansOptions { Metric = (DistanceMetric)7 }),
            ("MaxDegreeOfParallelism", new KMeansOptions { MaxDegreeOfParallelism = -2 }),
        };
        foreach (var (property, options) in bad)
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
            Assert.Equal(property, e.ParamName);
            Assert.StartsWith(property + " ", e.Message);
        }
        new KMeansOptions { Seed = -5 }.Validate(); // any int seed
    }

    [Fact]
    public void DotsWithFewMatchesDirectProducts()
    {
        foreach (var (rows, d) in new[] { (1, 1), (3, 7), (5, 16), (9, 33), (13, 70) })
        {
            var x = RandomMatrix(rows, d, rows);
            var cands = RandomMatrix(4, d, rows + 100);
            var dots = new float[4 * rows];
            SmallKernels.DotsWithFew(x.Data, rows, d, cands.Data, 4, dots);
            for (int t = 0; t < 4; t++)
                for (int r = 0; r < rows; r++)
                {
                    double expected = 0;
                    for (int q = 0; q < d; q++) expected += (double)x.Data[r * d + q] * cands.Data[t * d + q];
                    Assert.Equal(expected, dots[t * rows + r], 1e-4 * d);
                }
        }
    }

    [Fact]
    public void CancellationStopsTheFit()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            KMeans.Fit(RandomMatrix(100, 4, 1), new KMeansOptions { K = 5, Metric = DistanceMetric.Euclidean }, cancellationToken: cts.Token));

        // Cancelled from the first progress report: the fit stops before a second iteration.
        using var midway = new CancellationTokenSource();
        var reports = new Collect();
        var cancelling = new CancelOnReport(reports, midway);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            KMeans.Fit(RandomMatrix(500, 4, 1), new KMeansOptions { K = 5, Tolerance = 0, Metric = DistanceMetric.Euclidean }, cancelling, midway.Token));
        Assert.Single(reports.Reports);
    }

    private sealed class CancelOnReport(Collect inner, CancellationTokenSource cts) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value)
        {
            inner.Report(value);
            cts.Cancel();
        }
    }

    [Fact]
    public void FewerDistinctPointsThanClustersStillGivesAValidResult()
    {
        // 12 rows but only 3 distinct points, K = 5: scikit-learn warns and returns duplicate centres; so do we.
        var rows = Enumerable.Range(0, 12).Select(i => new float[] { i % 3, 2 * (i % 3) }).ToArray();
        var result = KMeans.Fit(EmbeddingMatrix.FromRows(rows), new KMeansOptions { K = 5, NInit = 2, Metric = DistanceMetric.Euclidean });
        Assert.Equal(0.0, result.Inertia, 9);
        Assert.All(result.Labels, l => Assert.InRange(l, 0, 4));
        for (int i = 0; i < 12; i++)
            Assert.Equal(rows[i], result.Centres.Row(result.Labels[i]).ToArray());
    }

    [Fact]
    public void BadInputIsRejectedWithTheParameterNamed()
    {
        var data = RandomMatrix(5, 3, 1);
        Assert.Equal("K", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(data, new KMeansOptions { K = 0, Metric = DistanceMetric.Euclidean })).ParamName);
        var tooMany = Assert.Throws<ArgumentException>(() => KMeans.Fit(data, new KMeansOptions { K = 8, Metric = DistanceMetric.Euclidean }));
        Assert.Contains("n_samples=5 should be >= n_clusters=8", tooMany.Message);
        Assert.Equal("options", tooMany.ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => KMeans.Fit(EmbeddingMatrix.Zeros(0, 3), new KMeansOptions { K = 1, Metric = DistanceMetric.Euclidean })).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentNullException>(() => KMeans.Fit(null!, new KMeansOptions())).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => KMeans.Fit(data, null!)).ParamName);
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var copy = (float[])data.Data.Clone();
            copy[7] = bad;
            var e = Assert.Throws<ArgumentException>(() => KMeans.Fit(new EmbeddingMatrix(copy, 5, 3), new KMeansOptions { K = 2, Metric = DistanceMetric.Euclidean }));
            Assert.Equal("data", e.ParamName);
            Assert.Contains("row 2, column 1", e.Message);
        }
        Assert.Equal("NInit", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(data, new KMeansOptions { K = 2, NInit = 0, Metric = DistanceMetric.Euclidean })).ParamName);
        Assert.Equal("MaxIterations", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(data, new KMeansOptions { K = 2, MaxIterations = 0, Metric = DistanceMetric.Euclidean })).ParamName);
        foreach (double tol in new[] { -1e-4, double.NaN, double.PositiveInfinity })
            Assert.Equal("Tolerance", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(data, new KMeansOptions { K = 2, Tolerance = tol, Metric = DistanceMetric.Euclidean })).ParamName);
        Assert.Equal("MaxDegreeOfParallelism", Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(data, new KMeansOptions { K = 2, MaxDegreeOfParallelism = 0, Metric = DistanceMetric.Euclidean })).ParamName);
        var zeroRow = (float[])data.Data.Clone();
        zeroRow.AsSpan(3, 3).Clear();
        var z = Assert.Throws<ArgumentException>(() => KMeans.Fit(new EmbeddingMatrix(zeroRow, 5, 3), new KMeansOptions { K = 2, Metric = DistanceMetric.Cosine }));
        Assert.Equal("data", z.ParamName);
        Assert.Contains("row 1", z.Message);
    }
}
