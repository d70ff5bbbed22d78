using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using LabelAssignment.IO;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Linear sum assignment on the anchor cost matrices <c>lsa_RxC.npy</c> (uniform [0, 1) float64, written by
/// make_data.py next to the X file), timed like anchor_bench.py's "lsa" case so the two can be compared by id.
/// </summary>
public sealed class LsaCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "lsa";

    /// <inheritdoc/>
    public string Description => "LinearAssignment.Solve on lsa_RxC.npy (option --lsa-sizes, default 100,1000,3000,5000,1000x1200)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["lsa-sizes"] = "60,40x60" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        foreach (var (r, c) in ParseShapes(context.Option("lsa-sizes", "100,1000,3000,5000,1000x1200")))
        {
            string id = $"lsa/{r}x{c}";
            string path = Path.Combine(context.DataFolder, $"lsa_{r}x{c}.npy");
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"{id}: skipped, {path} missing (run make_data.py with --lsa)");
                continue;
            }
            var (cost, rows, cols) = Npy.ReadFloat64Matrix(path);
            if (rows != r || cols != c)
                throw new InvalidDataException($"{path}: shape {rows}x{cols}, expected {r}x{c}.");
            var (result, timing) = context.Measure(() => LinearAssignment.Solve(cost, rows, cols));
            var colBytes = new byte[result.Count * sizeof(long)];
            for (int k = 0; k < result.Count; k++)
                BitConverter.TryWriteBytes(colBytes.AsSpan(k * sizeof(long)), (long)result.ColumnIndices[k]);
            var summary = new JsonObject
            {
                ["optimal_cost"] = result.TotalCost,
                ["assigned"] = result.Count,
                // Same digest as anchor_bench.py (sha256 of the int64 column indices, first 16 hex digits).
                ["col_ind_sha256"] = Convert.ToHexStringLower(SHA256.HashData(colBytes))[..16],
            };
            context.Record(id, Name, new JsonObject { ["rows"] = r, ["cols"] = c, ["input"] = path, ["dtype"] = "float64" }, timing, summary);
        }
    }

    /// <summary>"100,1000x1200" -> (100, 100), (1000, 1200).</summary>
    internal static List<(int Rows, int Cols)> ParseShapes(string text)
    {
        var shapes = new List<(int, int)>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] xs = part.Split('x');
            if (xs.Length is < 1 or > 2 || !xs.All(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
                throw new ArgumentException($"--lsa-sizes: '{part}' is not N or RxC with positive integers.");
            int r = int.Parse(xs[0], CultureInfo.InvariantCulture);
            shapes.Add((r, xs.Length == 2 ? int.Parse(xs[1], CultureInfo.InvariantCulture) : r));
        }
        return shapes;
    }
}
