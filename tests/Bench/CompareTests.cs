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
        Assert.Matches(@"inertia [0-9.]+ vs 3652.48 \(diff [0-9.]+\) ok", text); // 0.5% is within 1%
        Assert.Contains("clusters 87 vs 87 ok", text);
        Assert.Contains("pairs_within_0.1 71734 vs 71731 (diff 3) ok", text);
        Assert.Contains("some figures DIFFER", text);
    }

    [Fact]
    public void LabelArtifactsAreComparedRowByRow()
    {
        string same = Path.Combine(_dir, "a.npy"), other = Path.Combine(_dir, "b.npy"), theirsLabels = Path.Combine(_dir, "t.npy");
        Npy.Write(theirsLabels, new[] { 0, 0, 1, 1, -1, 2 });
        Npy.Write(same, new[] { 0, 0, 1, 1, -1, 2 });
        Npy.Write(other, new[] { 0, 0, 1, 2, -1, 2 });
        var artifacts = (string p) => new JsonObject { ["labels"] = p };
        string theirs = Report("theirs.json",
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 3 }, artifacts(theirsLabels)),
            Result("dbscan/cosine/eps=0.2", 1, new JsonObject { ["clusters"] = 3 }, artifacts(theirsLabels)));
        string ours = Report("ours.json",
            Result("dbscan/cosine/eps=0.1", 1, new JsonObject { ["clusters"] = 3 }, artifacts(same)),
            Result("dbscan/cosine/eps=0.2", 1, new JsonObject { ["clusters"] = 3 }, artifacts(other)));
        var (status, text) = Run(ours, theirs);
        Assert.Equal(0, status); // label differences are reported, not failed
        Assert.Contains("labels identical", text);
        double ari = ClusteringMetrics.AdjustedRandIndex([0, 0, 1, 2, -1, 2], [0, 0, 1, 1, -1, 2]);
        Assert.Contains($"labels: 1 of 6 rows differ, ARI {ari.ToString("G10", System.Globalization.CultureInfo.InvariantCulture)}", text);
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
        Assert.Equal("labels", Assert.Throws<ArgumentNullException>(() => context.SaveArtifact("x.npy", null!)).ParamName);
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
