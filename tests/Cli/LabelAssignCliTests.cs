using System.Globalization;
using DuckDB.NET.Data;
using LabelAssignment.Cli;
using LabelAssignment.Ids;
using LabelAssignment.Remapping;

namespace LabelAssignment.Tests.Cli;

/// <summary>labelassign end to end on small tables: outputs checked against the in-memory library (an independent
/// path: C# join and overlap, no DuckDB) and against hand-computed values.</summary>
public sealed class LabelAssignCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("labelassign-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static void WriteCsv(string path, string header, IEnumerable<(long, int)> rows) =>
        File.WriteAllLines(path, new[] { header }.Concat(rows.Select(r => $"{r.Item1},{r.Item2}")));

    private static (int Code, string Output) Run(params string[] args) => CliHarness.Run(args);

    private static List<object?[]> ReadTable(string path)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = $"SELECT * FROM {Tables.Source(path)}";
        using var r = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (r.Read())
        {
            var row = new object?[r.FieldCount];
            for (int i = 0; i < r.FieldCount; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    // The hand case of ClusterOverlapTests, as tables.
    private void WriteHandCase()
    {
        WriteCsv(P("y.csv"), "item_id,cluster_id", [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, -1), (7, 2), (8, 2)]);
        WriteCsv(P("t.csv"), "item_id,label", [(2, 5), (3, 5), (4, 5), (5, 6), (6, 6), (7, -1), (8, 7), (9, 5), (10, 7)]);
    }

    [Fact]
    public void RemapOnTheHandCaseWritesTheExpectedStableIds()
    {
        WriteHandCase();
        var (code, output) = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--threshold", "0.6", "--format", "csv", "-q");
        Assert.True(code == 0, output);
        // Jaccard (0,5) = 2/3 keeps 0; (1,6) = 1/3 and (2,7) = 1/2 do not clear 0.6, so 6 and 7 get the smallest free
        // IDs 3 and 4, and the noise item 7 (a cluster of its own, label 8) gets 5. Old 1 and 2 retire. Old 2 ties
        // between labels 7 and 8 (Jaccard 1/2 each); the dense solver takes the lowest column, label 7.
        Assert.Equal(
            ["item_id,cluster_id", "2,0", "3,0", "4,0", "5,3", "6,3", "7,5", "8,4", "9,0", "10,4"],
            File.ReadAllLines(P("o/stable_ids.csv")));
        Assert.Equal(["cluster_id", "1", "2"], File.ReadAllLines(P("o/retired.csv")));
        Assert.Equal(
            ["label,item_id,cluster_id,status,score,old_id", "-1,7,5,created,,", "5,,0,kept,0.6666666666666666,0",
             "6,,3,created,0.3333333333333333,1", "7,,4,created,0.5,2"],
            File.ReadAllLines(P("o/mapping.csv")));
        var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(P("o/summary.json"))).RootElement;
        Assert.Equal(7, summary.GetProperty("shared_items").GetInt64());
        Assert.Equal(1, summary.GetProperty("kept").GetInt32());
        Assert.Equal(3, summary.GetProperty("created").GetInt32());
        Assert.Equal(2, summary.GetProperty("retired").GetInt32());
        // Shared items in a cluster yesterday: 2,3 (old 0), 4,5 (old 1), 7,8 (old 2); 6 was noise. Only 2 and 3 keep
        // their ID (4 moved from 1 to 0): 2/6.
        Assert.Equal(2.0 / 6.0, summary.GetProperty("match_rate").GetDouble(), 15);
    }

    [Fact]
    public void RemapMatchesTheInMemoryLibraryOnGeneratedDays()
    {
        // Today's clusters are built from yesterday's with splits, merges, churn and noise.
        var rng = new Random(7);
        int n = 3000;
        var y = new List<(long, int)>();
        var t = new List<(long, int)>();
        for (long id = 0; id < n; id++)
        {
            int old = rng.NextDouble() < 0.05 ? -1 : 100 + rng.Next(60);
            if (rng.NextDouble() < 0.9) y.Add((id, old));
            int label = rng.NextDouble() < 0.05 ? -1 : old < 0 || rng.NextDouble() < 0.2 ? rng.Next(70) : (old * 3 + rng.Next(2)) % 70;
            if (rng.NextDouble() < 0.9) t.Add((id + 100, label));
        }
        WriteCsv(P("y.csv"), "item_id,cluster_id", y);
        WriteCsv(P("t.csv"), "item_id,label", t);
        var (code, output) = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "-q");
        Assert.True(code == 0, output);

        // The library on the same days, with today's noise items relabelled as clusters of their own (max label + k).
        int max = t.Where(p => p.Item2 >= 0).Max(p => p.Item2);
        var noise = t.Where(p => p.Item2 < 0).Select(p => p.Item1).Order().ToList();
        var todayLabels = t.Select(p => p.Item2 >= 0 ? p.Item2 : max + 1 + noise.IndexOf(p.Item1)).ToArray();
        var today = new Labeling(t.Select(p => p.Item1).ToArray(), todayLabels);
        var result = LabelRemapper.ByOverlap(new Labeling(y.Select(p => p.Item1).ToArray(), y.Select(p => p.Item2).ToArray()), today);
        var expected = t.Select(p => p.Item1).Zip(result.Apply(todayLabels)).OrderBy(p => p.First).ToList();

        var got = ReadTable(P("o/stable_ids.parquet"));
        Assert.Equal(expected.Count, got.Count);
        for (int k = 0; k < got.Count; k++)
            Assert.Equal((expected[k].First, expected[k].Second), ((long)got[k][0]!, (int)got[k][1]!));
        Assert.Equal(result.RetiredIds, ReadTable(P("o/retired.parquet")).Select(r => (int)r[0]!));
    }

    [Fact]
    public void RerunsAreByteIdenticalAndTheContingencyAndApplyPathsAgree()
    {
        WriteHandCase();
        foreach (var format in new[] { "parquet", "csv" })
        {
            string ext = format == "csv" ? ".csv" : ".parquet";
            Assert.Equal(0, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("a" + format), "--format", format, "-q").Code);
            Assert.Equal(0, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("b" + format), "--format", format, "-q").Code);
            foreach (var table in new[] { "stable_ids", "mapping", "retired" })
                Assert.Equal(File.ReadAllBytes(P($"a{format}/{table}{ext}")), File.ReadAllBytes(P($"b{format}/{table}{ext}")));

            // contingency elsewhere, then remap from it: the same tables.
            Assert.Equal(0, Run("contingency", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("c" + ext), "--format", format, "-q").Code);
            Assert.Equal(0, Run("remap", "--contingency", P("c" + ext), "--today", P("t.csv"), "--out", P("c" + format), "--format", format, "-q").Code);
            foreach (var table in new[] { "stable_ids", "mapping", "retired" })
                Assert.Equal(File.ReadAllBytes(P($"a{format}/{table}{ext}")), File.ReadAllBytes(P($"c{format}/{table}{ext}")));

            // apply with the mapping: the same stable IDs.
            Assert.Equal(0, Run("apply", "--today", P("t.csv"), "--mapping", P($"a{format}/mapping{ext}"), "--out", P("d" + format), "--format", format, "-q").Code);
            Assert.Equal(File.ReadAllBytes(P($"a{format}/stable_ids{ext}")), File.ReadAllBytes(P($"d{format}/stable_ids{ext}")));
        }
        Assert.Equal(
            ["old_id,new_label,shared,old_size,new_size", "-1,6,1,1,2", "0,5,2,2,3", "1,5,1,2,3", "1,6,1,2,2", "2,7,1,2,1", "2,8,1,2,1"],
            File.ReadAllLines(P("c.csv")));
    }

    [Fact]
    public void IdsStateNeverReusesARetiredId()
    {
        WriteHandCase();
        File.WriteAllText(P("state.json"), """{"Policy":"NeverReuse","HighWaterMark":41,"LiveIds":[0,1,2]}""");
        Assert.Equal(0, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--threshold", "0.6",
            "--ids-state", P("state.json"), "--format", "csv", "-q").Code);
        // Created IDs start above the high-water mark 41: 42 (label 6), 43 (label 7), 44 (noise item 7).
        Assert.Equal(["item_id,cluster_id", "2,0", "3,0", "4,0", "5,42", "6,42", "7,44", "8,43", "9,0", "10,43"],
            File.ReadAllLines(P("o/stable_ids.csv")));
        Assert.Equal(44, ClusterIdAllocator.Load(P("o/ids_state.json")).HighWaterMark);
    }

    [Theory]
    [InlineData("item_id,cluster\n1,0\n", "missing column 'cluster_id'")]
    [InlineData("item_id,cluster_id\n1,0\n2,x\n", "column 'cluster_id' has type VARCHAR")]
    [InlineData("item_id,cluster_id\n1,0\n2,0\n1,3\n", "column 'item_id' holds 1 more than once (rows 1 and 3")]
    [InlineData("item_id,cluster_id\n1,0\n2,\n3,1\n", "column 'cluster_id' is null at row 2")]
    [InlineData("item_id,cluster_id\n1,0\n2,-5\n", "column 'cluster_id' = -5 at row 2 is outside [-1, 2147483647]")]
    public void BadYesterdayIsNamedAndNothingIsWritten(string csv, string expected)
    {
        WriteHandCase();
        File.WriteAllText(P("bad.csv"), csv);
        var (code, output) = Run("remap", "--yesterday", P("bad.csv"), "--today", P("t.csv"), "--out", P("o"), "-q");
        Assert.Equal(ExitCode.BadInput, code);
        Assert.Contains(P("bad.csv"), output.Replace("\n", ""));
        Assert.Contains(expected, output.Replace("\n", ""));
        Assert.False(Directory.Exists(P("o")) && Directory.EnumerateFileSystemEntries(P("o")).Any());
    }

    [Fact]
    public void ExitCodesTellUsageFromMissingFilesAndEveryCommandHasHelp()
    {
        WriteHandCase();
        foreach (var command in new[] { "remap", "contingency", "apply" })
        {
            var (code, output) = Run(command, "--help");
            Assert.Equal(0, code);
            Assert.Contains("--today", output);
        }
        Assert.Equal(ExitCode.Usage, Run("remap", "--today", P("t.csv"), "--out", P("o")).Code);           // no --yesterday
        Assert.Equal(ExitCode.Usage, Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--threshold", "2").Code);
        Assert.Equal(ExitCode.Usage, Run("frobnicate").Code);
        var missing = Run("remap", "--yesterday", P("nope.parquet"), "--today", P("t.csv"), "--out", P("o"));
        Assert.Equal(ExitCode.Io, missing.Code);
        Assert.Contains("nope.parquet", missing.Output);
        // A mapping from another day: the first item it cannot map is named.
        File.WriteAllText(P("m.csv"), "label,item_id,cluster_id\n5,,0\n");
        var apply = Run("apply", "--today", P("t.csv"), "--mapping", P("m.csv"), "--out", P("o"));
        Assert.Equal(ExitCode.BadInput, apply.Code);
        Assert.Contains("no row for today's item_id 5 (label 6", apply.Output.Replace("\n", ""));
    }
}
