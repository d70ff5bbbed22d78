using System.Data.Common;
using System.Globalization;
using DuckDB.NET.Data;

namespace LabelAssignment.Cli;

/// <summary>Input data that breaks a rule (missing column, wrong type, null, duplicate id...); exit code 3.</summary>
internal sealed class InputDataException(string message) : Exception(message);

/// <summary>How output tables are written.</summary>
internal enum TableFormat
{
    /// <summary>Apache Parquet (the default).</summary>
    Parquet,

    /// <summary>CSV with a header row.</summary>
    Csv,
}

/// <summary>How DuckDB runs: its memory limit (e.g. "6GB"; null: DuckDB's default, 80% of RAM) and where it spills.</summary>
internal sealed record EngineSettings(string? MemoryLimit = null, string? TempDirectory = null)
{
    public static EngineSettings Default { get; } = new();

    private static readonly System.Text.RegularExpressions.Regex Size = new(@"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Whether <paramref name="limit"/> is a size DuckDB takes (a number and a unit, e.g. 6GB or 512MiB).</summary>
    public static bool IsSize(string limit) => Size.IsMatch(limit.Trim());
}

/// <summary>One column an input table must have: its name and whether it must be an integer.</summary>
internal readonly record struct RequiredColumn(string Name, bool Integer = true, bool Nullable = false);

/// <summary>
/// The DuckDB side: an in-process database that reads the input files as views (validated first), runs the SQL
/// files and writes output tables. Everything item-level happens here, out of core.
/// </summary>
internal sealed class Tables : IDisposable
{
    private readonly DuckDBConnection _db;

    private readonly string? _ownTemp;

    public Tables(EngineSettings? engine = null)
    {
        engine ??= EngineSettings.Default;
        _db = new DuckDBConnection("Data Source=:memory:");
        _db.Open();
        // Deterministic output order without paying for it where it is not needed.
        Execute("SET preserve_insertion_order = true");
        // Large joins and group-bys spill here: the given folder, or a private one under the system's temp folder
        // (DuckDB's default for an in-memory database is .tmp in the working folder, which may not be writable).
        string temp = engine.TempDirectory ?? (_ownTemp = Path.Combine(Path.GetTempPath(), $"labelassign.{Environment.ProcessId}.{Guid.NewGuid():N}"));
        Execute($"SET temp_directory = {Quote(temp)}");
        if (engine.MemoryLimit is not null) Execute($"SET memory_limit = {Quote(engine.MemoryLimit)}");
    }

    public void Dispose()
    {
        _db.Dispose();
        if (_ownTemp is not null && Directory.Exists(_ownTemp))
            try { Directory.Delete(_ownTemp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public DuckDBConnection Connection => _db;

    public static string Quote(string s) => "'" + s.Replace("'", "''") + "'";

    public void Execute(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public object? Scalar(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    public DbDataReader Query(string sql)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteReader();
    }

    /// <summary>The reader of a file by its extension (Parquet or CSV), as a DuckDB table expression.</summary>
    public static string Source(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".parquet" or ".pq" => $"read_parquet({Quote(path)})",
            ".csv" or ".tsv" or ".txt" => $"read_csv({Quote(path)}, header = true, auto_detect = true)",
            _ => throw new InputDataException(
                $"{path}: unknown table format '{ext}' (inputs are .parquet or .csv files, or a folder of .npy columns)."),
        };
    }

    /// <summary>
    /// Checks that <paramref name="path"/> exists and holds the columns (integers, no nulls), and, for
    /// <paramref name="uniqueColumn"/>, no value twice; then creates view <paramref name="view"/> over it with the
    /// columns cast to <paramref name="casts"/>. Errors name the file, the column and the (1-based data) row.
    /// </summary>
    public void LoadInput(string view, string path, RequiredColumn[] columns, string[] casts, string? uniqueColumn,
        (string Column, long Min, long Max)[] ranges)
    {
        if (!File.Exists(path) && !NpyColumns.IsFolder(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        string raw = view + "_raw";
        if (NpyColumns.IsFolder(path))
            NpyColumns.Load(this, raw + "_t", path, columns);
        else
            ReadFileInto(raw, path, columns);
        raw += "_t";
        CheckRows(view, raw, path, columns, casts, uniqueColumn, ranges);
    }

    /// <summary>A Parquet or CSV file read once into table RAW_t, its columns' presence and types checked first.</summary>
    private void ReadFileInto(string raw, string path, RequiredColumn[] columns)
    {
        try
        {
            Execute($"CREATE OR REPLACE VIEW {raw} AS SELECT * FROM {Source(path)}");
        }
        catch (DuckDBException e)
        {
            throw new InputDataException($"{path}: cannot be read as a table ({FirstLine(e.Message)}).");
        }

        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var r = Query($"DESCRIBE SELECT * FROM {raw}"))
            while (r.Read()) types[r.GetString(0)] = r.GetString(1);
        foreach (var c in columns)
        {
            if (!types.TryGetValue(c.Name, out string? type))
                throw new InputDataException(
                    $"{path}: missing column '{c.Name}' (it has {string.Join(", ", types.Keys.Select(k => $"'{k}'"))}).");
            // A CSV column that is entirely empty is sniffed as text: fine for a column that may be null.
            bool allNull = c.Nullable && type == "VARCHAR" &&
                Convert.ToInt64(Scalar($"SELECT COUNT({c.Name}) FROM {raw}"), CultureInfo.InvariantCulture) == 0;
            if (c.Integer && !IsInteger(type) && !allNull)
                throw new InputDataException($"{path}: column '{c.Name}' has type {type}; it must hold integers.");
        }

        // Read the file once into a DuckDB table (columnar, compressed, spilled to disk when large): every later
        // query, the checks included, scans it instead of parsing the file again.
        Execute($"CREATE OR REPLACE TEMP TABLE {raw}_t AS SELECT {string.Join(", ", columns.Select(c => c.Name))} FROM {raw}");
    }

    /// <summary>Nulls, ranges and duplicates in table <paramref name="raw"/>, then view <paramref name="view"/> over it.</summary>
    private void CheckRows(string view, string raw, string path, RequiredColumn[] columns, string[] casts, string? uniqueColumn,
        (string Column, long Min, long Max)[] ranges)
    {

        // One cheap pass for nulls and ranges; only when it finds something, a second pass finds the first row.
        var bad = new List<string>();
        foreach (var c in columns) if (!c.Nullable) bad.Add($"{c.Name} IS NULL");
        foreach (var (col, min, max) in ranges) bad.Add($"({col} < {min} OR {col} > {max})");
        string anyBad = string.Join(" OR ", bad);
        long nBad = Convert.ToInt64(Scalar($"SELECT COUNT(*) FROM {raw} WHERE {anyBad}"), CultureInfo.InvariantCulture);
        if (nBad > 0)
        {
            using var r = Query(
                $"SELECT * FROM (SELECT ROW_NUMBER() OVER () AS row_number_, * FROM {raw}) WHERE {anyBad} ORDER BY row_number_ LIMIT 1");
            r.Read();
            long row = r.GetInt64(0);
            foreach (var c in columns)
                if (!c.Nullable && r.IsDBNull(r.GetOrdinal(c.Name)))
                    throw new InputDataException($"{path}: column '{c.Name}' is null at row {row} ({nBad} bad rows in all; rows count from 1, after the header).");
            foreach (var (col, min, max) in ranges)
            {
                var value = Convert.ToInt64(r.GetValue(r.GetOrdinal(col)), CultureInfo.InvariantCulture);
                if (value < min || value > max)
                    throw new InputDataException(
                        $"{path}: column '{col}' = {value} at row {row} is outside [{min}, {max}] ({nBad} bad rows in all; rows count from 1, after the header).");
            }
        }
        if (uniqueColumn is not null)
        {
            long dups = Convert.ToInt64(Scalar(
                $"SELECT COUNT(*) - COUNT(DISTINCT {uniqueColumn}) FROM {raw}"), CultureInfo.InvariantCulture);
            if (dups > 0)
            {
                using var r = Query(
                    $"SELECT {uniqueColumn}, MIN(row_number_), MAX(row_number_) FROM (SELECT ROW_NUMBER() OVER () AS row_number_, {uniqueColumn} FROM {raw}) " +
                    $"GROUP BY {uniqueColumn} HAVING COUNT(*) > 1 ORDER BY 2 LIMIT 1");
                r.Read();
                throw new InputDataException(
                    $"{path}: column '{uniqueColumn}' holds {r.GetValue(0)} more than once (rows {r.GetInt64(1)} and {r.GetInt64(2)}; each item once).");
            }
        }
        Execute($"CREATE OR REPLACE VIEW {view} AS SELECT {string.Join(", ", casts)} FROM {raw}");
    }

    internal static bool IsInteger(string type) => type is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT"
        or "UTINYINT" or "USMALLINT" or "UINTEGER" or "UBIGINT" or "UHUGEINT";

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    /// <summary>Writes a query's rows to <paramref name="path"/> (Parquet or CSV with a header).</summary>
    public void CopyTo(string query, string path, TableFormat format)
    {
        string options = format == TableFormat.Csv ? "FORMAT CSV, HEADER true" : "FORMAT PARQUET";
        Execute($"COPY ({query}) TO {Quote(path)} ({options})");
    }
}

/// <summary>
/// Output files written as a set: each goes to a hidden temporary name in the output folder and all are renamed into
/// place only after every one was written, so a failure leaves the previous outputs as they were.
/// </summary>
internal sealed class OutputSet : IDisposable
{
    private readonly List<(string Temp, string Final)> _files = [];
    private bool _committed;

    public OutputSet(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>A temporary path to write <paramref name="name"/> to; it becomes Folder/name at <see cref="Commit"/>.</summary>
    public string Add(string name) => AddPath(Path.Combine(Folder, name));

    /// <summary>As <see cref="Add"/> for a full path.</summary>
    public string AddPath(string finalPath)
    {
        string full = Path.GetFullPath(finalPath);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        _files.Add((temp, full));
        return temp;
    }

    public void Commit()
    {
        foreach (var (temp, final) in _files) File.Move(temp, final, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (_committed) return;
        foreach (var (temp, _) in _files)
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
