using LabelAssignment.Bench;
using LabelAssignment.Bench.Cases;
using System.Text.Json.Nodes;
using LabelAssignment.Metrics;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Bench;

public sealed class CompareTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Report(string name, params JsonObject[] results)
    {
        string path = Path.Combine(_dir, name);
        var root = new JsonObject { ["tool"] = name, ["results"] = new JsonArray(results) };
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private static JsonObject Result(string id, double seconds, JsonObject summary, JsonObject? artifacts = null)
    {
        var r = new JsonObject { ["id"] = id, ["median_s"] = seconds, ["summary"] = summary };
        if (artifacts is not null) r["artifacts"] = artifacts;
        return r;
    }

    private static (int Status, string Text) Run(params string[] files)
    {
        var text = new StringWriter();
        int status = Compare.Print(files, text);
        return (status, text.ToString());
    }

    [Fact]
    public void JoinsByIdAndPrintsRatioAndAgreement()
    {
        string ours = Report("ours.json",
            Result("metrics/ami/k=5000", 0.002, new JsonObject { ["value"] = 0.6025981882543718 }),
            Result("embed/resnet18", 1.0, new JsonObject { ["rows"] = 10 }));
        string theirs = Report("theirs.json",
            Result("metrics/ami/k=5000", 50.0, new JsonObject { ["value"] = 0.602598188277091 }),
            Result("cdist/scipy/100xn", 0.4, new JsonObject { ["sum"] = 1.0 }));
        var (status, text) = Run(ours, theirs);
        Assert.Equal(0, status);
        string row = text.Split('\n').Single(l => l.StartsWith("metrics/ami/k=5000", StringComparison.Ordinal));
        Assert.Contains("4.0e-5", row);      // ours / theirs = 0.002 / 50
        Assert.Contains("25000x", row);      // speed-up
        Assert.Contains("value 0.6025981883 vs 0.6025981883 (diff 2.3E-11) ok", row);
        Assert.Contains("embed/resnet18", text);
        Assert.Contains("(no anchor record)", text);
        Assert.Contains("anchor records with no record of ours: cdist/scipy/100xn", text);
        Assert.Contains("every compared figure agrees", text);
    }

    [Fact]
    public void DisagreementFailsWithPerKeyTolerances()
    {
        string ours = Report("ours.json",
            Result("metrics/ari/k=100", 0.001, new JsonObject { ["value"] = 0.5 + 2e-9 }),
            Result("kmeans/k=100/n_init=1", 1, new JsonObject { ["inertia"] = 3652.48 * 1.005 }),
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 87, ["pairs_within_0.1"] = 71734 }));
        string theirs = Report("theirs.json",
            Result("metrics/ari/k=100", 0.004, new JsonObject { ["value"] = 0.5 }),
            Result("kmeans/k=100/n_init=1", 2, new JsonObject { ["inertia"] = 3652.48 }),
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 87, ["pairs_within_0.1"] = 71731 }));
        var (status, text) = Run(ours, theirs);
        Assert.Equal(1, status);
        Assert.Contains("value 0.500000002 vs 0.5 (diff 2E-09) DIFFERS", text);
        Assert.Contains("inertia", text);
        Assert.Matches(@"inertia \(median of 1 vs 1 seeds\) [0-9.]+ vs 3652.48 \(diff [0-9.]+\) ok", text); // 0.5% is within 1%
        Assert.Contains("clusters 87 vs 87 ok", text);
        Assert.Contains("pairs_within_0.1 71734 vs 71731 (diff 3) ok", text);
        Assert.Contains("some figures DIFFER", text);
    }

    private static JsonObject Labels(string path) => new() { ["labels"] = path };

    private string Labels(string name, params int[] labels)
    {
        string path = Path.Combine(_dir, name);
        Npy.Write(path, labels);
        return path;
    }

    [Fact]
    public void DbscanLabelsMustMatchRowByRowUpToBorderPoints()
    {
        string theirsLabels = Labels("t.npy", 0, 0, 1, 1, -1, 2);
        string same = Labels("a.npy", 0, 0, 1, 1, -1, 2), other = Labels("b.npy", 0, 0, 1, 2, -1, 2);
        string theirs = Report("theirs.json",
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 3 }, Labels(theirsLabels)),
            Result("dbscan/cosine/eps=0.2", 1, new JsonObject { ["clusters"] = 3 }, Labels(theirsLabels)));
        // Row 3 differs; our case found it is a border point two clusters reach: allowed.
        string ours = Report("ours.json",
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 3 }, Labels(same)),
            Result("dbscan/cosine/eps=0.2", 1, new JsonObject { ["clusters"] = 3, ["border_points_differing"] = 1 }, Labels(other)));
        var (status, text) = Run(ours, theirs);
        Assert.Equal(0, status);
        Assert.Contains("labels identical", text);
        double ari = ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 2, -1, 2], [0, 0, 1, 1, -1, 2]);
        string ariText = ari.ToString("G10", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"labels: 1 of 6 rows differ, ARI {ariText}, 1 of them border points two clusters reach ok", text);
        // The same difference with no border point behind it fails.
        string unexplained = Report("ours2.json",
            Result("dbscan/cosine/eps=0.2", 1, new JsonObject { ["clusters"] = 3, ["border_points_differing"] = 0 }, Labels(other)));
        (status, text) = Run(unexplained, theirs);
        Assert.Equal(1, status);
        Assert.Contains($"labels: 1 of 6 rows differ, ARI {ariText}, 0 of them border points two clusters reach DIFFERS", text);
        // Lengths that differ fail.
        string shorter = Report("ours3.json", Result("dbscan/cosine/eps=0.1", 1, new JsonObject(), Labels(Labels("s.npy", 0, 0, 1))));
        (status, text) = Run(shorter, theirs);
        Assert.Equal(1, status);
        Assert.Contains("labels: lengths differ (3 vs 6) DIFFERS", text);
    }

    [Fact]
    public void KMeansLabelsAndCentresAreReportedNotFailed()
    {
        // Two centres each side, numbered the other way round: ours 0 = (0, 0) pairs with theirs 1 (distance 0),
        // ours 1 = (10, 0) with theirs 0 = (10, 1) (distance 1). Theirs' mean norm: (sqrt(101) + 0) / 2.
        string oursCentres = Path.Combine(_dir, "oc.npy"), theirsCentres = Path.Combine(_dir, "tc.npy");
        Npy.Write(oursCentres, new EmbeddingMatrix([0, 0, 10, 0], 2, 2));
        Npy.Write(theirsCentres, new EmbeddingMatrix([10, 1, 0, 0], 2, 2));
        double norm = Math.Sqrt(101) / 2;
        var oursArtifacts = new JsonObject { ["labels"] = Labels("ol.npy", 0, 0, 1, 1), ["centers"] = oursCentres };
        var theirsArtifacts = new JsonObject { ["labels"] = Labels("tl.npy", 1, 1, 0, 0), ["centers"] = theirsCentres };
        string ours = Report("ours.json", Result("kmeans/k=2/n_init=1", 1, new JsonObject { ["inertia"] = 2.0 }, oursArtifacts));
        string theirs = Report("theirs.json", Result("kmeans/k=2/n_init=1", 1, new JsonObject { ["inertia"] = 2.0 }, theirsArtifacts));
        var (status, text) = Run(ours, theirs);
        Assert.Equal(0, status);
        Assert.Contains("labels: 4 of 4 rows differ, ARI 1;", text); // renamed clusters: every row differs, same partition
        string G3(double v) => v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"centres: 2 matched, distance / mean norm: median {G3(0.5 / norm)}, max {G3(1 / norm)}", text);
        Assert.Equal("0.0995", G3(0.5 / norm));
    }

    [Fact]
    public void KMeansInertiaIsTheMedianOverSeedsOnBothSides()
    {
        // Ours: median of five seeds. Theirs: one report per seed; the first (timed) seed happens to be 3.5% high.
        var oursSummary = new JsonObject { ["inertia"] = 100.4, ["inertia_by_seed"] = new JsonArray(99.0, 100.4, 101.0, 98.0, 103.0) };
        string ours = Report("ours.json", Result("kmeans/k=3/n_init=1", 0.5, oursSummary));
        string[] seeds = new[] { 103.5, 100.0, 99.0 }.Select((v, i) =>
            Report($"theirs-seed{i}.json", Result("kmeans/k=3/n_init=1", i == 0 ? 1.0 : 7.0, new JsonObject { ["inertia"] = v }))).ToArray();
        var (status, text) = Run([ours, .. seeds]);
        Assert.Equal(0, status);
        string row = text.Split('\n').Single(l => l.StartsWith("kmeans/k=3/n_init=1", StringComparison.Ordinal));
        // The median of 103.5, 100 and 99 is 100: 0.4% off, within 1%. The time is the first (timed) seed's.
        Assert.Contains("inertia (median of 5 vs 3 seeds) 100.4 vs 100 (diff 0.4) ok", row);
        Assert.Contains(" 0.500 ", row);
        // Against the first seed alone the same run would have failed (103.5 vs 100.4 is 3%).
        (status, _) = Run(ours, seeds[0]);
        Assert.Equal(1, status);
        // A real shift of the median still fails.
        string high = Report("high.json", Result("kmeans/k=3/n_init=1", 0.5, new JsonObject { ["inertia"] = 102.0 }));
        (status, text) = Run([high, .. seeds]);
        Assert.Equal(1, status);
        Assert.Contains("inertia (median of 1 vs 3 seeds) 102 vs 100 (diff 2) DIFFERS", text);
    }

    [Fact]
    public void Median_of_odd_and_even_counts()
    {
        Assert.Equal(2, Compare.Median([3.0, 1, 2]));
        Assert.Equal(2.5, Compare.Median([4.0, 1, 3, 2]));
        Assert.Equal(7, Compare.Median([7.0]));
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => Compare.Median([])).ParamName);
    }

    [Fact]
    public void OnlineIdsAreJoinedByAnchorIdAndComparedRowByRow()
    {
        // Ours streamed 5 rows, the anchor stopped after 3 (its time limit): the 3 rows both have are compared.
        string theirs = Report("theirs.json", new JsonObject
        {
            ["id"] = "nearest/pandas/eps=0.1", ["median_s"] = 0.25, ["summary"] = new JsonObject { ["centres_at_start"] = 4 },
            ["artifacts"] = new JsonObject { ["init_cluster_ids"] = Labels("ti.npy", 0, 1, 2, 3), ["stream_cluster_ids"] = Labels("ts.npy", 1, 4, 1) },
        });
        JsonObject Ours(string stream) => new()
        {
            ["id"] = "nearest/centroid-first/eps=0.1", ["anchor_id"] = "nearest/pandas/eps=0.1", ["median_s"] = 0.0025,
            ["summary"] = new JsonObject { ["centres_at_start"] = 4 },
            ["artifacts"] = new JsonObject { ["init_cluster_ids"] = Labels("oi.npy", 0, 1, 2, 3), ["stream_cluster_ids"] = stream },
        };
        var (status, text) = Run(Report("ours.json", Ours(Labels("os.npy", 1, 4, 1, 5, 2))), theirs);
        Assert.Equal(0, status);
        string row = text.Split('\n').Single(l => l.StartsWith("nearest/centroid-first/eps=0.1", StringComparison.Ordinal));
        Assert.Contains("100x", row); // 0.25 / 0.0025: joined with the anchor's record despite the other id
        Assert.Contains("centres_at_start 4 vs 4 ok", row);
        Assert.Contains("init_cluster_ids identical (4 rows)", row);
        Assert.Contains("stream_cluster_ids identical (3 rows)", row);
        Assert.DoesNotContain("anchor records with no record of ours", text);
        // One id differs: the run fails and names the first differing row.
        (status, text) = Run(Report("bad.json", Ours(Labels("bs.npy", 1, 7, 1, 5, 2))), theirs);
        Assert.Equal(1, status);
        Assert.Contains("stream_cluster_ids: 1 of 3 rows differ, first row 1 (7 vs 4) DIFFERS", text);
        // Fewer rows than the anchor streamed fails too.
        (status, text) = Run(Report("short.json", Ours(Labels("ss.npy", 1, 4))), theirs);
        Assert.Equal(1, status);
        Assert.Contains("stream_cluster_ids: ours has 2 rows, theirs 3 DIFFERS", text);
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Compare.Print(["only.json"], TextWriter.Null));
        Assert.Equal("files", e.ParamName);
        Assert.Contains("got 1 file(s)", e.Message);
        string missing = Path.Combine(_dir, "missing.json");
        Assert.Contains(missing, Assert.Throws<FileNotFoundException>(() => Compare.Print([missing, missing], TextWriter.Null)).Message);
        string broken = Path.Combine(_dir, "broken.json");
        File.WriteAllText(broken, "{ not json");
        Assert.Contains(broken, Assert.Throws<InvalidDataException>(() => Compare.Print([broken, broken], TextWriter.Null)).Message);
        string noResults = Path.Combine(_dir, "empty.json");
        File.WriteAllText(noResults, "{}");
        Assert.Contains("no 'results' array", Assert.Throws<InvalidDataException>(() => Compare.Print([noResults, noResults], TextWriter.Null)).Message);
    }
}

public sealed class MetricsCaseTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bench-metrics-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BenchContext Context(Dictionary<string, string> options, int n)
    {
        string x = Path.Combine(_dir, "n6_d2_X.npy");
        var matrix = EmbeddingMatrix.Zeros(n, 2);
        Npy.Write(x, matrix);
        return new BenchContext
        {
            XPath = x, X = matrix, Options = options, Repeats = 1, Output = TextWriter.Null,
            ArtifactsFolder = Path.Combine(_dir, "artifacts"),
        };
    }

    [Fact]
    public void RecordsTheAnchorIdsAndValues()
    {
        int[] a = [0, 0, 1, 1, 2, 2], b = [0, 0, 1, 2, 2, 2];
        Npy.Write<int>(Path.Combine(_dir, "n6_d2_pairs_k3.npy"), [.. a, .. b], 2, 6);
        var context = Context(new() { ["metric-ks"] = "3,4" }, 6); // k=4 has no pairs file: skipped
        new MetricsCase().Run(context);
        Assert.Equal(["metrics/ari/k=3", "metrics/ami/k=3"], context.Results.Select(r => r["id"]!.GetValue<string>()));
        Assert.Equal(ClusteringMetrics.AdjustedRandIndex(a, b), context.Results[0]["summary"]!["value"]!.GetValue<double>());
        Assert.Equal(ClusteringMetrics.AdjustedMutualInformation(a, b), context.Results[1]["summary"]!["value"]!.GetValue<double>());
        Assert.Equal("arithmetic", context.Results[1]["params"]!["average_method"]!.GetValue<string>());
        Assert.Equal(3, context.Results[0]["params"]!["distinct_b"]!.GetValue<int>());
    }

    [Fact]
    public void ArtifactsAreSavedAndFound()
    {
        var context = Context(new() { ["anchor-artifacts"] = _dir }, 6);
        Assert.Null(context.AnchorArtifact("dbscan_cosine_eps0.1_labels.npy"));
        Npy.Write(Path.Combine(_dir, "dbscan_cosine_eps0.1_labels.npy"), new[] { 1, 2 });
        Assert.Equal(Path.Combine(_dir, "dbscan_cosine_eps0.1_labels.npy"), context.AnchorArtifact("dbscan_cosine_eps0.1_labels.npy"));
        string saved = context.SaveArtifact("labels.npy", [3, 4, 5]);
        Assert.Equal([3, 4, 5], Npy.ReadLabels(saved));
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => context.SaveArtifact("", [1])).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => context.SaveArtifact("x.npy", (int[])null!)).ParamName);
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => context.AnchorArtifact(null!)).ParamName);
    }

    [Fact]
    public void BadOptionsAndFilesAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => new MetricsCase().Run(Context(new() { ["metric-ks"] = "100,x" }, 6)));
        Assert.Contains("'x' is not a cluster count", e.Message);
        string pairs = Path.Combine(_dir, "n6_d2_pairs_k2.npy");
        Npy.Write<int>(pairs, [0, 1, 0, 1, 0, 1, 0, 1], 2, 4);
        var bad = Assert.Throws<InvalidDataException>(() => new MetricsCase().Run(Context(new() { ["metric-ks"] = "2" }, 6)));
        Assert.Contains(pairs, bad.Message);
        Assert.Contains("expected (2, 6)", bad.Message);
    }
}

public sealed class KMeansCaseAndWarmUpTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bench-kmeans-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BenchContext Context(EmbeddingMatrix x, Dictionary<string, string> options)
    {
        string path = Path.Combine(_dir, "n_X.npy");
        Npy.Write(path, x);
        return new BenchContext
        {
            XPath = path, X = x, Options = options, Repeats = 1, Output = TextWriter.Null,
            ArtifactsFolder = Path.Combine(_dir, "artifacts"),
        };
    }

    private static EmbeddingMatrix Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        return new EmbeddingMatrix(Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble()).ToArray(), n, d);
    }

    [Fact]
    public void Seeds_parse_as_ranges_and_lists()
    {
        Assert.Equal([0, 1, 2, 3, 7], KMeansCase.ParseSeeds("0-3,7"));
        Assert.Equal([5], KMeansCase.ParseSeeds("5"));
        Assert.Contains("'x' is not a seed", Assert.Throws<ArgumentException>(() => KMeansCase.ParseSeeds("1,x")).Message);
        Assert.Contains("runs backwards", Assert.Throws<ArgumentException>(() => KMeansCase.ParseSeeds("9-3")).Message);
        Assert.Contains("no seed", Assert.Throws<ArgumentException>(() => KMeansCase.ParseSeeds(",")).Message);
    }

    [Fact]
    public void KMeans_reports_the_median_inertia_over_seeds_and_writes_labels_and_centres()
    {
        var x = Points(300, 4, 1);
        var context = Context(x, new() { ["kmeans-k"] = "5", ["kmeans-seeds"] = "0-4", ["kmeans-n-init"] = "1" });
        new KMeansCase().Run(context);
        var record = Assert.Single(context.Results);
        Assert.Equal("kmeans/k=5/n_init=1", record["id"]!.GetValue<string>());
        var bySeed = record["summary"]!["inertia_by_seed"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(5, bySeed.Length);
        Assert.Equal(bySeed.Order().ElementAt(2), record["summary"]!["inertia"]!.GetValue<double>());
        // The artifacts are the first seed's fit: recomputed from them by brute force, every label is its nearest
        // centre and the inertia is that seed's.
        int[] labels = Npy.ReadLabels(record["artifacts"]!["labels"]!.GetValue<string>());
        var centres = Npy.ReadMatrix(record["artifacts"]!["centers"]!.GetValue<string>());
        Assert.Equal((5, 4), (centres.Count, centres.Dimension));
        Assert.EndsWith("kmeans_n_init1_centers.npy", record["artifacts"]!["centers"]!.GetValue<string>());
        double inertia = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double Sq(int c) => Enumerable.Range(0, 4).Sum(t => Math.Pow(x.Row(i)[t] - (double)centres.Row(c)[t], 2));
            Assert.True(Sq(labels[i]) <= Enumerable.Range(0, 5).Min(Sq) + 1e-6, $"row {i}");
            inertia += Sq(labels[i]);
        }
        Assert.Equal(inertia, bySeed[0], 1e-3 * inertia);
    }

    [Fact]
    public void Warm_up_runs_a_case_on_a_small_data_set_and_keeps_nothing()
    {
        var context = Context(Points(1500, 3, 2), new() { ["metric-ks"] = "100", ["anchor-artifacts"] = _dir });
        string folder = Path.Combine(_dir, "warm");
        var small = context.ForWarmUp(folder, new MetricsCase().WarmUpOptions(folder));
        Assert.Equal((BenchContext.WarmUpRows, 3), (small.X.Count, small.X.Dimension));
        Assert.Equal(context.X.Row(999).ToArray(), small.X.Row(999).ToArray()); // the first rows of X
        Assert.Equal("10", small.Options["metric-ks"]);
        Assert.False(small.Options.ContainsKey("anchor-artifacts"));
        Assert.Equal((1, 0.0), (small.Repeats, small.WarmupBelowSeconds));
        foreach (string f in new[] { "warm_X.npy", "warm_pairs_k10.npy", "lsa_60x60.npy", "lsa_40x60.npy" })
            Assert.True(File.Exists(Path.Combine(folder, f)), f);
        new MetricsCase().Run(small);
        Assert.Equal(["metrics/ari/k=10", "metrics/ami/k=10"], small.Results.Select(r => r["id"]!.GetValue<string>()));
        Assert.Empty(context.Results);
        // Each timed call in the warm-up runs once.
        Assert.Equal(1, small.Results[0]["runs"]!.GetValue<int>());
    }
}
