using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelAssignment.Ids;
using LabelAssignment.IO;
using LabelAssignment.Remapping;

namespace LabelAssignment.Cli;

/// <summary>What <c>remap</c> needs: yesterday's IDs (or a contingency computed elsewhere) and today's labels.</summary>
internal sealed record RemapRequest
{
    public string? Yesterday { get; init; }
    public string? Contingency { get; init; }
    public required string Today { get; init; }
    public required string Out { get; init; }
    /// <summary>The measure's threshold; null for its default (Jaccard 0.5, centre similarity 0.95).</summary>
    public double? Threshold { get; init; }
    public RemappingMeasure Measure { get; init; } = RemappingMeasure.Overlap;
    /// <summary>For the centroid measure: yesterday's centres (cluster_id, centre) and today's (label, centre).</summary>
    public string? YesterdayCentres { get; init; }
    public string? TodayCentres { get; init; }
    public string? IdsState { get; init; }
    public TableFormat Format { get; init; } = TableFormat.Parquet;
    public EngineSettings Engine { get; init; } = EngineSettings.Default;
}

/// <summary>What the remap found, as written to summary.json.</summary>
internal sealed record RemapSummary(
    long ItemsToday, long? ItemsYesterday, long SharedItems, int ClustersYesterday, int ClustersToday, int NoiseItemsToday,
    int Kept, int Created, int Retired, double MatchRate, int HighWaterMark);

/// <summary>The three commands' work, free of the command-line parser so tests can call it.</summary>
internal static class Pipeline
{
    private static readonly RequiredColumn[] YesterdayColumns = [new("item_id"), new("cluster_id")];
    private static readonly RequiredColumn[] TodayColumns = [new("item_id"), new("label")];
    private static readonly RequiredColumn[] MappingColumns = [new("label"), new("item_id", Nullable: true), new("cluster_id")];
    private static readonly RequiredColumn[] ContingencyColumns =
        [new("old_id"), new("new_label"), new("shared"), new("old_size"), new("new_size")];

    /// <summary>The SQL file shipped as <paramref name="name"/> (tools/Cli/sql), run verbatim.</summary>
    public static string Sql(string name)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("sql/" + name)
            ?? throw new InvalidOperationException($"embedded SQL file {name} is missing.");
        using var r = new StreamReader(s);
        return r.ReadToEnd().Trim().TrimEnd(';');
    }

    public static string Extension(TableFormat f) => f == TableFormat.Csv ? ".csv" : ".parquet";

    private static void LoadToday(Tables db, string path) =>
        db.LoadInput("today", path, TodayColumns, ["CAST(item_id AS BIGINT) AS item_id", "CAST(label AS INTEGER) AS label"],
            "item_id", [("item_id", long.MinValue, long.MaxValue), ("label", -1, int.MaxValue)]);

    private static void LoadYesterday(Tables db, string path) =>
        db.LoadInput("yesterday", path, YesterdayColumns, ["CAST(item_id AS BIGINT) AS item_id", "CAST(cluster_id AS INTEGER) AS cluster_id"],
            "item_id", [("item_id", long.MinValue, long.MaxValue), ("cluster_id", -1, int.MaxValue)]);

    /// <summary><c>contingency</c>: the sparse overlap table only.</summary>
    public static long Contingency(string yesterday, string today, string outFile, TableFormat format, IProgress<WorkProgress>? progress,
        EngineSettings? engine = null)
    {
        using var db = new Tables(engine);
        progress?.Report(new WorkProgress("reading inputs", 0, 2));
        LoadYesterday(db, yesterday);
        LoadToday(db, today);
        progress?.Report(new WorkProgress("joining on item_id and counting pairs", 1, 2));
        db.Execute($"CREATE TEMP TABLE contingency AS {Sql("contingency.sql")}");
        using var outputs = new OutputSet(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
        db.CopyTo("SELECT * FROM contingency ORDER BY old_id, new_label", outputs.AddPath(outFile), format);
        outputs.Commit();
        progress?.Report(new WorkProgress("done", 2, 2));
        return Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM contingency"), CultureInfo.InvariantCulture);
    }

    /// <summary><c>apply</c>: today's labels to stable IDs through a mapping.</summary>
    public static void Apply(string today, string mapping, string outFolder, TableFormat format, IProgress<WorkProgress>? progress,
        EngineSettings? engine = null)
    {
        using var db = new Tables(engine);
        progress?.Report(new WorkProgress("reading inputs", 0, 2));
        LoadToday(db, today);
        db.LoadInput("mapping", mapping, MappingColumns,
            ["CAST(label AS INTEGER) AS label", "CAST(item_id AS BIGINT) AS item_id", "CAST(cluster_id AS INTEGER) AS cluster_id"],
            null, [("label", -1, int.MaxValue), ("cluster_id", 0, int.MaxValue)]);
        // Every item must find its ID: name the first one that does not.
        using (var r = db.Query(
            "SELECT t.item_id, t.label FROM today t WHERE NOT EXISTS (SELECT 1 FROM mapping m WHERE " +
            "(t.label <> -1 AND m.label = t.label) OR (t.label = -1 AND m.label = -1 AND m.item_id = t.item_id)) ORDER BY t.item_id LIMIT 1"))
            if (r.Read())
                throw new InputDataException(
                    $"{mapping}: has no row for today's item_id {r.GetInt64(0)} (label {r.GetInt32(1)}; {today}): the mapping is from another day.");
        long dup = Convert.ToInt64(db.Scalar(
            "SELECT COUNT(*) FROM (SELECT label, item_id FROM mapping GROUP BY label, item_id HAVING COUNT(*) > 1)"), CultureInfo.InvariantCulture);
        if (dup > 0) throw new InputDataException($"{mapping}: a label (or a noise item_id) appears on more than one row ({dup} of them).");
        progress?.Report(new WorkProgress("joining today with the mapping", 1, 2));
        using var outputs = new OutputSet(outFolder);
        db.CopyTo(Sql("apply.sql"), outputs.Add("stable_ids" + Extension(format)), format);
        outputs.Commit();
        progress?.Report(new WorkProgress("done", 2, 2));
    }

    /// <summary><c>remap</c>: today's stable IDs, the mapping, the retired IDs and summary.json.</summary>
    public static RemapSummary Remap(RemapRequest q, IProgress<WorkProgress>? progress)
    {
        var clock = Stopwatch.StartNew();
        if ((q.Yesterday is null) == (q.Contingency is null))
            throw new ArgumentException("give exactly one of --yesterday and --contingency.", q.Yesterday is null ? "--yesterday" : "--contingency");
        var options = RemappingOptions.Default;
        if (q.Threshold is double th)
        {
            if (!(th >= 0 && th <= 1))
                throw new ArgumentOutOfRangeException("--threshold", th, "--threshold must be in [0, 1] (a Jaccard or centre similarity).");
            options = q.Measure == RemappingMeasure.Overlap ? options with { OverlapThreshold = th } : options with { CentroidThreshold = th };
        }
        bool centroid = q.Measure == RemappingMeasure.Centroids;
        if (centroid && (q.YesterdayCentres is null || q.TodayCentres is null))
            throw new ArgumentException("--measure centroid needs --yesterday-centres and --today-centres.", "--measure");
        if (!centroid && (q.YesterdayCentres is not null || q.TodayCentres is not null))
            throw new ArgumentException("--yesterday-centres and --today-centres are for --measure centroid.", "--measure");
        ClusterIdAllocator? state = null;
        if (q.IdsState is not null && File.Exists(q.IdsState)) state = ClusterIdAllocator.Load(q.IdsState);
        if (q.IdsState is not null)
            options = options with { Policy = IdReusePolicy.NeverReuse, HighWaterMark = state?.HighWaterMark ?? -1 };

        const int stages = 5;
        using var db = new Tables(q.Engine);
        progress?.Report(new WorkProgress("reading and checking inputs", 0, stages));
        LoadToday(db, q.Today);
        long? itemsYesterday = null;
        if (q.Yesterday is not null)
        {
            LoadYesterday(db, q.Yesterday);
            itemsYesterday = Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM yesterday"), CultureInfo.InvariantCulture);
            progress?.Report(new WorkProgress("joining on item_id and counting pairs (contingency.sql)", 1, stages));
            db.Execute($"CREATE TEMP TABLE contingency AS {Sql("contingency.sql")}");
        }
        else
        {
            db.LoadInput("contingency_in", q.Contingency!, ContingencyColumns,
                ["CAST(old_id AS INTEGER) AS old_id", "CAST(new_label AS INTEGER) AS new_label", "CAST(shared AS BIGINT) AS shared",
                 "CAST(old_size AS BIGINT) AS old_size", "CAST(new_size AS BIGINT) AS new_size"], null,
                [("old_id", -1, int.MaxValue), ("new_label", -1, int.MaxValue), ("shared", 0, int.MaxValue),
                 ("old_size", 0, int.MaxValue), ("new_size", 0, int.MaxValue)]);
            progress?.Report(new WorkProgress("reading the contingency", 1, stages));
            db.Execute("CREATE TEMP TABLE contingency AS SELECT * FROM contingency_in");
        }
        long itemsToday = Convert.ToInt64(db.Scalar("SELECT COUNT(*) FROM today"), CultureInfo.InvariantCulture);

        progress?.Report(new WorkProgress("building the sparse overlap", 2, stages));
        var today = TodayClusters.Read(db);
        var overlap = ReadOverlap(db, today, q.Contingency ?? q.Yesterday!);

        progress?.Report(new WorkProgress($"assignment ({overlap.OldClusterIds.Length} x {overlap.NewClusterIds.Length} clusters, {overlap.Entries.Length} pairs)", 3, stages));
        RemappingResult result;
        double beforeAssignment = clock.Elapsed.TotalSeconds;
        if (centroid)
            result = ByCentroids(q, today, overlap, options);
        else
        {
            try
            {
                result = LabelRemapper.ByOverlap(overlap, options);
            }
            catch (ArgumentException e)
            {
                throw new InputDataException($"{q.Contingency ?? q.Yesterday} and {q.Today}: {e.Message}");
            }
        }

        double assignmentSeconds = clock.Elapsed.TotalSeconds - beforeAssignment;
        progress?.Report(new WorkProgress("writing outputs", 4, stages));
        var matchByLabel = result.Matches.ToDictionary(m => m.NewLabel);
        // The cluster-level tables go to DuckDB through a temporary CSV (exact: doubles in round-trip form).
        string scratch = Path.Combine(Path.GetTempPath(), $"labelassign.{Environment.ProcessId}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            string mappingCsv = Path.Combine(scratch, "mapping.csv"), retiredCsv = Path.Combine(scratch, "retired.csv");
            using (var w = new StreamWriter(mappingCsv))
            {
                w.Write("label,item_id,cluster_id,status,score,old_id\n");
                foreach (var (label, id) in result.FinalIdByLabel) // ascending label: real clusters, then noise items
                {
                    bool noise = label > today.MaxLabel;
                    matchByLabel.TryGetValue(label, out var m);
                    w.Write(noise ? "-1," + today.NoiseItems[label - today.MaxLabel - 1].ToString(CultureInfo.InvariantCulture) : label.ToString(CultureInfo.InvariantCulture) + ",");
                    w.Write(',');
                    w.Write(id.ToString(CultureInfo.InvariantCulture));
                    w.Write(m is { Kept: true } ? ",kept," : ",created,");
                    if (m is not null) w.Write(m.Score.ToString("R", CultureInfo.InvariantCulture) + "," + m.OldId.ToString(CultureInfo.InvariantCulture));
                    else w.Write(',');
                    w.Write('\n');
                }
            }
            using (var w = new StreamWriter(retiredCsv))
            {
                w.Write("cluster_id\n");
                foreach (int id in result.RetiredIds) w.Write(id.ToString(CultureInfo.InvariantCulture) + "\n");
            }
            db.Execute($"CREATE TEMP TABLE mapping AS SELECT * FROM read_csv({Tables.Quote(mappingCsv)}, header = true, " +
                "columns = {'label': 'INTEGER', 'item_id': 'BIGINT', 'cluster_id': 'INTEGER', 'status': 'VARCHAR', 'score': 'DOUBLE', 'old_id': 'INTEGER'})");
            db.Execute($"CREATE TEMP TABLE retired AS SELECT * FROM read_csv({Tables.Quote(retiredCsv)}, header = true, columns = {{'cluster_id': 'INTEGER'}})");
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        }

        // Match rate (the library's one definition) from the contingency: of the shared items in a cluster
        // yesterday, the share whose stable ID today is yesterday's ID.
        long inCluster = 0, same = 0;
        using (var r = db.Query("SELECT old_id, new_label, shared FROM contingency WHERE old_id >= 0 AND new_label >= 0"))
            while (r.Read())
            {
                long shared = r.GetInt64(2);
                inCluster += shared;
                if (result.FinalIdByLabel.TryGetValue(r.GetInt32(1), out int id) && id == r.GetInt32(0)) same += shared;
            }
        inCluster += Convert.ToInt64(db.Scalar("SELECT CAST(COALESCE(SUM(shared), 0) AS BIGINT) FROM contingency WHERE old_id >= 0 AND new_label = -1"), CultureInfo.InvariantCulture);

        string ext = Extension(q.Format);
        using var outputs = new OutputSet(q.Out);
        db.CopyTo(Sql("apply.sql"), outputs.Add("stable_ids" + ext), q.Format);
        db.CopyTo("SELECT * FROM mapping ORDER BY label, item_id", outputs.Add("mapping" + ext), q.Format);
        db.CopyTo("SELECT * FROM retired ORDER BY cluster_id", outputs.Add("retired" + ext), q.Format);
        if (q.IdsState is not null)
        {
            string statePath = outputs.Add("ids_state.json");
            result.ToAllocator().Save(statePath);
        }
        var summary = new RemapSummary(itemsToday, itemsYesterday, overlap.SharedItems, overlap.OldClusterIds.Length,
            overlap.NewClusterIds.Length, today.NoiseItems.Length, result.KeptIds.Length, result.CreatedIds.Length,
            result.RetiredIds.Length, inCluster == 0 ? 0 : (double)same / inCluster, result.HighWaterMark);
        var json = new JsonObject
        {
            ["command"] = "remap",
            ["measure"] = centroid ? "centroid" : "overlap",
            ["threshold"] = result.Threshold,
            ["items_today"] = itemsToday,
            ["items_yesterday"] = itemsYesterday,
            ["shared_items"] = summary.SharedItems,
            ["clusters_yesterday"] = summary.ClustersYesterday,
            ["clusters_today"] = summary.ClustersToday,
            ["noise_items_today"] = summary.NoiseItemsToday,
            ["kept"] = summary.Kept,
            ["created"] = summary.Created,
            ["retired"] = summary.Retired,
            ["match_rate"] = summary.MatchRate,
            ["high_water_mark"] = summary.HighWaterMark,
            ["overlap_pairs"] = overlap.Entries.Length,
            ["solver"] = centroid || (long)overlap.OldClusterIds.Length * overlap.NewClusterIds.Length <= LabelRemapper.DenseCellLimit ? "dense" : "sparse",
            [centroid ? "matched_similarity_total" : "matched_jaccard_total"] = result.Matches.Sum(m => m.Score),
            ["assignment_seconds"] = Math.Round(assignmentSeconds, 3),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            ["peak_memory_bytes"] = Process.GetCurrentProcess().PeakWorkingSet64,
        };
        AtomicFile.WriteAllText(outputs.Add("summary.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        outputs.Commit();
        progress?.Report(new WorkProgress("done", stages, stages));
        return summary;
    }

    /// <summary>
    /// The centroid measure: the centres of yesterday's IDs and today's labels paired by the dense Hungarian (the
    /// centre distance is defined for every pair, so the matrix is dense; up to <see cref="LabelRemapper.DenseCellLimit"/>
    /// cells). Today's noise items have no centre: each gets a fresh ID, drawn after the clusters' as the overlap
    /// measure draws them.
    /// </summary>
    private static RemappingResult ByCentroids(RemapRequest q, TodayClusters today, ClusterOverlap overlap, RemappingOptions options)
    {
        var oldCentres = CentreTables.Read(q.YesterdayCentres!, "cluster_id");
        var newCentres = CentreTables.Read(q.TodayCentres!, "label");
        string yesterdaySource = q.Contingency ?? q.Yesterday!;
        // The centre tables must describe the same clusters as the item tables: a mismatch means a file of another day.
        foreach (int id in overlap.OldClusterIds)
            if (!oldCentres.Contains(id))
                throw new InputDataException($"{q.YesterdayCentres}: has no centre for cluster_id {id}, a cluster of {yesterdaySource}.");
        var oldSet = overlap.OldClusterIds.ToHashSet();
        foreach (int id in oldCentres.ClusterIds)
            if (!oldSet.Contains(id))
                throw new InputDataException($"{q.YesterdayCentres}: cluster_id {id} has a centre but no item in {yesterdaySource}.");
        foreach (int label in today.Labels)
            if (!newCentres.Contains(label))
                throw new InputDataException($"{q.TodayCentres}: has no centre for label {label}, a cluster of {q.Today}.");
        var labelSet = today.Labels.ToHashSet();
        foreach (int label in newCentres.ClusterIds)
            if (!labelSet.Contains(label))
                throw new InputDataException($"{q.TodayCentres}: label {label} has a centre but no item in {q.Today}.");
        if (oldCentres.Centres.Dimension != newCentres.Centres.Dimension)
            throw new InputDataException(
                $"{q.TodayCentres}: centres of dimension {newCentres.Centres.Dimension}, but {q.YesterdayCentres} has {oldCentres.Centres.Dimension}: both days must use one embedding.");
        long cells = (long)oldCentres.Count * newCentres.Count;
        if (cells > LabelRemapper.DenseCellLimit)
            throw new InputDataException(string.Create(CultureInfo.InvariantCulture,
                $"{q.YesterdayCentres} and {q.TodayCentres}: {oldCentres.Count} x {newCentres.Count} centres make {cells} pairs, above the " +
                $"{LabelRemapper.DenseCellLimit} the dense centroid matching takes; use --measure overlap (sparse) for that many clusters."));
        RemappingResult result;
        try
        {
            result = LabelRemapper.ByCentroids(oldCentres, newCentres, options);
        }
        catch (ArgumentException e)
        {
            throw new InputDataException($"{q.YesterdayCentres} and {q.TodayCentres}: {e.Message}");
        }
        var noiseLabels = Enumerable.Range(0, today.NoiseItems.Length).Select(k => today.MaxLabel + 1 + k);
        return result.WithFreshIds(noiseLabels);
    }

    /// <summary>Today's clusters: the labels >= 0, and the noise items, each a cluster of its own.</summary>
    private sealed record TodayClusters(int MaxLabel, int[] Labels, long[] NoiseItems)
    {
        public static TodayClusters Read(Tables db)
        {
            var labels = new List<int>();
            using (var r = db.Query("SELECT DISTINCT label FROM today WHERE label >= 0 ORDER BY label"))
                while (r.Read()) labels.Add(r.GetInt32(0));
            var noise = new List<long>();
            using (var r = db.Query("SELECT item_id FROM today WHERE label = -1 ORDER BY item_id"))
                while (r.Read()) noise.Add(r.GetInt64(0));
            int max = labels.Count == 0 ? -1 : labels[^1];
            if ((long)max + noise.Count > int.MaxValue)
                throw new InputDataException($"today: {noise.Count} noise items after label {max} do not fit in 32-bit labels.");
            return new TodayClusters(max, [.. labels], [.. noise]);
        }
    }

    /// <summary>The cluster-level overlap from the contingency table (the only data that reaches C#).</summary>
    private static ClusterOverlap ReadOverlap(Tables db, TodayClusters today, string source)
    {
        var newIds = new int[today.Labels.Length + today.NoiseItems.Length];
        today.Labels.CopyTo(newIds, 0);
        for (int k = 0; k < today.NoiseItems.Length; k++) newIds[today.Labels.Length + k] = today.MaxLabel + 1 + k;
        var newSizes = new int[newIds.Length];
        var oldIds = new List<int>();
        var oldSizes = new List<int>();
        var rawEntries = new List<(int Old, int NewLabel, int Shared)>();
        long sharedItems = 0;
        using (var r = db.Query("SELECT old_id, new_label, shared, old_size, new_size FROM contingency ORDER BY old_id, new_label"))
        {
            while (r.Read())
            {
                int old = r.GetInt32(0), label = r.GetInt32(1);
                long shared = r.GetInt64(2), oldSize = r.GetInt64(3), newSize = r.GetInt64(4);
                sharedItems += shared;
                if (old >= 0 && (oldIds.Count == 0 || oldIds[^1] != old)) { oldIds.Add(old); oldSizes.Add(checked((int)oldSize)); }
                if (label < 0) continue;
                int n = Array.BinarySearch(newIds, label);
                if (n < 0)
                    throw new InputDataException($"{source}: new_label {label} is none of today's labels (old_id {old}): the contingency is from another day.");
                newSizes[n] = checked((int)newSize);
                if (old >= 0 && shared > 0) rawEntries.Add((oldIds.Count - 1, n, checked((int)shared)));
            }
        }
        var entries = new OverlapEntry[rawEntries.Count];
        for (int e = 0; e < entries.Length; e++)
        {
            var (o, n, inter) = rawEntries[e];
            entries[e] = new OverlapEntry(o, n, inter, (double)inter / (oldSizes[o] + newSizes[n] - inter));
        }
        return new ClusterOverlap([.. oldIds], newIds, [.. oldSizes], newSizes, checked((int)sharedItems), entries);
    }
}
