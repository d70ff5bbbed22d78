using DuckDB.NET.Data;

namespace LabelAssignment.Tests.Cli;

/// <summary>The SQL files under tools/Cli/sql, read from the repo and run in a bare DuckDB on plain tables, give
/// exactly the tables the CLI writes.</summary>
public sealed class SqlFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("labelassign-sql-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string SqlFile(string name) => File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tools", "Cli", "sql", name));

    private static List<string> Rows(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read())
            rows.Add(string.Join(",", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    private static void Exec(DuckDBConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public void ContingencyAndApplySqlGiveWhatTheCliWrites()
    {
        var rng = new Random(3);
        var y = new List<string> { "item_id,cluster_id" };
        var t = new List<string> { "item_id,label" };
        for (int id = 0; id < 2000; id++)
        {
            int old = rng.NextDouble() < 0.05 ? -1 : rng.Next(50);
            if (rng.NextDouble() < 0.9) y.Add($"{id},{old}");
            int label = rng.NextDouble() < 0.05 ? -1 : old < 0 || rng.NextDouble() < 0.2 ? rng.Next(45) : old % 45;
            if (rng.NextDouble() < 0.9) t.Add($"{id + 50},{label}");
        }
        string yp = Path.Combine(_dir, "y.csv"), tp = Path.Combine(_dir, "t.csv");
        File.WriteAllLines(yp, y);
        File.WriteAllLines(tp, t);
        Assert.Equal(0, LabelAssignment.Cli.Cli.Run(["contingency", "--yesterday", yp, "--today", tp, "--out", Path.Combine(_dir, "c.parquet"), "-q"]));
        Assert.Equal(0, LabelAssignment.Cli.Cli.Run(["remap", "--yesterday", yp, "--today", tp, "--out", Path.Combine(_dir, "o"), "-q"]));

        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        // Plain tables with the documented columns, as a warehouse would hold them.
        Exec(db, "CREATE TABLE yesterday (item_id BIGINT, cluster_id INTEGER)");
        Exec(db, "CREATE TABLE today (item_id BIGINT, label INTEGER)");
        Exec(db, $"INSERT INTO yesterday SELECT * FROM read_csv('{yp}', header = true)");
        Exec(db, $"INSERT INTO today SELECT * FROM read_csv('{tp}', header = true)");
        var contingency = Rows(db, SqlFile("contingency.sql"));
        Assert.True(contingency.Count > 100);
        Assert.Equal(Rows(db, $"SELECT * FROM read_parquet('{Path.Combine(_dir, "c.parquet")}')"), contingency);

        Exec(db, $"CREATE TABLE mapping AS SELECT * FROM read_parquet('{Path.Combine(_dir, "o", "mapping.parquet")}')");
        var applied = Rows(db, SqlFile("apply.sql"));
        Assert.Equal(t.Count - 1, applied.Count);
        Assert.Equal(Rows(db, $"SELECT * FROM read_parquet('{Path.Combine(_dir, "o", "stable_ids.parquet")}')"), applied);
    }
}
