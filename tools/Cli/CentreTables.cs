using System.Globalization;
using DuckDB.NET.Data;
using LabelAssignment.IO;
using LabelAssignment.Numerics;
using LabelAssignment.Remapping;

namespace LabelAssignment.Cli;

/// <summary>
/// Cluster centres as a table, for <c>remap --measure centroid</c>: one row per cluster with its ID column
/// (<c>cluster_id</c> yesterday, <c>label</c> today) and <c>centre</c>, a list of numbers (Parquet LIST or ARRAY of
/// FLOAT/DOUBLE; in CSV a text like <c>[0.1, 0.2]</c>); or a folder with <c>cluster_id.npy</c> (or <c>label.npy</c>,
/// 1-D integers) and <c>centre.npy</c> (2-D float32/float64, one row per ID). The table is cluster-level (k rows),
/// so it is read into memory whole.
/// </summary>
internal static class CentreTables
{
    public const string CentreColumn = "centre";

    /// <summary>Reads, validates and keys the centres by <paramref name="idColumn"/>.</summary>
    /// <exception cref="InputDataException">Missing columns, nulls, IDs below 0 or twice, rows of different lengths,
    /// non-finite values; the message names the file, the column and the row.</exception>
    public static ClusterCentres Read(string path, string idColumn)
    {
        int[] ids;
        EmbeddingMatrix centres;
        if (NpyColumns.IsFolder(path)) (ids, centres) = ReadNpy(path, idColumn);
        else if (File.Exists(path)) (ids, centres) = ReadTable(path, idColumn);
        else throw new FileNotFoundException($"{path}: no such file.", path);

        if (ids.Length == 0) throw new InputDataException($"{path}: no centre rows.");
        var seen = new Dictionary<int, int>(ids.Length);
        for (int r = 0; r < ids.Length; r++)
        {
            if (ids[r] < 0)
                throw new InputDataException($"{path}: column '{idColumn}' = {ids[r]} at row {r + 1}: centres are for clusters (>= 0; noise has none).");
            if (!seen.TryAdd(ids[r], r))
                throw new InputDataException($"{path}: column '{idColumn}' holds {ids[r]} more than once (rows {seen[ids[r]] + 1} and {r + 1}).");
        }
        int d = centres.Dimension;
        for (int r = 0; r < centres.Count; r++)
        {
            var row = centres.Row(r);
            for (int j = 0; j < d; j++)
                if (!float.IsFinite(row[j]))
                    throw new InputDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{path}: column '{CentreColumn}' holds {row[j]} at row {r + 1}, position {j}: centres must be finite."));
        }
        return new ClusterCentres(centres, ids);
    }

    private static (int[], EmbeddingMatrix) ReadNpy(string folder, string idColumn)
    {
        string idFile = Path.Combine(folder, idColumn + ".npy"), centreFile = Path.Combine(folder, CentreColumn + ".npy");
        foreach (var f in new[] { idFile, centreFile })
            if (!File.Exists(f)) throw new InputDataException($"{folder}: missing column file {Path.GetFileName(f)} (a centre folder holds {idColumn}.npy and {CentreColumn}.npy).");
        try
        {
            int[] ids = Npy.ReadLabels(idFile);
            var centres = Npy.ReadMatrix(centreFile);
            if (centres.Count != ids.Length)
                throw new InputDataException($"{centreFile}: {centres.Count} rows but {idFile} has {ids.Length}: one centre per ID.");
            return (ids, centres);
        }
        catch (InvalidDataException e) { throw new InputDataException(e.Message); }
    }

    private static (int[], EmbeddingMatrix) ReadTable(string path, string idColumn)
    {
        using var db = new DuckDBConnection("Data Source=:memory:");
        db.Open();
        string src = Tables.Source(path);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"DESCRIBE SELECT * FROM {src}";
            using var r = cmd.ExecuteReader();
            while (r.Read()) types[r.GetString(0)] = r.GetString(1);
        }
        catch (DuckDBException e) { throw new InputDataException($"{path}: cannot be read as a table ({e.Message.Split('\n')[0].Trim()})."); }
        foreach (var c in new[] { idColumn, CentreColumn })
            if (!types.ContainsKey(c))
                throw new InputDataException($"{path}: missing column '{c}' (it has {string.Join(", ", types.Keys.Select(k => $"'{k}'"))}).");
        if (!Tables.IsInteger(types[idColumn]))
            throw new InputDataException($"{path}: column '{idColumn}' has type {types[idColumn]}; it must hold integers.");
        string centreType = types[CentreColumn];
        bool listType = centreType.EndsWith(']') && (centreType.StartsWith("FLOAT", StringComparison.Ordinal) || centreType.StartsWith("DOUBLE", StringComparison.Ordinal)
            || centreType.StartsWith("DECIMAL", StringComparison.Ordinal) || centreType.StartsWith("INTEGER", StringComparison.Ordinal) || centreType.StartsWith("BIGINT", StringComparison.Ordinal));
        if (!listType && centreType != "VARCHAR")
            throw new InputDataException($"{path}: column '{CentreColumn}' has type {centreType}; it must be a list of numbers (e.g. FLOAT[] or DOUBLE[]).");
        string cast = $"TRY_CAST({CentreColumn} AS DOUBLE[])";

        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = $"CREATE TEMP TABLE ct AS SELECT ROW_NUMBER() OVER () AS row_, {idColumn} AS id, {cast} AS c, {CentreColumn} IS NULL AS was_null FROM {src}";
            cmd.ExecuteNonQuery();
        }
        // Cluster-level checks first (k rows), then the values, in row and list order.
        var ids = new List<int>();
        int dimension = -1;
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT row_, CAST(id AS BIGINT), len(c), was_null FROM ct ORDER BY row_";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                long row = r.GetInt64(0);
                if (r.IsDBNull(1)) throw new InputDataException($"{path}: column '{idColumn}' is null at row {row}.");
                long id = r.GetInt64(1);
                if (id < int.MinValue || id > int.MaxValue) throw new InputDataException($"{path}: column '{idColumn}' = {id} at row {row} is outside 32-bit IDs.");
                if (r.IsDBNull(2))
                    throw new InputDataException(r.GetBoolean(3)
                        ? $"{path}: column '{CentreColumn}' is null at row {row}."
                        : $"{path}: column '{CentreColumn}' at row {row} is not a list of numbers.");
                int len = checked((int)r.GetInt64(2));
                if (dimension < 0) dimension = len;
                if (len != dimension || len == 0)
                    throw new InputDataException($"{path}: column '{CentreColumn}' has {len} values at row {row} but {dimension} at row 1: every centre has the same dimension (> 0).");
                ids.Add(checked((int)id));
            }
        }
        if (ids.Count == 0) return ([], new EmbeddingMatrix([], 0, 1));
        var values = new float[checked(ids.Count * dimension)];
        using (var cmd = db.CreateCommand())
        {
            cmd.CommandText = "SELECT row_, v FROM (SELECT row_, UNNEST(c) AS v, generate_subscripts(c, 1) AS j FROM ct) ORDER BY row_, j";
            using var r = cmd.ExecuteReader();
            int k = 0;
            while (r.Read())
            {
                long row = r.GetInt64(0);
                if (r.IsDBNull(1)) throw new InputDataException($"{path}: column '{CentreColumn}' holds a null value at row {row}.");
                double v = r.GetDouble(1);
                float f = (float)v;
                if (float.IsInfinity(f) && double.IsFinite(v))
                    throw new InputDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: column '{CentreColumn}' holds {v:R} at row {row}, beyond float32's range."));
                values[k++] = f;
            }
            if (k != values.Length) throw new InvalidOperationException($"{path}: read {k} centre values, expected {values.Length}.");
        }
        return ([.. ids], new EmbeddingMatrix(values, ids.Count, dimension));
    }
}
