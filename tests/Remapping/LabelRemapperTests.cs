using CsCheck;
using LabelAssignment.Numerics;
using LabelAssignment.Remapping;
using LabelAssignment.Ids;

namespace LabelAssignment.Tests.Remapping;

public sealed class LabelRemapperTests
{
    // The hand case of ClusterOverlapTests: Jaccard(0,5) = 2/3, (1,5) = 1/4, (1,6) = 1/3, (2,7) = 1/2.
    private static readonly long[] OldItems = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly int[] OldLabels = [0, 0, 0, 1, 1, -1, 2, 2];
    private static readonly long[] NewItems = [2, 3, 4, 5, 6, 7, 8, 9, 10];
    private static readonly int[] NewLabels = [5, 5, 5, 6, 6, -1, 7, 5, 7];
    private static readonly Labeling Yesterday = new(OldItems, OldLabels);
    private static readonly Labeling Today = new(NewItems, NewLabels);

    private static ClusterCentres C(EmbeddingMatrix centres, int[] ids) => new(centres, ids);

    [Fact]
    public void TheArticlesExperimentSameItemsRelabelledKeepsEveryId()
    {
        // Same items, another clustering run: labels permuted, and 3 items of 300 moved to another cluster.
        var rng = new Random(11);
        int n = 300, k = 10;
        var oldLabels = Enumerable.Range(0, n).Select(i => 20 + i % k).ToArray();   // yesterday's IDs 20..29
        var perm = Enumerable.Range(0, k).ToArray();
        rng.Shuffle(perm);
        var newLabels = oldLabels.Select(l => perm[l - 20]).ToArray();
        foreach (int i in new[] { 5, 77, 150 }) newLabels[i] = (newLabels[i] + 1) % k;
        var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();

        // 0.95 was the shared default threshold before each measure had its own.
        var r = LabelRemapper.ByOverlap(new Labeling(ids, oldLabels), new Labeling(ids, newLabels), new RemappingOptions { OverlapThreshold = 0.95 });
        Assert.Equal(RemappingMeasure.Overlap, r.Measure);
        Assert.Equal(0.95, r.Threshold);
        Assert.Equal(k, r.KeptIds.Length);
        Assert.Empty(r.CreatedIds);
        Assert.Empty(r.RetiredIds);
        Assert.Equal(1.0, r.KeptFraction);
        for (int l = 0; l < k; l++) Assert.Equal(20 + l, r.FinalId(perm[l]));
        var mapped = r.Apply(newLabels);
        Assert.Equal(n - 3, mapped.Zip(oldLabels).Count(p => p.First == p.Second));
        Assert.Equal((n - 3) / (double)n, r.MatchRate(new Labeling(ids, oldLabels), new Labeling(ids, newLabels)), 15);
        Assert.All(r.Matches, m => Assert.True(m.Kept && m.Score > 0.95 && m.Distance is null));
    }

    [Fact]
    public void TheThresholdDecidesWhichMatchesKeepTheirIdAndFreshIdsAreTheSmallestFree()
    {
        var r = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.6 });
        // Hungarian pairs 0-5, 1-6, 2-7 (total 2/3 + 1/3 + 1/2); only 2/3 clears 0.6.
        Assert.Equal([(5, 0, true), (6, 1, false), (7, 2, false)], r.Matches.Select(m => (m.NewLabel, m.OldId, m.Kept)));
        Assert.Equal(2.0 / 3.0, r.Matches[0].Score, 15);
        Assert.Equal(0, r.FinalId(5));
        Assert.Equal([3, 4], r.CreatedIds);        // 0, 1, 2 are old IDs: never reused the same day
        Assert.Equal(3, r.FinalId(6));
        Assert.Equal(4, r.FinalId(7));
        Assert.Equal([0], r.KeptIds);
        Assert.Equal([1, 2], r.RetiredIds);
        Assert.Equal([0, 1, 2], r.OldIds);
        Assert.Equal(4, r.HighWaterMark);
        Assert.Equal([0, 0, 0, 3, 3, -1, 4, 0, 4], r.Apply(NewLabels));
        // Items shared and clustered yesterday: 2, 3, 4, 5, 7, 8; only 2 and 3 still carry yesterday's ID.
        Assert.Equal(2.0 / 6.0, r.MatchRate(Yesterday, Today), 15);

        // Strictly above: a Jaccard of exactly 0.5 does not clear 0.5.
        var half = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.5 });
        Assert.Equal([0], half.KeptIds);
        var low = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.3 });
        Assert.Equal([0, 1, 2], low.KeptIds);
        Assert.Empty(low.CreatedIds);
        Assert.Equal(4.0 / 6.0, low.MatchRate(Yesterday, Today), 15); // 2, 3, 5, 8
    }

    [Fact]
    public void NeverReuseIssuesIdsAboveThePersistedHighWaterMarkAndChainsAcrossDays()
    {
        var o = new RemappingOptions { OverlapThreshold = 0.6, Policy = IdReusePolicy.NeverReuse, HighWaterMark = 9 };
        var day1 = LabelRemapper.ByOverlap(Yesterday, Today, o);
        Assert.Equal([10, 11], day1.CreatedIds);
        Assert.Equal(11, day1.HighWaterMark);
        var allocator = day1.ToAllocator();
        Assert.Equal([0, 10, 11], allocator.LiveIds.Order());

        // Day 2: today's clustering splits everything into fresh clusters that share nothing with day 1's.
        var day2Items = NewItems;
        var day1Final = day1.Apply(NewLabels);
        var day2Labels = day2Items.Select((_, i) => i).ToArray();   // every item alone
        var day2 = LabelRemapper.ByOverlap(new Labeling(day2Items, day1Final), new Labeling(day2Items, day2Labels),
            o with { HighWaterMark = day1.HighWaterMark });
        Assert.All(day2.CreatedIds, id => Assert.True(id > 11));
        Assert.Equal([0, 10, 11], day2.RetiredIds);
    }

    [Fact]
    public void ByCentroidsMatchesMovedCentresAndGivesAFarOneAFreshId()
    {
        var rng = new Random(5);
        int k = 6, d = 16;
        var old = EmbeddingMatrix.Zeros(k, d);
        for (int i = 0; i < old.Data.Length; i++) old.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        var oldIds = new[] { 3, 8, 1, 0, 5, 2 };
        // Today: old rows 0..4 slightly moved, in reverse order (old row 5 vanished), plus one unrelated centre.
        var rows = new List<float[]>();
        for (int i = 4; i >= 0; i--) rows.Add(old.Row(i).ToArray().Select(x => x + 0.01f * (float)(rng.NextDouble() - 0.5)).ToArray());
        rows.Add(Enumerable.Range(0, d).Select(_ => 5f).ToArray());
        var now = EmbeddingMatrix.FromRows(rows);
        var newLabels = new[] { 0, 1, 2, 3, 4, 5 };

        foreach (var metric in new[] { DistanceMetric.Euclidean, DistanceMetric.Cosine })
        {
            var r = LabelRemapper.ByCentroids(C(old, oldIds), C(now, newLabels), new RemappingOptions { Metric = metric });
            Assert.Equal(RemappingMeasure.Centroids, r.Measure);
            for (int j = 0; j < 5; j++) Assert.Equal(oldIds[4 - j], r.FinalId(j));
            Assert.Equal([4], r.CreatedIds);           // smallest ID that is not one of 0,1,2,3,5,8
            Assert.Equal(4, r.FinalId(5));
            Assert.Equal([2], r.RetiredIds);           // old row 5 (ID 2) is gone
            var farMatch = r.Matches.Single(m => m.NewLabel == 5);
            Assert.False(farMatch.Kept);
            Assert.Equal(2, farMatch.OldId);           // the assignment paired it with the leftover old centre...
            Assert.True(farMatch.Score <= 0.95);       // ...but the similarity rejected the pair
            Assert.NotNull(farMatch.Distance);
        }
    }

    [Fact]
    public void BadInputGetsAClearErrorAndNeverAnEmptyMapping()
    {
        var noise = Assert.Throws<ArgumentException>(() =>
            LabelRemapper.ByOverlap(Yesterday, new Labeling(NewItems, NewLabels.Select(_ => -1).ToArray())));
        Assert.Contains("today holds no cluster", noise.Message);
        Assert.Equal("today", noise.ParamName);
        Assert.Contains("yesterday holds no cluster", Assert.Throws<ArgumentException>(() =>
            LabelRemapper.ByOverlap(new Labeling(OldItems, OldLabels.Select(_ => -1).ToArray()), Today)).Message);
        Assert.Contains("share no item", Assert.Throws<ArgumentException>(() =>
            LabelRemapper.ByOverlap(new Labeling([1L, 2], [0, 1]), new Labeling([3L, 4], [0, 1]))).Message);
        Assert.Throws<ArgumentNullException>(() => LabelRemapper.ByOverlap(null!, Today));

        var a = EmbeddingMatrix.FromRows([[1f, 2f]]);
        var b = EmbeddingMatrix.FromRows([[1f, 2f, 3f]]);
        var euclidean = new RemappingOptions { Metric = DistanceMetric.Euclidean };
        Assert.Contains("dimension 3 but yesterday's have 2", Assert.Throws<ArgumentException>(() => LabelRemapper.ByCentroids(C(a, [0]), C(b, [0]), euclidean)).Message);
        var nan = EmbeddingMatrix.FromRows([[1f, float.NaN]]);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => LabelRemapper.ByCentroids(C(a, [0]), C(nan, [0]), euclidean)).Message);

        // A hand-built distance table with NaN reaches the assignment solver, which names the entry.
        var bad = new CentroidDistances([0, 1], [0, 1], DistanceMetric.Euclidean, [0.1, double.NaN, 0.3, 0.4], [0.9, 0.5, 0.7, 0.6]);
        var nanCost = Assert.Throws<ArgumentException>(() => LabelRemapper.ByCentroids(bad));
        Assert.Contains("NaN at row 0, column 1", nanCost.Message);
        Assert.Contains("need 4 of each", Assert.Throws<ArgumentException>(() =>
            LabelRemapper.ByCentroids(bad with { Similarities = [1.0] })).Message);

        var r = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.95 });
        var unknown = Assert.Throws<ArgumentException>(() => r.Apply([5, 6, 99]));
        Assert.Contains("todaysLabels[2] = 99", unknown.Message);
        Assert.Throws<ArgumentException>(() => r.Apply([-2]));
        Assert.Equal(-1, r.FinalId(-1));
    }

    [Fact]
    public void NoTwoLiveClustersShareAnIdKeptIdsAreOldAndCreatedIdsAreNot()
    {
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Double[0, 1], Gen.Bool, Gen.Bool).Sample((seed, threshold, never, byCentroids) =>
        {
            var rng = new Random(seed);
            var oldIdPool = Enumerable.Range(0, 40).OrderBy(_ => rng.Next()).Take(rng.Next(1, 12)).ToArray();
            int hwm = never ? rng.Next(-1, 60) : -1;
            var options = new RemappingOptions
            {
                OverlapThreshold = threshold,
                CentroidThreshold = threshold,
                Policy = never ? IdReusePolicy.NeverReuse : IdReusePolicy.SmallestFree,
                HighWaterMark = hwm,
                Metric = rng.Next(2) == 0 ? DistanceMetric.Euclidean : DistanceMetric.Cosine,
            };
            RemappingResult r;
            int[] oldIds;
            int[] newClusters;
            if (byCentroids)
            {
                oldIds = oldIdPool;
                newClusters = Enumerable.Range(0, rng.Next(1, 12)).Select(x => x * 3 + 1).ToArray();
                var oc = EmbeddingMatrix.Zeros(oldIds.Length, 4);
                var nc = EmbeddingMatrix.Zeros(newClusters.Length, 4);
                for (int i = 0; i < oc.Data.Length; i++) oc.Data[i] = (float)rng.NextDouble() + 0.01f;
                for (int i = 0; i < nc.Data.Length; i++) nc.Data[i] = (float)rng.NextDouble() + 0.01f;
                r = LabelRemapper.ByCentroids(C(oc, oldIds), C(nc, newClusters), options);
            }
            else
            {
                int n = rng.Next(1, 80);
                var oldItems = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
                var oldLabels = oldItems.Select(_ => rng.NextDouble() < 0.1 ? -1 : oldIdPool[rng.Next(oldIdPool.Length)]).ToArray();
                var newItems = Enumerable.Range(n / 5, n).Select(i => (long)i).ToArray();
                var newLabels = newItems.Select(_ => rng.NextDouble() < 0.1 ? -1 : rng.Next(0, 12)).ToArray();
                oldIds = oldLabels.Where(l => l >= 0).Distinct().ToArray();
                newClusters = newLabels.Where(l => l >= 0).Distinct().ToArray();
                bool shared = oldItems.Intersect(newItems).Any();
                if (oldIds.Length == 0 || newClusters.Length == 0 || !shared)
                {
                    // Never an empty mapping: these inputs are rejected.
                    try { LabelRemapper.ByOverlap(new Labeling(oldItems, oldLabels), new Labeling(newItems, newLabels), options); return false; }
                    catch (ArgumentException) { return true; }
                }
                r = LabelRemapper.ByOverlap(new Labeling(oldItems, oldLabels), new Labeling(newItems, newLabels), options);
                if (!r.Apply(newLabels).Zip(newLabels).All(p => (p.First == -1) == (p.Second == -1))) return false;
            }
            var finals = r.FinalIdByLabel.Values.ToArray();
            var old = oldIds.ToHashSet();
            if (finals.Distinct().Count() != finals.Length) return false;                        // no shared ID
            if (!r.FinalIdByLabel.Keys.Order().SequenceEqual(newClusters.Order())) return false;   // every cluster mapped
            if (!r.KeptIds.All(old.Contains)) return false;                                        // kept IDs were old
            if (r.CreatedIds.Any(old.Contains)) return false;                                      // created IDs are not
            if (!r.KeptIds.Concat(r.CreatedIds).Order().SequenceEqual(finals.Order())) return false;
            if (!r.RetiredIds.SequenceEqual(old.Except(r.KeptIds).Order())) return false;
            if (r.Matches.Any(m => m.Kept != (m.Score > threshold))) return false;
            if (r.Matches.Count != Math.Min(oldIds.Length, newClusters.Length)) return false;
            int floor = never ? Math.Max(hwm, oldIds.Max()) : -1;
            if (never && r.CreatedIds.Any(id => id <= floor)) return false;
            if (!never)
            {
                var smallest = Enumerable.Range(0, 200).Where(id => !old.Contains(id)).Take(r.CreatedIds.Length);
                if (!r.CreatedIds.SequenceEqual(smallest)) return false;                           // the article's rule
            }
            return true;
        }, iter: 400);
    }
}

public sealed class RemappingOptionsTests
{
    [Fact]
    public void EachMeasureHasItsOwnThresholdAndTheDefaultMetricIsCosine()
    {
        var o = new RemappingOptions();
        Assert.Equal(0.5, o.OverlapThreshold);
        Assert.Equal(0.95, o.CentroidThreshold);
        Assert.Equal(DistanceMetric.Cosine, o.Metric);
        Assert.Equal(0.5, o.ThresholdFor(RemappingMeasure.Overlap));
        Assert.Equal(0.95, o.ThresholdFor(RemappingMeasure.Centroids));
        // The hand case of LabelRemapperTests: pairs score 2/3, 1/3 and 1/2 by Jaccard; the overlap threshold alone decides.
        var r = LabelRemapper.ByOverlap(new Labeling([1L, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 1, 1, -1, 2, 2]),
            new Labeling([2L, 3, 4, 5, 6, 7, 8, 9, 10], [5, 5, 5, 6, 6, -1, 7, 5, 7]), new RemappingOptions { CentroidThreshold = 0.99 });
        Assert.Equal(0.5, r.Threshold);
        Assert.Equal([0], r.KeptIds);   // 2/3 > 0.5; 1/2 is not strictly above
    }

    [Fact]
    public void ValidateNamesTheProperty()
    {
        foreach (var (options, name) in new (RemappingOptions, string)[]
                 {
                     (new() { OverlapThreshold = double.NaN }, "OverlapThreshold"),
                     (new() { OverlapThreshold = 1.5 }, "OverlapThreshold"),
                     (new() { CentroidThreshold = -0.1 }, "CentroidThreshold"),
                     (new() { HighWaterMark = -5 }, "HighWaterMark"),
                     (new() { Policy = (IdReusePolicy)9 }, "Policy"),
                     (new() { Metric = (DistanceMetric)9 }, "Metric"),
                 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
            Assert.Equal(name, e.ParamName);
            Assert.StartsWith(name + " must", e.Message);
        }
        new RemappingOptions().Validate();
    }
}
