using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Clustering;

/// <summary>Warm start (<see cref="KMeansOptions.InitialCentres"/>) against a brute-force Lloyd written here.</summary>
public class KMeansWarmStartTests
{
    private static float[][] RandomRows(int n, int d, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(scale * (rng.NextDouble() - 0.5))).ToArray()).ToArray();
    }

    private static double[] Unit(double[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    private static double Sq(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum();

    /// <summary>
    /// Lloyd in double from the given centres: nearest centre (ties to the lowest index), means (unit length for
    /// cosine), until the labels repeat. No centring, no bounds, no blocks: the textbook loop.
    /// </summary>
    private static (int[] Labels, double[][] Centres, double Inertia) BruteLloyd(float[][] rows, float[][] start, bool cosine)
    {
        var x = rows.Select(r => r.Select(v => (double)v).ToArray()).Select(r => cosine ? Unit(r) : r).ToArray();
        var c = start.Select(r => r.Select(v => (double)v).ToArray()).Select(r => cosine ? Unit(r) : r).ToArray();
        int[]? labels = null;
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            var next = x.Select(xi => Enumerable.Range(0, c.Length).MinBy(j => Sq(xi, c[j]))).ToArray();
            if (labels is not null && next.SequenceEqual(labels)) break;
            labels = next;
            for (int j = 0; j < c.Length; j++)
            {
                var members = x.Where((_, i) => labels[i] == j).ToArray();
                Assert.NotEmpty(members);   // the toys below never empty a cluster
                var mean = Enumerable.Range(0, x[0].Length).Select(t => members.Average(m => m[t])).ToArray();
                c[j] = cosine ? Unit(mean) : mean;
            }
        }
        double inertia = x.Select((xi, i) => Sq(xi, c[labels![i]])).Sum();
        return (labels!, c, inertia);
    }

    [Theory]
    [InlineData(DistanceMetric.Euclidean, 1)]
    [InlineData(DistanceMetric.Euclidean, 2)]
    [InlineData(DistanceMetric.Cosine, 3)]
    [InlineData(DistanceMetric.Cosine, 4)]
    public void With_K_centres_it_is_Lloyd_from_those_centres_in_their_order(DistanceMetric metric, int seed)
    {
        var rows = RandomRows(80, 3, seed);
        // Start from 4 rows (shifted off the data), in a scrambled order: cluster i must start as start[i].
        var start = new[] { 17, 3, 61, 40 }.Select(i => rows[i].Select(v => v + 0.01f).ToArray()).ToArray();
        var expected = BruteLloyd(rows, start, metric == DistanceMetric.Cosine);

        var fit = KMeans.Fit(EmbeddingMatrix.FromRows(rows), new KMeansOptions
        {
            K = 4, NInit = 5, Tolerance = 0, Seed = seed, Metric = metric, InitialCentres = EmbeddingMatrix.FromRows(start),
        });

        Assert.Equal(expected.Labels, fit.Labels);
        for (int j = 0; j < 4; j++)
            for (int t = 0; t < 3; t++)
                Assert.Equal(expected.Centres[j][t], fit.Centres.Row(j)[t], 1e-5);
        Assert.Equal(expected.Inertia, fit.Inertia, 1e-5);
        Assert.True(fit.Converged);
        Assert.Single(fit.RestartInertias);   // nothing random in the start: one restart, whatever NInit says
    }

    [Fact]
    public void Warm_start_from_a_fit_s_own_centres_permuted_keeps_every_item_in_the_permuted_cluster()
    {
        var rows = RandomRows(300, 5, 7);
        var data = EmbeddingMatrix.FromRows(rows);
        var cold = KMeans.Fit(data, new KMeansOptions { K = 6, NInit = 2, Seed = 1, Tolerance = 0, Metric = DistanceMetric.Euclidean });
        int[] perm = [4, 0, 5, 2, 1, 3];   // given centre j = cold centre perm[j]
        var warm = KMeans.Fit(data, new KMeansOptions
        {
            K = 6, Tolerance = 0, Metric = DistanceMetric.Euclidean, InitialCentres = cold.Centres.SelectRows(perm),
        });
        for (int i = 0; i < rows.Length; i++)
            Assert.Equal(cold.Labels[i], perm[warm.Labels[i]]);
        Assert.Equal(cold.Inertia, warm.Inertia, 1e-6 * cold.Inertia);
        for (int j = 0; j < 6; j++)
            for (int t = 0; t < 5; t++)
                Assert.Equal(cold.Centres.Row(perm[j])[t], warm.Centres.Row(j)[t], 1e-5f);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Fewer_centres_than_K_keep_their_indices_and_k_means_plus_plus_seeds_the_other_blobs(int seed)
    {
        // 5 tight blobs (spread 0.01) about 10 apart; centres given near blobs 3 and 1 only. D² seeding against them
        // puts the 3 new centres in the 3 uncovered blobs, so every blob is one cluster, blob 3 is 0 and blob 1 is 1.
        var rng = new Random(11);
        var blobCentres = Enumerable.Range(0, 5).Select(b => Enumerable.Range(0, 4).Select(t => t == b % 4 ? 10.0 * (1 + b / 4) : 0.0).ToArray()).ToArray();
        var rows = new List<float[]>();
        var blob = new List<int>();
        for (int i = 0; i < 200; i++)
        {
            rows.Add(blobCentres[i % 5].Select(v => (float)(v + 0.01 * (rng.NextDouble() - 0.5))).ToArray());
            blob.Add(i % 5);
        }
        var given = EmbeddingMatrix.FromRows([blobCentres[3].Select(v => (float)v + 0.3f).ToArray(), blobCentres[1].Select(v => (float)v - 0.3f).ToArray()]);

        var fit = KMeans.Fit(EmbeddingMatrix.FromRows(rows), new KMeansOptions
        {
            K = 5, NInit = 3, Seed = seed, Metric = DistanceMetric.Euclidean, InitialCentres = given,
        });

        Assert.Equal(3, fit.RestartInertias.Length);
        var labelOfBlob = new int[5];
        for (int b = 0; b < 5; b++)
        {
            var labels = fit.Labels.Where((_, i) => blob[i] == b).Distinct().ToArray();
            Assert.Single(labels);
            labelOfBlob[b] = labels[0];
        }
        Assert.Equal(0, labelOfBlob[3]);
        Assert.Equal(1, labelOfBlob[1]);
        Assert.Equal(5, labelOfBlob.Distinct().Count());
    }

    [Fact]
    public void A_partial_warm_start_is_deterministic_for_a_seed_and_any_thread_count()
    {
        // Large enough (3000 x 64, k = 30) for the blocks to run in parallel.
        var rows = RandomRows(3000, 64, 5);
        var data = EmbeddingMatrix.FromRows(rows);
        var given = data.SelectRows(Enumerable.Range(0, 12).Select(i => i * 97).ToArray());
        var options = new KMeansOptions { K = 30, NInit = 2, Seed = 9, MaxIterations = 20, Metric = DistanceMetric.Cosine, InitialCentres = given };
        var a = KMeans.Fit(data, options);
        var b = KMeans.Fit(data, options);
        var single = KMeans.Fit(data, options with { MaxDegreeOfParallelism = 1 });
        var otherSeed = KMeans.Fit(data, options with { Seed = 10 });
        foreach (var other in new[] { b, single })
        {
            Assert.Equal(a.Labels, other.Labels);
            Assert.Equal(a.Centres.Data, other.Centres.Data);
            Assert.Equal(a.RestartInertias, other.RestartInertias);
        }
        // The seed drives the 18 seeded centres: another seed starts elsewhere.
        Assert.NotEqual(a.RestartInertias, otherSeed.RestartInertias);
    }

    [Fact]
    public void Bad_initial_centres_are_rejected_naming_the_option()
    {
        var data = EmbeddingMatrix.FromRows(RandomRows(20, 3, 1));
        var tooMany = Assert.Throws<ArgumentOutOfRangeException>(() =>
            KMeans.Fit(data, new KMeansOptions { K = 2, InitialCentres = data.SelectRows([0, 1, 2]) }));
        Assert.Equal("InitialCentres", tooMany.ParamName);
        Assert.Contains("between 1 and K=2", tooMany.Message);

        var empty = Assert.Throws<ArgumentOutOfRangeException>(() =>
            KMeans.Fit(data, new KMeansOptions { K = 2, InitialCentres = EmbeddingMatrix.Zeros(0, 3) }));
        Assert.Equal("InitialCentres", empty.ParamName);

        var nan = EmbeddingMatrix.FromRows([[1f, float.NaN, 0f]]);
        Assert.Equal("InitialCentres", Assert.Throws<ArgumentException>(() =>
            KMeans.Fit(data, new KMeansOptions { K = 2, InitialCentres = nan })).ParamName);

        var wide = EmbeddingMatrix.FromRows([[1f, 0f, 0f, 0f]]);
        Assert.Contains("dimension 4 but data has 3", Assert.Throws<ArgumentException>(() =>
            KMeans.Fit(data, new KMeansOptions { K = 2, InitialCentres = wide })).Message);

        var zero = EmbeddingMatrix.FromRows([[0f, 0f, 0f]]);
        Assert.Contains("InitialCentres row 0 is all zeros", Assert.Throws<ArgumentException>(() =>
            KMeans.Fit(data, new KMeansOptions { K = 2, Metric = DistanceMetric.Cosine, InitialCentres = zero })).Message);
    }
}
