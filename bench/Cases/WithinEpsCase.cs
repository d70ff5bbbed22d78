using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.IO;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Large centre tables (the article's method makes every noise point a centre): the nearest-centroid assigner with
/// its exact within-eps list index, next to its own brute-force scan and to faiss 1.7.3's exact IndexFlatIP and
/// approximate IndexIVFFlat (at the first nprobe reaching 0.99 recall@1), measured in the same run. Synthetic
/// clustered centres (groups of about 50 around random directions) and items that are noisy copies of random
/// centres; eps is set, per join share in <c>--withineps-joins</c>, to that quantile of the items' exact nearest
/// distance. Ignores X.
/// Options: <c>--withineps-centres 100000</c> (list), <c>--withineps-dim 512</c>, <c>--withineps-items 500</c> (batched
/// through the lists, and through the brute-force scan), <c>--withineps-joins 0.01,0.1,0.5</c>, <c>--withineps-brute 100</c>
/// (items also run one at a time through the brute-force scan), <c>--withineps-single 500</c> (items run one at a time
/// through the lists), <c>--withineps-lists-per-root 1</c> (coarse lists per √k, before bisection), <c>--withineps-faiss /usr/bin/python3</c>
/// ("none" skips faiss), <c>--withineps-in-place true</c> (no copies: only the lists' batch, on the tables themselves, the
/// join shares in sequence, --repeats batches of new items each, the median rate reported; for 10^6 centres, where a
/// copy next to the tables and faiss does not fit in 24 GB).
/// Every run's decisions are compared with the lists' batch (not in place).
/// median_s is seconds per item.
/// </summary>
public sealed class WithinEpsCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "withineps";

    /// <inheritdoc/>
    public string Description => "large centre tables: exact within-eps list index vs brute force vs faiss Flat/IVF, items per second";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string>
    {
        ["withineps-centres"] = "3000", ["withineps-items"] = "100", ["withineps-brute"] = "20", ["withineps-faiss"] = "none",
    };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int d = int.Parse(context.Option("withineps-dim", "512"), CultureInfo.InvariantCulture);
        int items = int.Parse(context.Option("withineps-items", "500"), CultureInfo.InvariantCulture);
        int bruteItems = int.Parse(context.Option("withineps-brute", "100"), CultureInfo.InvariantCulture);
        int singleItems = int.Parse(context.Option("withineps-single", "500"), CultureInfo.InvariantCulture);
        bool inPlace = context.Option("withineps-in-place", "false") == "true";
        CentreLists.ListsPerRootK = double.Parse(context.Option("withineps-lists-per-root", "1"), CultureInfo.InvariantCulture);
        string python = context.Option("withineps-faiss", "/usr/bin/python3");
        var joins = context.Option("withineps-joins", "0.01,0.1,0.5").Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        foreach (int k in context.Option("withineps-centres", "100000").Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)))
            RunSize(context, k, d, items, Math.Min(bruteItems, items), Math.Min(singleItems, items), joins, python, inPlace);
    }

    /// <summary>Batches of new items committed into the tables before the first share's timings (in place).</summary>
    private const int WarmBatches = 2;

    private static void RunSize(BenchContext context, int k, int d, int itemCount, int bruteItems, int singleItems, double[] joins, string python, bool inPlace)
    {
        var rng = new Random(20261201 + k);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        int groups = Math.Max(1, k / 50);
        var means = new float[groups * d];
        for (int i = 0; i < means.Length; i++) means[i] = (float)Gauss();
        var centres = EmbeddingMatrix.Zeros(k, d);
        for (int r = 0; r < k; r++)
        {
            int g = rng.Next(groups);
            var row = centres.Row(r);
            for (int j = 0; j < d; j++) row[j] = means[g * d + j] + (float)(0.6 * Gauss());
        }
        // In place, each join share gets its own items after the first share's (the same items again would join the
        // clusters they opened); they are generated after those, so the first share's items are the copies' items.
        int runs = inPlace ? Math.Max(1, context.Repeats) : 1;
        int streamCount = inPlace ? itemCount * (joins.Length * runs + WarmBatches) : itemCount;
        var all = EmbeddingMatrix.Zeros(streamCount, d);
        for (int i = 0; i < streamCount; i++)
        {
            var c = centres.Row(rng.Next(k));
            double noise = 0.05 + 0.6 * rng.NextDouble(); // a spread of nearest distances, so every join share has an eps
            var row = all.Row(i);
            for (int j = 0; j < d; j++) row[j] = c[j] + (float)(noise * Gauss());
        }
        var stream = inPlace ? new EmbeddingMatrix(all.Data.AsSpan(0, itemCount * d).ToArray(), itemCount, d) : all;
        var ids = Enumerable.Range(k, itemCount).Select(i => (long)i).ToArray();
        var baseTables = ClusterTables.Initialise(Enumerable.Range(0, k).Select(i => (long)i).ToArray(), centres, Enumerable.Range(0, k).ToArray());
        // Exact nearest distances (brute-force predictions) give eps per join share.
        baseTables.ListThreshold = int.MaxValue;
        var nearest = new NearestCentroidAssigner(baseTables, new NearestCentroidOptions { Eps = 1, ExactNearestDistance = true }).PredictBatch(ids, stream)
            .Select(a => a.NearestDistance).Order().ToArray();
        baseTables.ListThreshold = 1; // the lists on (off by default); the brute-force copies below turn them off
        // Build them once, outside the timings (every clone copies them): a day's stream pays it once, not per item.
        var buildClock = Stopwatch.StartNew();
        baseTables.Lists();
        double buildSeconds = buildClock.Elapsed.TotalSeconds;

        string folder = FaissAnchor.ScratchFolder("withineps");
        string centresPath = Path.Combine(folder, "centres.npy"), itemsPath = Path.Combine(folder, "items.npy");
        Npy.Write(centresPath, centres);
        Npy.Write(itemsPath, stream); // faiss searches the first share's items
        centres = null!; // 2 GB at 10^6 x 512: the tables hold their own copy
        if (inPlace)
        {
            Compact(); // growing copies the tables: nothing else should be resident then
            baseTables.ReserveExactly(streamCount, streamCount);
        }
        Compact(); // before faiss loads its own copies
        string faissLoad = FaissAnchor.LoadAverage();
        double faissStolen = FaissAnchor.StolenSeconds();
        var faiss = FaissAnchor.Run(python, centresPath, itemsPath,
            ["--single", "20", "--repeats", context.Repeats.ToString(CultureInfo.InvariantCulture),
             "--ivf-nlist", Math.Max(1, (int)Math.Round(4 * Math.Sqrt(k))).ToString(CultureInfo.InvariantCulture), "--ivf-target", "0.99", "--ivf-train-per-list", "64", "--ivf-nprobe", "1,2,4,8,16,32,64,128,256,512,1024,2048"]);
        faissStolen = FaissAnchor.StolenSeconds() - faissStolen;
        Directory.Delete(folder, recursive: true);
        double faissFlat = faiss?["flat"]?["batch_items_per_s"]?.GetValue<double>() ?? double.NaN;
        double faissFlatSingle = faiss?["flat"]?["single_items_per_s"]?.GetValue<double>() ?? double.NaN;
        var atTarget = faiss?["ivf"]?["at_target"];
        double faissIvf = atTarget?["batch_items_per_s"]?.GetValue<double>() ?? double.NaN;
        int? nprobe = atTarget?["nprobe"]?.GetValue<int>();
        double? ivfRecall = atTarget?["recall_at_1"]?.GetValue<double>();

        foreach (double share in joins)
        {
            double eps = nearest[Math.Clamp((int)(share * nearest.Length), 0, nearest.Length - 1)];
            var options = new NearestCentroidOptions { Eps = eps };
            if (inPlace)
            {
                // No copies: the lists, batched, on the tables themselves, the join shares one after another (each
                // adds its items: 0.2% of 10^6 centres). Decisions are not compared here (that needs a copy).
                Compact();
                var inPlaceAssigner = new NearestCentroidAssigner(baseTables, options);
                // Warm-up: batches of new items (the last slices) committed into the tables themselves, with pauses
                // for the background compiler, so the timings below run the optimised code. Not on a small copy:
                // tiered PGO then compiles the screening for small tables, and at 10^6 it ran at half speed for the
                // rest of the process (a scratch harness: 72 against 44 µs per item; this case's 1% share: 7,266/s, where
                // the harness, warmed on the tables, ran 10,000-12,000).
                if (share == joins[0])
                    for (int w = 0; w < WarmBatches; w++)
                    {
                        int slice = joins.Length * runs + w;
                        long offset = (long)slice * itemCount;
                        inPlaceAssigner.AssignBatch(ids.Select(v => v + offset).ToArray(),
                            new EmbeddingMatrix(all.Data.AsSpan(slice * itemCount * d, itemCount * d).ToArray(), itemCount, d));
                        Thread.Sleep(500);
                    }
                // --repeats batches per share, each of new items: the median rate stands, so a burst of the VM's
                // stolen time in one of them does not decide the row.
                long probedBefore = inPlaceAssigner.ListsProbed;
                double stolenAtStart = FaissAnchor.StolenSeconds();
                int si = Array.IndexOf(joins, share), joinedHere = 0;
                var seconds = new double[runs];
                for (int r = 0; r < runs; r++)
                {
                    int slice = si * runs + r;
                    long offset = (long)slice * itemCount; // new items every time
                    var items = new EmbeddingMatrix(all.Data.AsSpan(slice * itemCount * d, itemCount * d).ToArray(), itemCount, d);
                    var itemIds = ids.Select(v => v + offset).ToArray();
                    var clock = Stopwatch.StartNew();
                    var answers = inPlaceAssigner.AssignBatch(itemIds, items);
                    seconds[r] = clock.Elapsed.TotalSeconds;
                    joinedHere += answers.Count(x => !x.CreatedCluster);
                }
                var sortedSeconds = seconds.Order().ToArray();
                double inPlaceRate = itemCount / sortedSeconds[runs / 2];
                double stolenHere = FaissAnchor.StolenSeconds() - stolenAtStart;
                string nowLoad = FaissAnchor.LoadAverage();
                joinedHere = (int)Math.Round(joinedHere / (double)runs);
                double probedHere = (inPlaceAssigner.ListsProbed - probedBefore) / ((double)itemCount * runs);
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# withineps {k}x{d} join {share:P0} (eps {eps:G4}, {joinedHere} joined), in place: ours through the lists batched {inPlaceRate:F0}/s, {probedHere:F1} of {baseTables.Lists()!.Count} lists probed per item (built once in {buildSeconds:F1} s); " +
                    $"faiss Flat batch {faissFlat:F0}/s, IVF batch nprobe {nprobe} (recall@1 {ivfRecall:F3}) {faissIvf:F0}/s; ours/IVF {inPlaceRate / faissIvf:F2}, ours/Flat {inPlaceRate / faissFlat:F2}; load average {faissLoad} at faiss, {nowLoad} now; CPU seconds stolen by the hypervisor {faissStolen:F1} during faiss, {stolenHere:F1} during ours ({seconds.Sum():F1} s over {runs} batches of {itemCount}, median of {runs})"));
                context.Record(string.Create(CultureInfo.InvariantCulture, $"withineps/{k}x{d}/join={share}"), "withineps",
                    new JsonObject { ["centres"] = k, ["dimension"] = d, ["items"] = itemCount, ["eps"] = eps, ["join_share_target"] = share, ["in_place"] = true },
                    new Timing(1 / inPlaceRate, sortedSeconds[0] / itemCount, runs, seconds, null),
                    InPlaceSummary());
                JsonObject InPlaceSummary()
                {
                    var o = new JsonObject
                    {
                        ["items_per_s"] = Math.Round(inPlaceRate, 1), ["joined"] = joinedHere, ["lists"] = baseTables.Lists()!.Count,
                        ["lists_probed_per_item"] = Math.Round(probedHere, 2), ["lists_build_seconds"] = Math.Round(buildSeconds, 2),
                        ["load_average"] = nowLoad,
                    };
                    if (double.IsFinite(stolenHere)) o["stolen_cpu_seconds"] = Math.Round(stolenHere, 2);
                    if (double.IsFinite(faissStolen)) o["faiss_stolen_cpu_seconds"] = Math.Round(faissStolen, 2);
                    if (double.IsFinite(faissFlat)) o["faiss_flat_items_per_s"] = Math.Round(faissFlat, 1);
                    if (double.IsFinite(faissIvf))
                    {
                        o["faiss_ivf_items_per_s"] = Math.Round(faissIvf, 1);
                        o["faiss_ivf_nprobe"] = nprobe;
                        o["faiss_ivf_recall_at_1"] = ivfRecall;
                        o["ours_over_faiss_ivf"] = Math.Round(inPlaceRate / faissIvf, 3);
                    }
                    return o;
                }
                continue;
            }
            // The brute-force scan, one at a time on the first items (the same decisions, and its rate) and batched;
            // the lists one at a time; then the lists batched (the headline).
            double stolenBefore = FaissAnchor.StolenSeconds();
            var (brute, bruteSeconds, _, _) = Timed(baseTables, options, ids, stream, bruteItems, listsOn: false, batch: false);
            double bruteRate = bruteItems / bruteSeconds;
            var (bruteBatch, bruteBatchSeconds, _, _) = Timed(baseTables, options, ids, stream, itemCount, listsOn: false, batch: true);
            double bruteBatchRate = itemCount / bruteBatchSeconds;
            var (single, singleSeconds, _, _) = Timed(baseTables, options, ids, stream, singleItems, listsOn: true, batch: false);
            double singleRate = singleItems / singleSeconds;
            var times = new List<double>();
            IReadOnlyList<Assignment> result = [];
            long probed = 0;
            int lists = 0;
            for (int r = 0; r < context.Repeats; r++)
            {
                var (res, seconds, p, l) = Timed(baseTables, options, ids, stream, itemCount, listsOn: true, batch: true);
                result = res;
                times.Add(seconds);
                probed = p;
                lists = l;
            }
            bool Same(Assignment a, Assignment b) => a.ClusterId == b.ClusterId && a.CreatedCluster == b.CreatedCluster && a.Distance == b.Distance;
            int differ = Enumerable.Range(0, bruteItems).Count(i => !Same(brute[i], result[i]))
                + Enumerable.Range(0, itemCount).Count(i => !Same(bruteBatch[i], result[i]))
                + Enumerable.Range(0, singleItems).Count(i => !Same(single[i], result[i]));
            var sorted = times.Order().ToArray();
            double median = sorted[sorted.Length / 2], rate = itemCount / median;
            string load = FaissAnchor.LoadAverage();
            double stolen = FaissAnchor.StolenSeconds() - stolenBefore;
            int joined = result.Count(x => !x.CreatedCluster);
            context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# withineps {k}x{d} join {share:P0} (eps {eps:G4}, {joined} joined): ours through the lists batched {rate:F0}/s, one at a time {singleRate:F0}/s, {probed / (double)itemCount:F1} of {lists} lists probed per item (built once in {buildSeconds:F1} s); " +
                $"our brute force one at a time {bruteRate:F0}/s, batched {bruteBatchRate:F0}/s ({differ} decisions differ from the lists'); faiss Flat batch {faissFlat:F0}/s, one at a time {faissFlatSingle:F0}/s, IVF batch nprobe {nprobe} (recall@1 {ivfRecall:F3}) {faissIvf:F0}/s; " +
                $"ours/IVF {rate / faissIvf:F2}, ours/Flat {rate / faissFlat:F2}; load average {faissLoad} at faiss, {load} now; CPU seconds stolen by the hypervisor {faissStolen:F1} during faiss, {stolen:F1} during ours"));
            var summary = new JsonObject
            {
                ["items_per_s"] = Math.Round(rate, 1),
                ["single_items_per_s"] = Math.Round(singleRate, 1),
                ["joined"] = joined,
                ["lists"] = lists,
                ["lists_probed_per_item"] = Math.Round(probed / (double)itemCount, 2),
                ["lists_build_seconds"] = Math.Round(buildSeconds, 2),
                ["brute_items_per_s"] = Math.Round(bruteRate, 1),
                ["brute_items_compared"] = bruteItems,
                ["brute_batch_items_per_s"] = Math.Round(bruteBatchRate, 1),
                ["decisions_differing_from_brute"] = differ,
                ["load_average"] = load,
            };
            if (double.IsFinite(stolen)) summary["stolen_cpu_seconds"] = Math.Round(stolen, 2);
            if (double.IsFinite(faissStolen)) summary["faiss_stolen_cpu_seconds"] = Math.Round(faissStolen, 2);
            if (double.IsFinite(faissFlat))
            {
                summary["faiss_flat_items_per_s"] = Math.Round(faissFlat, 1);
                summary["faiss_flat_single_items_per_s"] = Math.Round(faissFlatSingle, 1);
                summary["ours_over_faiss_flat"] = Math.Round(rate / faissFlat, 3);
            }
            if (double.IsFinite(faissIvf))
            {
                summary["faiss_ivf_items_per_s"] = Math.Round(faissIvf, 1);
                summary["faiss_ivf_nprobe"] = nprobe;
                summary["faiss_ivf_recall_at_1"] = ivfRecall;
                summary["ours_over_faiss_ivf"] = Math.Round(rate / faissIvf, 3);
            }
            context.Record(string.Create(CultureInfo.InvariantCulture, $"withineps/{k}x{d}/join={share}"), "withineps",
                new JsonObject { ["centres"] = k, ["dimension"] = d, ["items"] = itemCount, ["eps"] = eps, ["join_share_target"] = share },
                new Timing(median / itemCount, sorted[0] / itemCount, sorted.Length, [.. times], null), summary);
        }
    }

    /// <summary>A full, compacting collection that gives freed memory back to the system: at 10^6 centres the
    /// generator's and the tables' construction garbage (about 6 GB) would otherwise stay resident next to a copy.</summary>
    private static void Compact()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>
    /// Assigns the first <paramref name="count"/> items into a fresh copy of the tables with room for them (growing
    /// a table copies it: a one-time cost of a day's first batch, not a per-item one) (lists on or off, one at a time or one batch) and returns the answers, the seconds, lists probed and list count. A separate method, and a full
    /// collection before the copy, so that at 10^6 centres (about 7 GB a copy) only the base and one copy are alive.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (IReadOnlyList<Assignment> Result, double Seconds, long Probed, int Lists) Timed(ClusterTables baseTables,
        NearestCentroidOptions options, long[] ids, EmbeddingMatrix stream, int count, bool listsOn, bool batch)
    {
        Compact();
        var t = baseTables.Clone(baseTables.ItemCount + count, baseTables.ClusterCount + count);
        t.ListThreshold = listsOn ? 1 : int.MaxValue;
        var a = new NearestCentroidAssigner(t, options);
        var sw = Stopwatch.StartNew();
        IReadOnlyList<Assignment> result = batch
            ? a.AssignBatch(ids[..count], count == stream.Count ? stream : new EmbeddingMatrix(stream.Data.AsSpan(0, count * stream.Dimension).ToArray(), count, stream.Dimension))
            : Enumerable.Range(0, count).Select(i => a.Assign(ids[i], stream.Row(i))).ToArray();
        double seconds = sw.Elapsed.TotalSeconds;
        return (result, seconds, a.ListsProbed, listsOn ? t.Lists()?.Count ?? 0 : 0);
    }
}
