using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Metrics;
using LabelAssignment.Clustering;
using LabelAssignment.IO;

namespace LabelAssignment.Bench;

/// <summary>
/// Joins our benchmark records with anchor_bench.py's by case id and prints one row per case: both medians,
/// the ratio ours / theirs (below 1 means we are faster), the speed-up, and the figures that show both computed
/// the same thing (summary values within a tolerance per key; label artifacts compared row by row and by ARI).
/// Works for any case whose ids match the anchor's (metrics, dbscan, kmeans, lsa, cdist, pairwise, nearest, ...).
/// </summary>
public static class Compare
{
    private enum Rule { Absolute, Relative, Exact }

    /// <summary>Summary keys that both sides report and that must agree, with how they are compared.</summary>
    private static readonly (string Key, Rule Rule, double Tolerance, string Why)[] Agreement =
    [
        ("value", Rule.Absolute, 1e-9, "ARI / AMI"),
        ("optimal_cost", Rule.Relative, 1e-9, "linear assignment: the optimum is unique even when the matching is not"),
        ("assigned", Rule.Exact, 0, "linear assignment: matched rows"),
        ("inertia", Rule.Relative, 0.01, "KMeans: depends on the initialisation, so within 1%"),
        ("clusters", Rule.Exact, 0, "DBSCAN cluster count"),
        ("noise_frac", Rule.Absolute, 1e-6, "DBSCAN noise share"),
        ("sum", Rule.Relative, 1e-5, "cdist: float32 vs float64 sums"),
        ("centres_at_start", Rule.Exact, 0, "nearest: centres after the DBSCAN init"),
        ("init_dbscan_clusters", Rule.Exact, 0, "nearest: init clusters"),
        ("init_noise_points", Rule.Exact, 0, "nearest: init noise points"),
    ];

    // Pair counts at a threshold: a pair exactly at eps can flip between float implementations.
    private const string PairsPrefix = "pairs_within_";
    private const double PairsTolerance = 3;

    /// <summary>Prints the comparison table of OURS.json against one or more anchor reports. Returns 0 when
    /// every compared figure agrees, 1 when one differs.</summary>
    /// <exception cref="ArgumentException">Fewer than two files.</exception>
    /// <exception cref="FileNotFoundException">A report is missing.</exception>
    /// <exception cref="InvalidDataException">A report is not a benchmark report.</exception>
    public static int Print(string[] files, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(output);
        if (files.Length < 2)
            throw new ArgumentException($"compare got {files.Length} file(s); expected OURS.json and at least one ANCHORS.json.", nameof(files));
        var (oursRoot, ours) = Load(files[0]);
        var anchorReports = files.Skip(1).Select(Load).ToList();
        var theirs = anchorReports.SelectMany(r => r.Results).GroupBy(Id).ToDictionary(g => g.Key, g => g.Last());

        output.WriteLine($"ours:   {oursRoot["machine"]?.ToString() ?? "?"}");
        foreach (var (root, _) in anchorReports)
            output.WriteLine($"theirs: {DescribeAnchor(root)}");
        output.WriteLine();
        output.WriteLine($"{"case id",-34} {"ours s",10} {"theirs s",10} {"ours/theirs",11} {"speed-up",9}  agreement");
        output.WriteLine(new string('-', 120));
        bool allAgree = true;
        foreach (var r in ours)
        {
            string id = Id(r);
            double? mine = Seconds(r);
            if (!theirs.TryGetValue(id, out var other))
            {
                output.WriteLine($"{id,-34} {Time(mine),10} {"-",10} {"-",11} {"-",9}  (no anchor record)");
                continue;
            }
            double? reference = Seconds(other);
            string ratio = "-", speedup = "-";
            if (mine is double m && reference is double t && m > 0 && t > 0)
            {
                ratio = (m / t).ToString(m / t < 0.01 ? "0.0e+0" : "0.000", CultureInfo.InvariantCulture);
                speedup = t / m >= 10 ? $"{t / m:F0}x" : $"{t / m:F2}x";
            }
            var (text, agree) = Agree(r, other);
            allAgree &= agree;
            string unit = other["unit"] is JsonValue u ? $" [{u}]" : "";
            output.WriteLine($"{id,-34} {Time(mine),10} {Time(reference),10} {ratio,11} {speedup,9}  {text}{unit}");
        }
        var onlyTheirs = theirs.Keys.Except(ours.Select(Id)).Order(StringComparer.Ordinal).ToList();
        if (onlyTheirs.Count > 0)
            output.WriteLine($"\nanchor records with no record of ours: {string.Join(", ", onlyTheirs)}");
        foreach (var (root, _) in anchorReports)
            if (root["skipped"] is JsonArray skipped && skipped.Count > 0)
                output.WriteLine($"skipped by the anchor: {string.Join("; ", skipped.OfType<JsonObject>().Select(s => $"{s["id"]} ({s["why"]})"))}");
        output.WriteLine();
        output.WriteLine(allAgree ? "agreement: every compared figure agrees." : "agreement: some figures DIFFER (see above).");
        return allAgree ? 0 : 1;
    }

    private static string Id(JsonObject r) => r["id"]?.GetValue<string>() ?? throw new InvalidDataException("a result has no 'id'.");

    private static double? Seconds(JsonObject r) => r["median_s"] is JsonValue v && v.TryGetValue(out double s) ? s : null;

    private static string Time(double? s) => s is double v ? v.ToString(v < 0.01 ? "0.000000" : "0.0000", CultureInfo.InvariantCulture) : "-";

    private static (JsonObject Root, List<JsonObject> Results) Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such report.", path);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
        if (root is not JsonObject obj || obj["results"] is not JsonArray results)
            throw new InvalidDataException($"{path}: no 'results' array; expected a report of bench run or anchor_bench.py.");
        return (obj, results.OfType<JsonObject>().ToList());
    }

    private static string DescribeAnchor(JsonObject root)
    {
        if (root["environment"] is not JsonObject env)
            return root["tool"]?.ToString() ?? "?";
        var parts = new List<string> { $"{root["tool"]}", $"sklearn {env["sklearn"]}", $"scipy {env["scipy"]}", $"numpy {env["numpy"]}" };
        if (env["threadpools"] is JsonArray pools)
            foreach (var pool in pools.OfType<JsonObject>())
                parts.Add($"{pool["internal_api"]}({pool["architecture"]?.ToString() ?? "-"}) x{pool["num_threads"]}");
        if (env["env"] is JsonObject vars)
            foreach (var (name, value) in vars)
                if (value is not null && name.StartsWith("OPENBLAS", StringComparison.Ordinal))
                    parts.Add($"{name}={value}");
        parts.Add($"{env["cpu"]}");
        return string.Join("; ", parts);
    }

    private static (string Text, bool Agree) Agree(JsonObject mine, JsonObject theirs)
    {
        var parts = new List<string>();
        bool ok = true;
        if (mine["summary"] is JsonObject a && theirs["summary"] is JsonObject b)
        {
            foreach (var (key, rule, tolerance, _) in Agreement)
                if (Number(a[key]) is double x && Number(b[key]) is double y)
                    ok &= Check(parts, key, x, y, rule, tolerance);
            foreach (var (key, node) in a)
                if (key.StartsWith(PairsPrefix, StringComparison.Ordinal) && Number(node) is double x && Number(b[key]) is double y)
                    ok &= Check(parts, key, x, y, Rule.Absolute, PairsTolerance);
            foreach (var extra in new[] { "same_labels_as_anchor", "border_points_differing" })
                if (a[extra] is JsonValue v) parts.Add($"{extra}={v}");
        }
        if (mine["artifacts"] is JsonObject ma && theirs["artifacts"] is JsonObject ta && ma["labels"] is JsonValue ml && ta["labels"] is JsonValue tl)
            parts.Add(CompareLabels(ml.ToString(), tl.ToString()));
        return (parts.Count == 0 ? "(nothing to compare)" : string.Join("; ", parts), ok);
    }

    private static bool Check(List<string> parts, string key, double x, double y, Rule rule, double tolerance)
    {
        bool ok = rule switch
        {
            Rule.Exact => x == y,
            Rule.Relative => Math.Abs(x - y) <= tolerance * Math.Max(Math.Abs(x), Math.Abs(y)),
            _ => Math.Abs(x - y) <= tolerance,
        };
        string diff = x == y ? "" : $" (diff {Math.Abs(x - y).ToString("G2", CultureInfo.InvariantCulture)})";
        parts.Add($"{key} {Fmt(x)} vs {Fmt(y)}{diff} {(ok ? "ok" : "DIFFERS")}");
        return ok;
    }

    /// <summary>Both sides' labels for the same case: identical, or how many rows differ and the ARI between them.</summary>
    private static string CompareLabels(string oursPath, string theirsPath)
    {
        if (!File.Exists(oursPath) || !File.Exists(theirsPath))
            return $"labels: not compared ({(File.Exists(oursPath) ? theirsPath : oursPath)} missing)";
        int[] x = Npy.ReadLabels(oursPath), y = Npy.ReadLabels(theirsPath);
        if (x.Length != y.Length)
            return $"labels: lengths differ ({x.Length} vs {y.Length})";
        int differing = 0;
        for (int i = 0; i < x.Length; i++)
            if (x[i] != y[i]) differing++;
        if (differing == 0)
            return "labels identical";
        return $"labels: {differing} of {x.Length} rows differ, ARI {Fmt(ClusteringMetrics.AdjustedRandIndex(x, y))}";
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out double d) ? d
        : node is JsonValue b && b.TryGetValue(out bool flag) ? (flag ? 1 : 0)
        : null;

    private static string Fmt(double v) => v.ToString("G10", CultureInfo.InvariantCulture);
}
