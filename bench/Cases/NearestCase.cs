using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.IO;
using LabelAssignment.Studies;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Online assignment. (1) The anchor's experiment on X: DBSCAN(eps, minSamples 3, cosine) on the first
/// <c>--nearest-init</c> rows (7000), then every later row streamed in, with the article's rule
/// (<c>nearest/centroid-first</c>, comparable with the anchor's <c>nearest/pandas</c> loop and its ids), the
/// nearest-centre rule (<c>nearest/centroid</c>) and the core-point rule (<c>nearest/corepoint</c>), batch and
/// one at a time, plus the failure diagnostics against a DBSCAN re-run on all rows (<c>nearest/diagnostics</c>).
/// (2) The speed target on synthetic data: 5,000 centres of dimension 1,408
/// (<c>nearest/synthetic-5000x1408/...</c>), items per second in batches and one at a time.
/// median_s is seconds per streamed item, as the anchor reports it.
/// Options: <c>--nearest-eps 0.1</c>, <c>--nearest-init 7000</c>, <c>--nearest-anchors FOLDER</c> (holding
/// nearest_stream_cluster_ids.npy; default <c>&lt;X without .npy&gt;.anchors</c>), <c>--nearest-single 1000</c>
/// (items streamed one at a time), <c>--nearest-synthetic 10000</c> (items streamed against the synthetic centres; 0 skips),
/// <c>--nearest-faiss /usr/bin/python3</c> (runs bench/faiss_nearest.py on the synthetic set in the same run; "none" skips),
/// <c>--nearest-sweep 0.05,0.1,0.15,0.2</c> (eps values for the failure sweep, <c>nearest/sweep/eps=...</c>; default none).
/// </summary>
public sealed class NearestCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "nearest";

    /// <inheritdoc/>
    public string Description => "online assignment: article loop / nearest centre / core point, items per second and failure shares";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["nearest-init"] = "500", ["nearest-single"] = "50", ["nearest-synthetic"] = "100", ["nearest-faiss"] = "none" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int synthetic = int.Parse(context.Option("nearest-synthetic", "10000"), CultureInfo.InvariantCulture);
        int single = int.Parse(context.Option("nearest-single", "1000"), CultureInfo.InvariantCulture);
        RunReal(context, single);
        RunSweep(context);
        if (synthetic > 0)
            RunSynthetic(context, synthetic, single);
    }

    /// <summary>Times <paramref name="run"/> on a fresh setup each time (setup not timed); returns the last result.</summary>
    private static (T Result, Timing Timing) TimeWithSetup<TState, T>(BenchContext context, Func<TState> setup, Func<TState, T> run)
        => TimeWithSetup(context, setup, run, out _);

    /// <summary>As above; also the median CPU seconds of the process per run (the machine is shared: wall time is noisy).</summary>
    private static (T Result, Timing Timing) TimeWithSetup<TState, T>(BenchContext context, Func<TState> setup, Func<TState, T> run, out double cpuSeconds)
    {
        var times = new List<double>();
        var cpu = new List<double>();
        var proc = Process.GetCurrentProcess();
        T result = default!;
        double? warm = null;
        var sw = new Stopwatch();
        for (int r = 0; times.Count < context.Repeats; r++)
        {
            var state = setup();
            proc.Refresh();
            var cpu0 = proc.TotalProcessorTime;
            sw.Restart();
            result = run(state);
            double s = sw.Elapsed.TotalSeconds;
            proc.Refresh();
            if (r == 0 && s < context.WarmupBelowSeconds) warm = s;
            else { times.Add(s); cpu.Add((proc.TotalProcessorTime - cpu0).TotalSeconds); }
        }
        cpuSeconds = cpu.Order().ElementAt(cpu.Count / 2);
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return (result, new Timing(median, sorted[0], times.Count, [.. times], warm));
    }

    /// <summary>An assignment with an opened cluster's nearest distance set aside: the same decision and distance
    /// either way, but that distance is a lower bound whose value depends on how the item was screened.</summary>
    private static Assignment Decision(Assignment a) => a.CreatedCluster ? a with { NearestDistance = double.NaN } : a;

    private static Timing PerItem(Timing t, int items) =>
        new(t.MedianSeconds / items, t.MinSeconds / items, t.Runs, t.TimesSeconds, t.WarmupSeconds);

    private static void RunSynthetic(BenchContext context, int streamCount, int singleCount)
    {
        const int k = 5000, d = 1408;
        const double eps = 0.1;
        var rng = new Random(20250418);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        // Centres: random unit directions (about 1 apart in cosine distance), each an initial cluster of one core point.
        var centres = EmbeddingMatrix.Zeros(k, d);
        for (int i = 0; i < centres.Data.Length; i++) centres.Data[i] = (float)Gauss();
        // Stream: half are near a centre (cosine distance about 0.03), half new directions.
        var stream = EmbeddingMatrix.Zeros(streamCount, d);
        for (int i = 0; i < streamCount; i++)
        {
            var row = stream.Row(i);
            if (i % 2 == 0)
            {
                var c = centres.Row(rng.Next(k));
                for (int j = 0; j < d; j++) row[j] = c[j] + (float)(0.25 * Gauss());
            }
            else
            {
                for (int j = 0; j < d; j++) row[j] = (float)Gauss();
            }
        }
        var baseTables = ClusterTables.Initialise(Enumerable.Range(0, k).Select(i => (long)i).ToArray(), centres,
            Enumerable.Range(0, k).ToArray(), Enumerable.Range(0, k).ToArray());
        var ids = Enumerable.Range(k, streamCount).Select(i => (long)i).ToArray();
        singleCount = Math.Min(singleCount, streamCount);
        var parameters = new JsonObject { ["centres"] = k, ["dimension"] = d, ["eps"] = eps, ["stream"] = streamCount, ["single"] = singleCount };

        // faiss's exact IndexFlatIP on the same centres and items, in this run (same machine load).
        string folder = FaissAnchor.ScratchFolder("nearest");
        string centresPath = Path.Combine(folder, "centres.npy"), itemsPath = Path.Combine(folder, "items.npy"), flatPath = Path.Combine(folder, "flat.npy");
        Npy.Write(centresPath, centres);
        Npy.Write(itemsPath, stream);
        string loadBefore = FaissAnchor.LoadAverage();
        var faiss = FaissAnchor.Run(context.Option("nearest-faiss", "/usr/bin/python3"), centresPath, itemsPath,
            ["--single", Math.Min(singleCount, 300).ToString(CultureInfo.InvariantCulture), "--repeats", context.Repeats.ToString(CultureInfo.InvariantCulture),
             "--eps", eps.ToString(CultureInfo.InvariantCulture), "--save-flat", flatPath]);
        double faissBatch = faiss?["flat"]?["batch_items_per_s"]?.GetValue<double>() ?? double.NaN;
        double faissSingle = faiss?["flat"]?["single_items_per_s"]?.GetValue<double>() ?? double.NaN;
        // Agreement on the nearest distance before any update: our PredictBatch against faiss's answer.
        int? nearestDiffer = null;
        if (faiss is not null && File.Exists(flatPath))
        {
            var (flat, _, _) = Npy.ReadFloat64Matrix(flatPath);
            var predicted = new NearestCentroidAssigner(baseTables, new NearestCentroidOptions { Eps = eps, ExactNearestDistance = true }).PredictBatch(ids, stream);
            nearestDiffer = Enumerable.Range(0, streamCount).Count(i => Math.Abs(predicted[i].NearestDistance - flat[2 * i + 1]) > 1e-4);
        }

        foreach (var (name, make) in new (string, Func<ClusterTables, IOnlineAssigner>)[]
        {
            ("centroid", t => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps })),
            ("corepoint", t => new CorePointAssigner(t, new CorePointOptions { Eps = eps })),
        })
        {
            var (batch, bt) = TimeWithSetup(context, () => make(baseTables.Clone()), a => a.AssignBatch(ids, stream), out double bcpu);
            var singleIds = ids[..singleCount];
            var (one, st) = TimeWithSetup(context, () => make(baseTables.Clone()),
                a => Enumerable.Range(0, singleCount).Select(i => a.Assign(singleIds[i], stream.Row(i))).ToArray(), out double scpu);
            bool same = batch.Take(singleCount).Select(Decision).SequenceEqual(one.Select(Decision));
            double batchRate = streamCount / bt.MedianSeconds, singleRate = singleCount / st.MedianSeconds;
            string load = FaissAnchor.LoadAverage();
            context.Output.WriteLine($"# nearest synthetic {k}x{d} {name}: batch {batchRate:F0}/s (faiss IndexFlatIP {faissBatch:F0}/s, ours/faiss {batchRate / faissBatch:F2}), " +
                $"single {singleRate:F0}/s (faiss {faissSingle:F0}/s, ours/faiss {singleRate / faissSingle:F1}); load average {loadBefore} before faiss, {load} now");
            var batchSummary = new JsonObject
            {
                ["items_per_s"] = Math.Round(batchRate, 1),
                ["cpu_s"] = Math.Round(bcpu, 3),
                ["joined"] = batch.Count(r => !r.CreatedCluster),
                ["created"] = batch.Count(r => r.CreatedCluster),
                ["target_items_per_s"] = 11500,
                ["gemm_kernel"] = Gemm.KernelDescription,
                ["load_average"] = load,
            };
            var singleSummary = new JsonObject
            {
                ["items_per_s"] = Math.Round(singleRate, 1),
                ["cpu_s"] = Math.Round(scpu, 3),
                ["same_as_batch"] = same,
                ["target_items_per_s"] = 3000,
                ["load_average"] = load,
            };
            if (faiss is not null)
            {
                batchSummary["faiss_flat_items_per_s"] = Math.Round(faissBatch, 1);
                batchSummary["ours_over_faiss_items_per_s"] = Math.Round(batchRate / faissBatch, 3);
                batchSummary["faiss_threads"] = faiss["threads"]!.GetValue<int>();
                batchSummary["nearest_distance_differs_from_faiss"] = nearestDiffer;
                singleSummary["faiss_flat_items_per_s"] = Math.Round(faissSingle, 1);
                singleSummary["ours_over_faiss_items_per_s"] = Math.Round(singleRate / faissSingle, 3);
            }
            context.Record($"nearest/synthetic-{k}x{d}/{name}/batch", "nearest", (JsonObject)parameters.DeepClone(), PerItem(bt, streamCount), batchSummary);
            context.Record($"nearest/synthetic-{k}x{d}/{name}/single", "nearest", (JsonObject)parameters.DeepClone(), PerItem(st, singleCount), singleSummary);
        }
        Directory.Delete(folder, recursive: true);
    }

    private static void RunReal(BenchContext context, int singleCount)
    {
        var x = context.X;
        double eps = double.Parse(context.Option("nearest-eps", "0.1"), CultureInfo.InvariantCulture);
        int nInit = int.Parse(context.Option("nearest-init", "7000"), CultureInfo.InvariantCulture);
        if (x.Count <= nInit)
        {
            context.Output.WriteLine($"# nearest: skipped the real-data part: X has {x.Count} rows, --nearest-init is {nInit}.");
            return;
        }
        string anchors = context.Option("nearest-anchors", context.AnchorArtifactsFolder);
        int nNew = x.Count - nInit;
        var options = new DbscanOptions { Eps = eps, MinSamples = 3, Metric = DistanceMetric.Cosine };
        var init = x.SelectRows(Enumerable.Range(0, nInit).ToArray());
        var fresh = x.SelectRows(Enumerable.Range(nInit, nNew).ToArray());
        var initIds = Enumerable.Range(0, nInit).Select(i => (long)i).ToArray();
        var newIds = Enumerable.Range(nInit, nNew).Select(i => (long)i).ToArray();
        var sw = Stopwatch.StartNew();
        var dbscan = Dbscan.Fit(init, options);
        double dbscanSeconds = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var tables = ClusterTables.Initialise(initIds, init, dbscan, options);
        double tablesSeconds = sw.Elapsed.TotalSeconds;
        singleCount = Math.Min(singleCount, nNew);

        int[]? anchorInit = null, anchorStream = null;
        string initPath = Path.Combine(anchors, "nearest_init_cluster_ids.npy"), streamPath = Path.Combine(anchors, "nearest_stream_cluster_ids.npy");
        if (File.Exists(initPath) && File.Exists(streamPath))
        {
            anchorInit = Npy.ReadLabels(initPath);
            anchorStream = Npy.ReadLabels(streamPath);
        }
        else
        {
            context.Output.WriteLine($"# nearest: no anchor ids in {anchors} (run anchor_bench.py --cases nearest, or pass --nearest-anchors).");
        }

        foreach (var (name, make) in new (string, Func<ClusterTables, IOnlineAssigner>)[]
        {
            ("centroid-first", t => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps, FirstWithinEps = true })),
            ("centroid", t => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps })),
            ("corepoint", t => new CorePointAssigner(t, new CorePointOptions { Eps = eps })),
        })
        {
            var (batch, bt) = TimeWithSetup(context, () => make(tables.Clone()), a => a.AssignBatch(newIds, fresh), out double bcpu);
            var (one, st) = TimeWithSetup(context, () => make(tables.Clone()),
                a => Enumerable.Range(0, singleCount).Select(i => a.Assign(newIds[i], fresh.Row(i))).ToArray(), out double scpu);
            var summary = new JsonObject
            {
                ["rows_per_s"] = Math.Round(nNew / bt.MedianSeconds, 1),
                ["cpu_s"] = Math.Round(bcpu, 3),
                ["rows_per_s_single"] = Math.Round(singleCount / st.MedianSeconds, 1),
                ["cpu_s_single"] = Math.Round(scpu, 3),
                ["single_same_as_batch"] = batch.Take(singleCount).Select(Decision).SequenceEqual(one.Select(Decision)),
                ["init_dbscan_s"] = Math.Round(dbscanSeconds, 4),
                ["init_tables_s"] = Math.Round(tablesSeconds, 4),
                ["init_dbscan_clusters"] = dbscan.ClusterCount,
                ["init_noise_points"] = dbscan.NoiseCount,
                ["centres_at_start"] = tables.ClusterCount,
                ["centres_at_end"] = tables.ClusterCount + batch.Count(r => r.CreatedCluster),
                ["rows_streamed"] = nNew,
                ["joined_existing"] = batch.Count(r => !r.CreatedCluster),
                ["new_clusters"] = batch.Count(r => r.CreatedCluster),
            };
            if (anchorInit is not null && anchorStream is not null)
            {
                summary["init_ids_same_as_anchor"] = anchorInit.AsSpan().SequenceEqual(tables.ItemClusterIds);
                int m = Math.Min(anchorStream.Length, batch.Count);
                summary["anchor_rows_compared"] = m;
                summary["same_ids_as_anchor"] = Enumerable.Range(0, m).Count(i => batch[i].ClusterId == anchorStream[i]);
            }
            string epsText = eps.ToString(CultureInfo.InvariantCulture);
            // Every rule's assignments are kept. The article's rule is what the anchor's pandas loop runs: its files
            // carry the anchor's names, and bench compare joins the record with nearest/pandas and checks both id
            // tables row by row.
            bool article = name == "centroid-first";
            string? anchorId = article ? $"nearest/pandas/eps={epsText}" : null;
            var artifacts = new JsonObject
            {
                ["stream_cluster_ids"] = context.SaveArtifact(article ? "nearest_stream_cluster_ids.npy" : $"nearest_{name}_stream_cluster_ids.npy",
                    batch.Select(r => r.ClusterId).ToArray()),
            };
            if (article)
                artifacts["init_cluster_ids"] = context.SaveArtifact("nearest_init_cluster_ids.npy", tables.ItemClusterIds.ToArray());
            context.Record($"nearest/{name}/eps={epsText}", "nearest",
                new JsonObject { ["eps"] = eps, ["init_rows"] = nInit, ["stream_rows"] = nNew, ["single_rows"] = singleCount, ["min_samples"] = 3, ["mode"] = "batch" },
                PerItem(bt, nNew), summary, artifacts, anchorId);
        }

        // Failure shares against the truth of DBSCAN on all rows, with both ways of giving its clusters old IDs.
        var (ev, et) = TimeWithSetup(context, () => 0, _ => OnlineEvaluator.Evaluate(x, nInit, options));
        var diag = new JsonObject
        {
            ["rerun_clusters"] = ev.RerunClusters,
            ["rerun_noise"] = ev.RerunNoise,
            ["initial_clusters"] = ev.InitialClusters,
            ["initial_centres_outside"] = ev.InitialCentres.OutsideCount,
            ["initial_items_in_outside_clusters_share"] = Math.Round(ev.InitialCentres.ItemsInOutsideClustersShare, 4),
            ["initial_members_beyond_eps_share"] = Math.Round(ev.InitialCentres.MembersBeyondEpsShare, 4),
            ["rerun_centres_outside"] = ev.RerunCentres.OutsideCount,
            ["truth_in_old_cluster"] = ev.Assigners[0].TruthInOldCluster,
        };
        foreach (var mapping in new[] { TruthMapping.Hungarian, TruthMapping.Majority })
        {
            string suffix = mapping == TruthMapping.Hungarian ? "" : "_majority";
            var assigners = mapping == TruthMapping.Hungarian ? ev.Assigners
                : OnlineEvaluator.Evaluate(x, nInit, options, TruthMapping.Majority).Assigners;
            for (int k = 0; k < assigners.Count; k++)
            {
                var a = assigners[k];
                string key = Key(ev.Runs[k].Assigner);
                diag[$"{key}_same{suffix}"] = Math.Round(a.SameShare, 4);
                diag[$"{key}_missed{suffix}"] = Math.Round(a.MissedShare, 4);
                diag[$"{key}_wrongly_merged{suffix}"] = Math.Round(a.WronglyMergedShare, 4);
                diag[$"{key}_merged_into_other{suffix}"] = a.MergedIntoOther;
                diag[$"{key}_merged_when_new{suffix}"] = a.MergedWhenNew;
            }
        }
        context.Record($"nearest/diagnostics/eps={eps.ToString(CultureInfo.InvariantCulture)}", "nearest",
            new JsonObject { ["eps"] = eps, ["init_rows"] = nInit, ["stream_rows"] = nNew, ["min_samples"] = 3, ["truth"] = "DBSCAN on all rows; its clusters given old IDs by Hungarian (and by majority: *_majority)" },
            et, diag);
    }

    private static void RunSweep(BenchContext context)
    {
        string list = context.Option("nearest-sweep", "");
        if (list.Length == 0) return;
        var x = context.X;
        int nInit = int.Parse(context.Option("nearest-init", "7000"), CultureInfo.InvariantCulture);
        if (x.Count <= nInit) return;
        var epsValues = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        foreach (double eps in epsValues)
        {
            var (ev, et) = TimeWithSetup(context, () => 0, _ => OnlineEvaluator.Evaluate(x, nInit, new DbscanOptions { Eps = eps, MinSamples = 3, Metric = DistanceMetric.Cosine }));
            var summary = new JsonObject
            {
                ["initial_clusters"] = ev.InitialClusters,
                ["initial_noise"] = ev.InitialNoise,
                ["centres_at_start"] = ev.CentresAtStart,
                ["rerun_clusters"] = ev.RerunClusters,
                ["initial_centres_outside"] = ev.InitialCentres.OutsideCount,
                ["initial_members_beyond_eps_share"] = Math.Round(ev.InitialCentres.MembersBeyondEpsShare, 4),
                ["truth_in_old_cluster"] = ev.Assigners[0].TruthInOldCluster,
            };
            for (int k = 0; k < ev.Assigners.Count; k++)
            {
                var a = ev.Assigners[k];
                string key = Key(ev.Runs[k].Assigner);
                summary[$"{key}_same"] = Math.Round(a.SameShare, 4);
                summary[$"{key}_missed"] = Math.Round(a.MissedShare, 4);
                summary[$"{key}_wrongly_merged"] = Math.Round(a.WronglyMergedShare, 4);
            }
            foreach (var r in ev.Runs)
            {
                string key = Key(r.Assigner);
                summary[$"{key}_new_clusters"] = r.Created;
            }
            context.Record($"nearest/sweep/eps={eps.ToString(CultureInfo.InvariantCulture)}", "nearest",
                new JsonObject { ["eps"] = eps, ["init_rows"] = nInit, ["stream_rows"] = x.Count - nInit, ["min_samples"] = 3, ["truth"] = "DBSCAN on all rows, Hungarian map to old IDs" },
                et, summary);
        }
    }

    private static string Key(AssignerKind kind) => kind switch
    {
        AssignerKind.NearestCentroid => "centroid",
        AssignerKind.CorePoint => "corepoint",
        _ => "centroid_first",
    };
}
