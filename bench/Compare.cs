using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Metrics;
using LabelAssignment.Clustering;
using LabelAssignment.IO;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench;

/// <summary>
/// Joins our benchmark records with anchor_bench.py's by case id and prints one row per case: both medians,
/// the ratio ours / theirs (below 1 means we are faster), the speed-up, and the figures that show both computed
/// the same thing (summary values within a tolerance per key; artifacts compared row by row: labels, centres,
/// online cluster ids). Works for any case whose ids match the anchor's (metrics, dbscan, kmeans, lsa, cdist,
/// pairwise, nearest, ...); a record of ours with <c>anchor_id</c> is joined with that anchor record instead.
/// Several anchor reports may hold the same id (bench/compare.sh runs KMeans once per seed): the time is the first
/// one's, and <c>inertia</c> is compared as the median over all of them against our median over seeds.
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
        ("inertia", Rule.Relative, 0.01, "KMeans: the median over seeds on both sides, within 1% (one fit moves 2-3% with the seed)"),
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
        var theirs = anchorReports.SelectMany(r => r.Results).GroupBy(Id).ToDictionary(g => g.Key, g => g.ToList());

        output.WriteLine($"ours:   {oursRoot["machine"]?.ToString() ?? "?"}");
        foreach (string anchor in anchorReports.Select(r => DescribeAnchor(r.Root)).Distinct())
            output.WriteLine($"theirs: {anchor}");
        output.WriteLine();
        output.WriteLine($"{"case id",-34} {"ours s",10} {"theirs s",10} {"ours/theirs",11} {"speed-up",9}  agreement");
        output.WriteLine(new string('-', 120));
        bool allAgree = true;
        foreach (var r in ours)
        {
            string id = Id(r);
            double? mine = Seconds(r);
            if (!theirs.TryGetValue(AnchorId(r), out var others))
            {
                output.WriteLine($"{id,-34} {Time(mine),10} {"-",10} {"-",11} {"-",9}  (no anchor record)");
                continue;
            }
            var other = others[0];
            double? reference = Seconds(other);
            string ratio = "-", speedup = "-";
            if (mine is double m && reference is double t && m > 0 && t > 0)
            {
                ratio = (m / t).ToString(m / t < 0.01 ? "0.0e+0" : "0.000", CultureInfo.InvariantCulture);
                speedup = t / m >= 10 ? $"{t / m:F0}x" : $"{t / m:F2}x";
            }
            var (text, agree) = Agree(r, others);
            allAgree &= agree;
            string unit = other["unit"] is JsonValue u ? $" [{u}]" : "";
            output.WriteLine($"{id,-34} {Time(mine),10} {Time(reference),10} {ratio,11} {speedup,9}  {text}{unit}");
        }
        var onlyTheirs = theirs.Keys.Except(ours.Select(AnchorId)).Order(StringComparer.Ordinal).ToList();
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

    // Our record names the anchor record it reproduces when the ids differ (nearest/centroid-first vs nearest/pandas).
    private static string AnchorId(JsonObject r) => r["anchor_id"] is JsonValue v ? v.ToString() : Id(r);

    /// <summary>The median (the mean of the two middle values for an even count).</summary>
    /// <exception cref="ArgumentException">No values.</exception>
    public static double Median(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("the median of no values is undefined.", nameof(values));
        var sorted = values.Order().ToArray();
        int h = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
    }

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

    private static (string Text, bool Agree) Agree(JsonObject mine, List<JsonObject> theirsAll)
    {
        var theirs = theirsAll[0];
        var parts = new List<string>();
        bool ok = true;
        if (mine["summary"] is JsonObject a && theirs["summary"] is JsonObject b)
        {
            foreach (var (key, rule, tolerance, _) in Agreement)
            {
                if (Number(a[key]) is not double x || Number(b[key]) is not double y)
                    continue;
                string label = key;
                if (key == "inertia")
                {
                    // Ours is already the median over our seeds; theirs is the median over the anchor runs (one per seed).
                    var values = theirsAll.Select(t => Number((t["summary"] as JsonObject)?[key])).OfType<double>().ToList();
                    y = Median(values);
                    int oursSeeds = a["inertia_by_seed"] is JsonArray bySeed ? bySeed.Count : 1;
                    label = $"inertia (median of {oursSeeds} vs {values.Count} seeds)";
                }
                ok &= Check(parts, label, x, y, rule, tolerance);
            }
            foreach (var (key, node) in a)
                if (key.StartsWith(PairsPrefix, StringComparison.Ordinal) && Number(node) is double x && Number(b[key]) is double y)
                    ok &= Check(parts, key, x, y, Rule.Absolute, PairsTolerance);
            foreach (var extra in new[] { "same_labels_as_anchor", "border_points_differing" })
                if (a[extra] is JsonValue v) parts.Add($"{extra}={v}");
        }
        var theirsArtifacts = theirsAll.Select(t => t["artifacts"]).OfType<JsonObject>().FirstOrDefault();
        if (mine["artifacts"] is JsonObject ma && theirsArtifacts is not null)
        {
            string? ArtifactPath(JsonObject o, string kind) => o[kind] is JsonValue v ? v.ToString() : null;
            if (ArtifactPath(ma, "labels") is { } ml && ArtifactPath(theirsArtifacts, "labels") is { } tl)
            {
                // DBSCAN's labels must be the same up to border points two clusters can reach (our case counts those
                // against the anchor's labels); KMeans from another initialisation legitimately differs: reported only.
                int? allowed = Kind(mine) == "dbscan" ? (int)(Number((mine["summary"] as JsonObject)?["border_points_differing"]) ?? 0) : null;
                ok &= CompareLabels(parts, ml, tl, allowed);
            }
            if (ArtifactPath(ma, "centers") is { } mc && ArtifactPath(theirsArtifacts, "centers") is { } tc)
                parts.Add(CompareCentres(mc, tc));
            foreach (string kind in new[] { "init_cluster_ids", "stream_cluster_ids" })
                if (ArtifactPath(ma, kind) is { } mine1 && ArtifactPath(theirsArtifacts, kind) is { } theirs1)
                    ok &= CompareIds(parts, kind, mine1, theirs1);
        }
        return (parts.Count == 0 ? "(nothing to compare)" : string.Join("; ", parts), ok);
    }

    private static string Kind(JsonObject r) => r["case"] is JsonValue c ? c.ToString() : Id(r).Split('/')[0];

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

    /// <summary>
    /// Both sides' labels, row by row: identical, or how many rows differ and the ARI between them. With
    /// <paramref name="allowed"/> (DBSCAN: the border points two clusters reach) more differing rows than that fail.
    /// </summary>
    private static bool CompareLabels(List<string> parts, string oursPath, string theirsPath, int? allowed)
    {
        if (!File.Exists(oursPath) || !File.Exists(theirsPath))
        {
            parts.Add($"labels: not compared ({(File.Exists(oursPath) ? theirsPath : oursPath)} missing)");
            return allowed is null;
        }
        int[] x = Npy.ReadLabels(oursPath), y = Npy.ReadLabels(theirsPath);
        if (x.Length != y.Length)
        {
            parts.Add($"labels: lengths differ ({x.Length} vs {y.Length}) DIFFERS");
            return false;
        }
        int differing = 0;
        for (int i = 0; i < x.Length; i++)
            if (x[i] != y[i]) differing++;
        if (differing == 0)
        {
            parts.Add("labels identical");
            return true;
        }
        bool ok = allowed is not int a || differing <= a;
        string rule = allowed is int b ? $", {b} of them border points two clusters reach {(ok ? "ok" : "DIFFERS")}" : "";
        parts.Add($"labels: {differing} of {x.Length} rows differ, ARI {Fmt(ClusteringMetrics.AdjustedRandIndex(x, y))}{rule}");
        return ok;
    }

    /// <summary>
    /// KMeans centres: each of ours paired with one of theirs by the optimal matching (least total squared
    /// distance; the two runs number their clusters differently), then the matched distances relative to the
    /// anchor centres' mean norm. Reported, not failed: another initialisation finds other local optima.
    /// </summary>
    private static string CompareCentres(string oursPath, string theirsPath)
    {
        if (!File.Exists(oursPath) || !File.Exists(theirsPath))
            return $"centres: not compared ({(File.Exists(oursPath) ? theirsPath : oursPath)} missing)";
        var a = Npy.ReadMatrix(oursPath);
        var b = Npy.ReadMatrix(theirsPath);
        if (a.Count != b.Count || a.Dimension != b.Dimension)
            return $"centres: shapes differ ({a.Count}x{a.Dimension} vs {b.Count}x{b.Dimension})";
        int k = a.Count;
        var cost = new double[k * k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
            {
                double s = 0;
                for (int t = 0; t < a.Dimension; t++) s += Math.Pow(a.Row(i)[t] - (double)b.Row(j)[t], 2);
                cost[i * k + j] = s;
            }
        var match = LinearAssignment.Solve(cost, k, k);
        double norm = Enumerable.Range(0, k).Average(j => Math.Sqrt(b.Row(j).ToArray().Sum(v => (double)v * v)));
        var distances = Enumerable.Range(0, k).Select(i => Math.Sqrt(cost[match.RowIndices[i] * k + match.ColumnIndices[i]])).ToArray();
        return $"centres: {k} matched, distance / mean norm: median {Fmt3(Median(distances) / norm)}, max {Fmt3(distances.Max() / norm)}";
    }

    /// <summary>
    /// Online cluster ids (the article's loop), row by row over the rows both streamed (the anchor may stop early on
    /// its time limit): the same rule must give the same ids, so any differing row fails.
    /// </summary>
    private static bool CompareIds(List<string> parts, string kind, string oursPath, string theirsPath)
    {
        if (!File.Exists(oursPath) || !File.Exists(theirsPath))
        {
            parts.Add($"{kind}: not compared ({(File.Exists(oursPath) ? theirsPath : oursPath)} missing) DIFFERS");
            return false;
        }
        int[] x = Npy.ReadLabels(oursPath), y = Npy.ReadLabels(theirsPath);
        if (x.Length < y.Length)
        {
            parts.Add($"{kind}: ours has {x.Length} rows, theirs {y.Length} DIFFERS");
            return false;
        }
        int first = -1, differing = 0;
        for (int i = 0; i < y.Length; i++)
            if (x[i] != y[i]) { differing++; if (first < 0) first = i; }
        if (differing == 0)
        {
            parts.Add($"{kind} identical ({y.Length} rows)");
            return true;
        }
        parts.Add($"{kind}: {differing} of {y.Length} rows differ, first row {first} ({x[first]} vs {y[first]}) DIFFERS");
        return false;
    }

    private static string Fmt3(double v) => v.ToString("G3", CultureInfo.InvariantCulture);

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out double d) ? d
        : node is JsonValue b && b.TryGetValue(out bool flag) ? (flag ? 1 : 0)
        : null;

    private static string Fmt(double v) => v.ToString("G10", CultureInfo.InvariantCulture);
}
