using DuckDB.NET.Data;
using LabelAssignment.Cli;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Cli;

/// <summary>labelassign remap --measure centroid (centre tables as CSV, Parquet lists or .npy folders) and inputs given
/// as folders of .npy columns, checked against hand-computed stable IDs.</summary>
public sealed class CentroidAndNpyInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("labelassign-centroid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Output) Run(params string[] args) => CliHarness.RunFlat(args);

    private static void Sql(string sql)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    // Yesterday: clusters 0, 1, 2 with centres (1,0), (0,1), (-1,0). Today: label 0 at (0.99, 0.141...) (cosine 0.99
    // with old 0), label 1 at (0.6, 0.8) (cosine 0.8 with old 1, 0.6 with old 0, -0.6 with old 2), one noise item.
    private static readonly (long Item, int Cluster)[] Yesterday = [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (6, 2)];
    private static readonly (long Item, int Label)[] Today = [(1, 0), (2, 0), (3, 1), (4, 1), (7, 1), (8, -1)];
    private static readonly float[][] OldCentres = [[1f, 0f], [0f, 1f], [-1f, 0f]];
    private static readonly float[][] NewCentres = [[0.99f, MathF.Sqrt(1 - 0.99f * 0.99f)], [0.6f, 0.8f]];

    private void WriteItems()
    {
        File.WriteAllLines(P("y.csv"), ["item_id,cluster_id", .. Yesterday.Select(r => $"{r.Item},{r.Cluster}")]);
        File.WriteAllLines(P("t.csv"), ["item_id,label", .. Today.Select(r => $"{r.Item},{r.Label}")]);
    }

    private static string List(float[] v) => "\"[" + string.Join(", ", v.Select(x => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]\"";

    private void WriteCentresCsv()
    {
        File.WriteAllLines(P("yc.csv"), ["cluster_id,centre", .. OldCentres.Select((c, i) => $"{i},{List(c)}")]);
        File.WriteAllLines(P("tc.csv"), ["label,centre", .. NewCentres.Select((c, i) => $"{i},{List(c)}")]);
    }

    [Fact]
    public void CentroidMeasureKeepsOnlyPairsAboveTheCentreSimilarity()
    {
        WriteItems();
        WriteCentresCsv();
        var (code, output) = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--measure", "centroid",
            "--yesterday-centres", P("yc.csv"), "--today-centres", P("tc.csv"), "--format", "csv", "-q");
        Assert.True(code == 0, output);
        // Hungarian on cosine distance pairs label 0 with old 0 (0.01) and label 1 with old 1 (0.2); at the default 0.95
        // only label 0 keeps its ID. Label 1 gets the smallest ID no old cluster holds, 3; the noise item 8 then 4.
        Assert.Equal(["item_id,cluster_id", "1,0", "2,0", "3,3", "4,3", "7,3", "8,4"], File.ReadAllLines(P("o/stable_ids.csv")));
        Assert.Equal(["cluster_id", "1", "2"], File.ReadAllLines(P("o/retired.csv")));
        var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("o/summary.json"))).RootElement;
        Assert.Equal("centroid", summary.GetProperty("measure").GetString());
        Assert.Equal(0.95, summary.GetProperty("threshold").GetDouble());
        // Shared items in a cluster yesterday: 1..4; 1 and 2 keep ID 0, 3 and 4 moved from 1 to 3: 2/4.
        Assert.Equal(0.5, summary.GetProperty("match_rate").GetDouble(), 15);

        // At 0.75 label 1 keeps old 1 too (cosine 0.8); the noise item takes 3, the smallest ID no old cluster holds.
        Assert.Equal(0, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o2"), "--measure", "centroid",
            "--yesterday-centres", P("yc.csv"), "--today-centres", P("tc.csv"), "--threshold", "0.75", "--format", "csv", "-q").Code);
        Assert.Equal(["item_id,cluster_id", "1,0", "2,0", "3,1", "4,1", "7,1", "8,3"], File.ReadAllLines(P("o2/stable_ids.csv")));
        Assert.Equal(["cluster_id", "2"], File.ReadAllLines(P("o2/retired.csv")));
    }

    [Fact]
    public void CentresAsParquetListsAndAsNpyFoldersGiveTheSameTablesAsCsv()
    {
        WriteItems();
        WriteCentresCsv();
        Sql($"COPY (SELECT CAST(cluster_id AS INTEGER) AS cluster_id, CAST(centre AS FLOAT[]) AS centre FROM read_csv('{P("yc.csv")}', header = true, columns = {{'cluster_id': 'INTEGER', 'centre': 'VARCHAR'}})) TO '{P("yc.parquet")}' (FORMAT PARQUET)");
        Sql($"COPY (SELECT CAST(label AS INTEGER) AS label, CAST(centre AS DOUBLE[]) AS centre FROM read_csv('{P("tc.csv")}', header = true, columns = {{'label': 'INTEGER', 'centre': 'VARCHAR'}})) TO '{P("tc.parquet")}' (FORMAT PARQUET)");
        Directory.CreateDirectory(P("ycn"));
        Directory.CreateDirectory(P("tcn"));
        Npy.Write(P("ycn/cluster_id.npy"), new long[] { 0, 1, 2 });
        Npy.Write<float>(P("ycn/centre.npy"), OldCentres.SelectMany(c => c).ToArray(), 3, 2);
        Npy.Write(P("tcn/label.npy"), new int[] { 0, 1 });
        Npy.Write<float>(P("tcn/centre.npy"), NewCentres.SelectMany(c => c).ToArray(), 2, 2);
        foreach (var (yc, tc, name) in new[] { ("yc.csv", "tc.csv", "csv"), ("yc.parquet", "tc.parquet", "pq"), ("ycn", "tcn", "npy") })
        {
            var (code, output) = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o" + name), "--measure", "centroid",
                "--yesterday-centres", P(yc), "--today-centres", P(tc), "--format", "csv", "-q");
            Assert.True(code == 0, output);
        }
        foreach (var table in new[] { "stable_ids.csv", "mapping.csv", "retired.csv" })
        {
            Assert.Equal(File.ReadAllBytes(P("ocsv/" + table)), File.ReadAllBytes(P("opq/" + table)));
            Assert.Equal(File.ReadAllBytes(P("ocsv/" + table)), File.ReadAllBytes(P("onpy/" + table)));
        }
    }

    [Theory]
    [InlineData("label,centre\n0,\"[1, 0]\"\n", "has no centre for label 1")]
    [InlineData("label,centre\n0,\"[1, 0]\"\n1,\"[0.6, 0.8]\"\n2,\"[0, 1]\"\n", "label 2 has a centre but no item")]
    [InlineData("label,centre\n0,\"[1, 0]\"\n1,\"[0.6, 0.8, 0]\"\n", "has 3 values at row 2 but 2 at row 1")]
    [InlineData("label,centre\n0,\"[1, 0, 0]\"\n1,\"[0.6, 0.8, 0]\"\n", "centres of dimension 3")]
    [InlineData("label,centre\n0,\"[1, nan]\"\n1,\"[0.6, 0.8]\"\n", "holds NaN at row 1, position 1")]
    [InlineData("label,centre\n0,\"[1, 0]\"\n0,\"[0.6, 0.8]\"\n", "holds 0 more than once (rows 1 and 2)")]
    [InlineData("label,centre\n0,\"[1, 0]\"\n1,\"oops\"\n", "at row 2 is not a list of numbers")]
    [InlineData("label,vector\n0,\"[1, 0]\"\n", "missing column 'centre'")]
    public void BadCentreTablesAreNamedAndNothingIsWritten(string csv, string expected)
    {
        WriteItems();
        WriteCentresCsv();
        File.WriteAllText(P("bad.csv"), csv);
        var (code, output) = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--measure", "centroid",
            "--yesterday-centres", P("yc.csv"), "--today-centres", P("bad.csv"), "-q");
        Assert.Equal(ExitCode.BadInput, code);
        Assert.Contains(expected, output);
        Assert.False(Directory.Exists(P("o")) && Directory.EnumerateFileSystemEntries(P("o")).Any());
    }

    [Fact]
    public void CentroidOptionsAreCheckedTogether()
    {
        WriteItems();
        WriteCentresCsv();
        Assert.Equal(ExitCode.Usage, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--measure", "centroid").Code);
        Assert.Equal(ExitCode.Usage, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"),
            "--yesterday-centres", P("yc.csv"), "--today-centres", P("tc.csv")).Code);
        Assert.Equal(ExitCode.Usage, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--measure", "median").Code);
    }

    [Fact]
    public void NpyColumnFoldersAreInputsLikeCsv()
    {
        // The hand case of LabelAssignCliTests as .npy columns (int64 ids, int32 labels).
        Directory.CreateDirectory(P("y"));
        Directory.CreateDirectory(P("t"));
        Npy.Write(P("y/item_id.npy"), new long[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        Npy.Write(P("y/cluster_id.npy"), new int[] { 0, 0, 0, 1, 1, -1, 2, 2 });
        Npy.Write(P("t/item_id.npy"), new long[] { 2, 3, 4, 5, 6, 7, 8, 9, 10 });
        Npy.Write(P("t/label.npy"), new long[] { 5, 5, 5, 6, 6, -1, 7, 5, 7 });
        var (code, output) = Run("remap", "--yesterday", P("y"), "--today", P("t"), "--out", P("o"), "--threshold", "0.6", "--format", "csv", "-q");
        Assert.True(code == 0, output);
        Assert.Equal(
            ["item_id,cluster_id", "2,0", "3,0", "4,0", "5,3", "6,3", "7,5", "8,4", "9,0", "10,4"],
            File.ReadAllLines(P("o/stable_ids.csv")));
    }

    [Fact]
    public void BadNpyColumnsAreNamed()
    {
        Directory.CreateDirectory(P("t"));
        Npy.Write(P("t/item_id.npy"), new long[] { 1, 2, 3 });
        Npy.Write(P("t/label.npy"), new int[] { 0, 0, 0 });
        Directory.CreateDirectory(P("y"));
        Npy.Write(P("y/item_id.npy"), new long[] { 1, 2, 3 });
        void Expect(string expected)
        {
            var (code, output) = Run("remap", "--yesterday", P("y"), "--today", P("t"), "--out", P("o"), "-q");
            Assert.Equal(ExitCode.BadInput, code);
            Assert.Contains(expected, output);
            Assert.False(Directory.Exists(P("o")));
        }
        Expect("missing column 'cluster_id' (no cluster_id.npy; the folder has item_id.npy)");
        Npy.Write(P("y/cluster_id.npy"), new float[] { 0, 0, 1 });
        Expect("element type '<f4'; column 'cluster_id' must hold integers");
        Npy.Write(P("y/cluster_id.npy"), new int[] { 0, 1 });
        Expect("2 rows but");
        Npy.Write(P("y/cluster_id.npy"), new int[] { 0, 1, 1 });
        File.WriteAllBytes(P("y/item_id.npy"), File.ReadAllBytes(P("y/item_id.npy"))[..^5]);
        Expect("truncated");
        Npy.Write(P("y/item_id.npy"), new long[] { 1, 1, 3 });
        Expect("column 'item_id' holds 1 more than once (rows 1 and 2");
    }
}
