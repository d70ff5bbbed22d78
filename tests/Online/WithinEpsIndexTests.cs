using CsCheck;
using LabelAssignment.IO;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Tests.Online;

/// <summary>
/// The nearest-centroid rule through its fast paths (batched screening with moved and opened centres bounded from
/// earlier dots; the within-eps list index for large tables) against a naive loop: every item measured against every
/// centre with <see cref="DistanceKernels.Distance(DistanceMetric, ReadOnlySpan{float}, double, ReadOnlySpan{double}, double)"/>
/// (the definition of the exact distance), nearest within eps (or the first, in table order), ties to the lower row,
/// then the same running mean. No screening, no lists, no chunks.
/// </summary>
public sealed class WithinEpsIndexTests
{
    /// <summary>The naive loop's decisions: centre row joined (-1 = opened), its distance, the exact nearest distance.</summary>
    private static List<(int Row, double Distance, double Nearest)> NaiveLoop(EmbeddingMatrix init, int[] labels, EmbeddingMatrix stream,
        DistanceMetric metric, double eps, bool firstWithin)
    {
        int d = init.Dimension;
        // Noise rows get the smallest free IDs in row order (IdReusePolicy.SmallestFree, as Initialise documents).
        var used = labels.Where(l => l >= 0).ToHashSet();
        labels = labels.ToArray();
        for (int i = 0, next = 0; i < labels.Length; i++)
            if (labels[i] < 0)
            {
                while (used.Contains(next)) next++;
                labels[i] = next;
                used.Add(next);
            }
        // Centres in cluster-ID order (as ClusterTables.Initialise orders them), member means in float64.
        var order = labels.Distinct().Order().ToArray();
        var centres = new List<double[]>();
        var counts = new List<long>();
        foreach (int id in order)
        {
            var c = new double[d];
            long n = 0;
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] == id) { n++; for (int k = 0; k < d; k++) c[k] += init.Row(i)[k]; }
            for (int k = 0; k < d; k++) c[k] *= 1.0 / n;
            centres.Add(c);
            counts.Add(n);
        }
        var result = new List<(int, double, double)>();
        for (int i = 0; i < stream.Count; i++)
        {
            var x = stream.Row(i);
            double xn = DistanceKernels.Norm(x);
            int best = -1, first = -1;
            double bestD = double.PositiveInfinity, firstD = double.PositiveInfinity;
            for (int j = 0; j < centres.Count; j++)
            {
                double dist = DistanceKernels.Distance(metric, x, xn, centres[j], DistanceKernels.Norm(centres[j]));
                if (dist < bestD) { bestD = dist; best = j; }
                if (first < 0 && dist <= eps) { first = j; firstD = dist; }
            }
            int chosen = firstWithin ? first : bestD <= eps ? best : -1;
            double chosenD = firstWithin ? firstD : bestD;
            if (chosen >= 0)
            {
                long n = ++counts[chosen];
                var c = centres[chosen];
                double inv = 1.0 / n;
                for (int k = 0; k < d; k++) c[k] += (x[k] - c[k]) * inv;
                result.Add((chosen, chosenD, bestD));
            }
            else
            {
                centres.Add(x.ToArray().Select(v => (double)v).ToArray());
                counts.Add(1);
                result.Add((-1, 0, bestD));
            }
        }
        return result;
    }

    /// <summary>Our assigner's decisions as (row, distance, nearest), the row read from the tables after the run: in the
    /// given batch sizes (an empty list: one item at a time), through the lists when a low threshold forces them on.</summary>
    private static List<(int Row, double Distance, double Nearest)> Ours(EmbeddingMatrix init, int[] labels, EmbeddingMatrix stream,
        DistanceMetric metric, double eps, bool firstWithin, int listThreshold, int[] chunks, bool forceLists = true, bool exact = false,
        int[]? stages = null)
    {
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, init.Count), init, labels, null, metric);
        t.ListThreshold = listThreshold;
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps, FirstWithinEps = firstWithin, ExactNearestDistance = exact })
            { ForceLists = forceLists, StagesOverride = stages };
        var all = new List<Assignment>();
        if (chunks.Length == 0)
        {
            for (int i = 0; i < stream.Count; i++) all.Add(a.Assign(init.Count + i, stream.Row(i)));
            return all.Select(r => (r.CreatedCluster ? -1 : t.RowOfCluster(r.ClusterId), r.Distance, r.NearestDistance)).ToList();
        }
        int at = 0;
        foreach (int size in chunks)
        {
            int m = Math.Min(size, stream.Count - at);
            if (m <= 0) break;
            all.AddRange(a.AssignBatch(OnlineTestData.Ids(init.Count + at, m), OnlineTestData.Rows(stream, at, m)));
            at += m;
        }
        if (at < stream.Count)
            all.AddRange(a.AssignBatch(OnlineTestData.Ids(init.Count + at, stream.Count - at), OnlineTestData.Rows(stream, at, stream.Count - at)));
        return all.Select(r => (r.CreatedCluster ? -1 : t.RowOfCluster(r.ClusterId), r.Distance, r.NearestDistance)).ToList();
    }

    private static bool Agree(List<(int Row, double Distance, double Nearest)> naive, List<(int Row, double Distance, double Nearest)> ours,
        double eps, bool exactNearestOnCreate)
    {
        for (int i = 0; i < naive.Count; i++)
        {
            var (nr, nd, nn) = naive[i];
            var (or, od, on) = ours[i];
            if (nr != or || nd != od) return false;
            if (nr >= 0 || exactNearestOnCreate) { if (nn != on) return false; }
            else if (!(on > eps && on <= nn)) return false; // the lists report a lower bound above eps
        }
        return true;
    }

    // Integer grid points: many distances exactly equal to eps and many exact ties (lowest row must win).
    private static readonly Gen<(int D, int[] Init, int[] Labels, int[] Stream, bool Cosine, bool First, int Chunk)> GridCase =
        Gen.Int[2, 5].SelectMany(d => Gen.Select(
            Gen.Int[-4, 4].Array[d * 4, d * 60], Gen.Int[-1, 6].Array[60], Gen.Int[-4, 4].Array[d * 1, d * 120],
            Gen.Bool, Gen.Bool, Gen.Int[1, 40]).Select(v => (d, v.Item1, v.Item2, v.Item3, v.Item4, v.Item5, v.Item6)));

    private static EmbeddingMatrix Grid(int[] values, int d, bool cosine)
    {
        int n = values.Length / d;
        var data = values.Take(n * d).Select(v => (float)v).ToArray();
        if (cosine) // no zero rows under cosine
            for (int i = 0; i < n; i++)
                if (data.AsSpan(i * d, d).IndexOfAnyExcept(0f) < 0) data[i * d] = 1;
        return new EmbeddingMatrix(data, n, d);
    }

    [Fact]
    public void BatchesAndListsGiveTheNaiveLoopsDecisionsOnGridData()
    {
        GridCase.Sample(c =>
        {
            var metric = c.Cosine ? DistanceMetric.Cosine : DistanceMetric.Euclidean;
            // Euclidean eps 5 (3-4-5 triangles sit exactly on it), cosine eps 1 (orthogonal rows sit exactly on it).
            double eps = c.Cosine ? 1.0 : 5.0;
            var init = Grid(c.Init, c.D, c.Cosine);
            var labels = Enumerable.Range(0, init.Count).Select(i => c.Labels[i % c.Labels.Length]).ToArray();
            var stream = Grid(c.Stream, c.D, c.Cosine);
            var naive = NaiveLoop(init, labels, stream, metric, eps, c.First);
            int[] chunks = [c.Chunk, 1, c.Chunk * 3, 2];
            var brute = Ours(init, labels, stream, metric, eps, c.First, int.MaxValue, chunks, exact: true);
            var capped = Ours(init, labels, stream, metric, eps, c.First, int.MaxValue, chunks);
            var lists = Ours(init, labels, stream, metric, eps, c.First, 1, chunks);
            var listsOneByOne = Ours(init, labels, stream, metric, eps, c.First, 1, []);
            return Agree(naive, brute, eps, exactNearestOnCreate: true) && Agree(naive, capped, eps, exactNearestOnCreate: c.First)
                && Agree(naive, lists, eps, exactNearestOnCreate: false) && Agree(naive, listsOneByOne, eps, exactNearestOnCreate: false);
        }, iter: 150);
    }

    [Fact]
    public void BatchesAndListsGiveTheNaiveLoopsDecisionsOnGaussianClumps()
    {
        Gen.Select(Gen.Int[0, 100_000], Gen.Bool, Gen.Bool, Gen.Int[8, 48]).Sample((seed, cosine, first, d) =>
        {
            var metric = cosine ? DistanceMetric.Cosine : DistanceMetric.Euclidean;
            var all = OnlineTestData.Clumps(700, d, 25, 0.15, seed);
            var init = OnlineTestData.Rows(all, 0, 300);
            var stream = OnlineTestData.Rows(all, 300, 400);
            // Every initial row its own cluster (noise-heavy, as the article's tables are): many centres, many moves.
            var labels = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? -1 : i % 150).ToArray();
            double eps = cosine ? 0.02 : 0.25;
            var naive = NaiveLoop(init, labels, stream, metric, eps, first);
            int[] chunks = [400];
            var brute = Ours(init, labels, stream, metric, eps, first, int.MaxValue, chunks, exact: true);
            // The full scan staged at every split (most far pairs settle early at these eps) and at the pilot's choice.
            var splits = Int8Product.SplitGroups(d);
            var staged = Ours(init, labels, stream, metric, eps, first, int.MaxValue, [37, 1, 362], stages: [.. Enumerable.Range(0, splits.Length)]);
            var early = Ours(init, labels, stream, metric, eps, first, int.MaxValue, [37, 1, 362], stages: splits.Length > 0 ? [0] : []);
            var piloted = Ours(init, labels, stream, metric, eps, first, int.MaxValue, [400]);
            var stagedOne = Ours(init, labels, stream, metric, eps, first, int.MaxValue, [], stages: [.. Enumerable.Range(0, splits.Length)]);
            bool stagedAgree = Agree(naive, staged, eps, exactNearestOnCreate: first) && Agree(naive, early, eps, exactNearestOnCreate: first)
                && Agree(naive, piloted, eps, exactNearestOnCreate: first) && Agree(naive, stagedOne, eps, exactNearestOnCreate: first);
            var lists = Ours(init, labels, stream, metric, eps, first, 1, chunks);
            var listsOneByOne = Ours(init, labels, stream, metric, eps, first, 1, []);
            // Lists where they pay, the full scan for the chunks where they would not: decisions must not change.
            var mixed = Ours(init, labels, stream, metric, eps, first, 1, [100, 1, 299], forceLists: false);
            return Agree(naive, brute, eps, exactNearestOnCreate: true) && stagedAgree && Agree(naive, lists, eps, exactNearestOnCreate: false)
                && Agree(naive, listsOneByOne, eps, exactNearestOnCreate: false) && Agree(naive, mixed, eps, exactNearestOnCreate: false);
        }, iter: 12);
    }

    [Fact]
    public void ListsGiveTheBruteForceDecisionsOnTheDbscanFixture()
    {
        // The DBSCAN fixture: 2,000 x 32 rows on a common cone, as real encoders produce (make_fixtures.py).
        var x = Npy.ReadMatrix(Path.Combine(TestPaths.Fixtures, "dbscan", "X.npy"));
        var init = OnlineTestData.Rows(x, 0, 1200);
        var stream = OnlineTestData.Rows(x, 1200, 800);
        var labels = Enumerable.Range(0, 1200).ToArray(); // every row a centre: 1,200 centres, about 35 lists
        // The first item's exact nearest distance as eps: that item sits exactly on eps.
        double atEps = NaiveLoop(init, labels, OnlineTestData.Rows(stream, 0, 1), DistanceMetric.Cosine, 1.0, false)[0].Nearest;
        foreach (double eps in new[] { 0.01, 0.05, atEps })
        {
            var naive = NaiveLoop(init, labels, stream, DistanceMetric.Cosine, eps, firstWithin: false);
            var lists = Ours(init, labels, stream, DistanceMetric.Cosine, eps, false, 1, [800]);
            var listsOneByOne = Ours(init, labels, stream, DistanceMetric.Cosine, eps, false, 1, []);
            Assert.True(naive.Count(r => r.Row >= 0) > 0, $"eps {eps}: no item joined; the case tests nothing");
            Assert.True(Agree(naive, lists, eps, exactNearestOnCreate: false), $"eps {eps}: the lists' decisions (one batch) differ from the naive loop's");
            Assert.True(Agree(naive, listsOneByOne, eps, exactNearestOnCreate: false), $"eps {eps}: the lists' decisions (one at a time) differ from the naive loop's");
            if (eps == atEps) Assert.True(lists[0].Row >= 0 && lists[0].Distance == eps && listsOneByOne[0].Distance == eps, "the item exactly at eps must join");
        }
    }

    [Fact]
    public void ListsPruneOnClusteredData()
    {
        // Exactness alone would hold for a scan of every list: check that far lists are skipped.
        var all = OnlineTestData.Clumps(3000, 16, 60, 0.05, seed: 5);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 2000), OnlineTestData.Rows(all, 0, 2000), Enumerable.Range(0, 2000).ToArray());
        t.ListThreshold = 1;
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.01 });
        for (int i = 0; i < 1000; i++) a.Predict(2000 + i, all.Row(2000 + i));
        double perItem = a.ListsProbed / 1000.0;
        // Items from the clumps (80%) probe at least their clump's list; background items may probe none.
        Assert.True(perItem >= 0.5, $"the predictions did not go through the lists ({perItem:F2} probed per item)");
        Assert.True(perItem < t.Lists()!.Count / 4.0, $"{perItem:F1} of {t.Lists()!.Count} lists probed per item");
    }

    [Fact]
    public void TheStagedScreeningSettlesMostListsAtHalfDepthAndKeepsTheDecisions()
    {
        // 128 dimensions: the int8 screening stops at 64 and 96 values for lists the head already rules out. The
        // decisions must stay the naive loop's, and the early stops must happen (else the case tests nothing).
        if (!Int8Product.IsSupported) return;
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.Euclidean })
        {
            const int d = 128;
            var all = OnlineTestData.Clumps(2600, d, 60, 0.1, seed: 21);
            var init = OnlineTestData.Rows(all, 0, 2000);
            var stream = OnlineTestData.Rows(all, 2000, 600);
            var labels = Enumerable.Range(0, 2000).ToArray();
            double eps = metric == DistanceMetric.Cosine ? 0.01 : 1.6;
            var naive = NaiveLoop(init, labels, stream, metric, eps, firstWithin: false);
            Assert.True(naive.Count(r => r.Row >= 0) > 100, $"{metric}: {naive.Count(r => r.Row >= 0)} joined");
            var lists = Ours(init, labels, stream, metric, eps, false, 1, [600]);
            Assert.True(Agree(naive, lists, eps, exactNearestOnCreate: false), $"{metric}: the lists' decisions differ from the naive loop's");

            var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 2000), init, labels, null, metric);
            t.ListThreshold = 1;
            var index = t.Lists()!;
            Assert.True(index.Count >= 32, $"{metric}: {index.Count} lists (the int8 product needs a panel)");
            var norms = Enumerable.Range(0, 256).Select(i => DistanceKernels.Norm(stream.Row(i))).ToArray();
            var screen = new CentreLists.ChunkScreen();
            index.Screen(stream.Data.AsSpan(0, 256 * d), 256, norms, eps, screen);
            long first = screen.Settled[screen.Stages[0]];
            Assert.True(first > screen.Pairs / 2, $"{metric}: {first} of {screen.Pairs} settled at the first stage ({string.Join(",", screen.Stages)})");
        }
    }

    [Fact]
    public void CentresOpenedFarFromEveryListStartListsAndLaterItemsFindThem()
    {
        // The tables from one set of clumps; the stream from new clumps (far from every list: their first items open
        // centres that start lists of their own, later items join those, in the same batch and in later ones) mixed
        // with items near the tables' clumps.
        Gen.Select(Gen.Int[0, 100_000], Gen.Bool, Gen.Int[8, 40]).Sample((seed, cosine, d) =>
        {
            var metric = cosine ? DistanceMetric.Cosine : DistanceMetric.Euclidean;
            var old = OnlineTestData.Clumps(500, d, 12, 0.05, seed);
            var fresh = OnlineTestData.Clumps(300, d, 6, 0.05, seed + 1);
            var init = OnlineTestData.Rows(old, 0, 300);
            var stream = EmbeddingMatrix.Zeros(400, d);
            for (int i = 0; i < 400; i++)
                (i % 4 == 0 ? old.Row(300 + i / 4) : fresh.Row(i - i / 4 - 1)).CopyTo(stream.Row(i));
            var labels = Enumerable.Range(0, 300).ToArray();
            double eps = cosine ? 0.01 : 0.6;
            var naive = NaiveLoop(init, labels, stream, metric, eps, firstWithin: false);
            var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, null, metric);
            t.ListThreshold = 1;
            int built = t.Lists()!.Count;
            var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps }) { ForceLists = true };
            var batch = a.AssignBatch(OnlineTestData.Ids(300, 400), stream)
                .Select(r => (r.CreatedCluster ? -1 : t.RowOfCluster(r.ClusterId), r.Distance, r.NearestDistance)).ToList();
            Assert.True(t.Lists()!.Count > built, "no new list"); // nothing started a list: the case tests nothing
            var chunked = Ours(init, labels, stream, metric, eps, false, 1, [7, 1, 120, 33]);
            var oneByOne = Ours(init, labels, stream, metric, eps, false, 1, []);
            Assert.True(naive.Count(r => r.Row >= 300) > 50, $"joined opened {naive.Count(r => r.Row >= 300)}");
            Assert.True(Agree(naive, batch, eps, exactNearestOnCreate: false), "batch");
            Assert.True(Agree(naive, chunked, eps, exactNearestOnCreate: false), "chunked");
            Assert.True(Agree(naive, oneByOne, eps, exactNearestOnCreate: false), "one");
            return true;
        }, iter: 10);
    }

    [Fact]
    public void EveryCentreLiesWithinItsListsRadiusAndNoListIsWiderThanTheLimit()
    {
        // Clumps with 20% background rows (strays that k-means leaves in lists of other clumps), cosine and euclidean,
        // after the build and after streaming more such rows in: the bound exactness rests on (|p(c) - g| ≤ R for
        // every member, measured here in float64 from the float64 centre), every centre in exactly one list, and the
        // build's tightness (no list wider than the limit; streaming opens lists rather than widening past it).
        foreach (var metric in new[] { DistanceMetric.Cosine, DistanceMetric.Euclidean })
        {
            var all = OnlineTestData.Clumps(4000, 24, 40, 0.1, seed: 11);
            var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 3000), OnlineTestData.Rows(all, 0, 3000), Enumerable.Range(0, 3000).ToArray(), null, metric);
            t.ListThreshold = 1;
            var lists = t.Lists()!;
            double limit = lists.StartListAbove;
            Assert.True(double.IsFinite(limit) && limit > 0, $"{metric}: no limit");
            Check("built");
            var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = metric == DistanceMetric.Cosine ? 0.005 : 0.2 }) { ForceLists = true };
            a.AssignBatch(OnlineTestData.Ids(3000, 1000), OnlineTestData.Rows(all, 3000, 1000));
            Assert.Same(lists, t.Lists());
            Check("after streaming");

            void Check(string when)
            {
                var seen = new int[t.ClusterCount];
                for (int l = 0; l < lists.Count; l++)
                {
                    var g = lists.Centroid(l);
                    double widest = 0;
                    foreach (int row in lists.Members(l))
                    {
                        seen[row]++;
                        var c = t.CentreRowSpan(row);
                        double n = metric == DistanceMetric.Cosine ? Math.Sqrt(c.ToArray().Sum(v => v * v)) : 1, s = 0;
                        for (int k = 0; k < c.Length; k++) s += (c[k] / n - g[k]) * (c[k] / n - g[k]);
                        widest = Math.Max(widest, Math.Sqrt(s));
                    }
                    // 1e-12: the absolute margin the ring test adds (both sides round the direction c/|c|).
                    Assert.True(widest <= lists.Radius(l) + 1e-12, $"{metric} {when}: list {l} has a member at {widest} beyond its radius {lists.Radius(l)}");
                    if (when == "built") Assert.True(lists.Radius(l) <= lists.Limit(l) && lists.Limit(l) <= limit, $"{metric} built: list {l} radius {lists.Radius(l)} above its limit {lists.Limit(l)}");
                }
                Assert.True(seen.All(v => v == 1), $"{metric} {when}: a centre in no list or in two");
            }
        }
    }
}
