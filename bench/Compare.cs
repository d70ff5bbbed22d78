using System.Globalization;
using System.Text.Json.Nodes;

namespace LabelAssignment.Bench;

/// <summary>
/// Joins our benchmark records with anchor_bench.py's by case id and prints one row per case: both medians,
/// the ratio ours / theirs (below 1 means we are faster) and the figures that show both computed the same thing.
/// </summary>
public static class Compare
{
    /// <summary>Summary keys that both sides report and that must agree, with the tolerance for each.</summary>
    private static readonly (string Key, double Tolerance)[] Agreement =
    [
        ("value", 1e-9),            // ARI / AMI
        ("optimal_cost", 1e-9),     // linear assignment
        ("inertia", 0.01),          // KMeans: relative, within 1%
        ("clusters", 0),            // DBSCAN cluster count
        ("noise_frac", 1e-6),
        ("pairs_within_0.1", 3),
        ("pairs_within_0.2", 3),
    ];

    /// <summary>Prints the comparison table; returns 0, or 2 when a file is missing.</summary>
    public static int Print(string[] files, TextWriter output)
    {
        if (files.Length < 2)
            throw new ArgumentException("compare needs OURS.json and at least one ANCHORS.json.");
        var ours = Load(files[0]);
        var theirs = files.Skip(1).SelectMany(Load).GroupBy(r => Id(r)).ToDictionary(g => g.Key, g => g.Last());
        output.WriteLine($"{"case id",-40} {"ours s",10} {"theirs s",10} {"ratio",7}  agreement");
        output.WriteLine(new string('-', 110));
        foreach (var r in ours)
        {
            string id = Id(r);
            double mine = r["median_s"]!.GetValue<double>();
            if (!theirs.TryGetValue(id, out var other))
            {
                output.WriteLine($"{id,-40} {mine,10:F4} {"-",10} {"-",7}  (no anchor record)");
                continue;
            }
            double ref_ = other["median_s"]!.GetValue<double>();
            string ratio = ref_ > 0 ? (mine / ref_).ToString("F3", CultureInfo.InvariantCulture) : "-";
            output.WriteLine($"{id,-40} {mine,10:F4} {ref_,10:F4} {ratio,7}  {Agree(r["summary"] as JsonObject, other["summary"] as JsonObject)}");
        }
        return 0;
    }

    private static string Id(JsonObject r) => r["id"]!.GetValue<string>();

    private static List<JsonObject> Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such report.", path);
        var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty JSON.");
        var results = root["results"] as JsonArray ?? throw new InvalidDataException($"{path}: no 'results' array.");
        return results.OfType<JsonObject>().ToList();
    }

    private static string Agree(JsonObject? mine, JsonObject? theirs)
    {
        if (mine is null || theirs is null) return "";
        var parts = new List<string>();
        foreach (var (key, tol) in Agreement)
        {
            if (mine[key] is not JsonValue a || theirs[key] is not JsonValue b) continue;
            double x = a.GetValue<double>(), y = b.GetValue<double>();
            bool ok = key == "inertia" ? Math.Abs(x - y) <= tol * Math.Abs(y) : Math.Abs(x - y) <= tol;
            parts.Add($"{key} {Fmt(x)} vs {Fmt(y)} {(ok ? "ok" : "DIFFERS")}");
        }
        foreach (var extra in new[] { "same_labels_as_anchor", "border_points_differing" })
            if (mine[extra] is JsonValue v) parts.Add($"{extra}={v}");
        return string.Join("; ", parts);
    }

    private static string Fmt(double v) => v.ToString("G10", CultureInfo.InvariantCulture);
}
