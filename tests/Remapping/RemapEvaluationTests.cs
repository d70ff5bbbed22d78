using LabelAssignment.Ids;
using LabelAssignment.Metrics;
using LabelAssignment.Numerics;
using LabelAssignment.Remapping;
using LabelAssignment.Clustering;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Remapping;

public sealed class RemapEvaluationTests
{
    // Yesterday: items 0..5 in clusters {0,1,2} and {3,4,5}. Today item 0 is gone, item 6 is new; today's clusters
    // are 5 = {1,2,3} and 7 = {4,5,6}. On the shared items 1..5: old {1,2} / {3,4,5}, new {1,2,3} / {4,5}, so
    // Jaccard(0,5) = 2/3, (1,7) = 2/3, (1,5) = 1/4, (0,7) = 0; the optimal matching is 0-5, 1-7.
    static readonly long[] OldItems = [0, 1, 2, 3, 4, 5];
    static readonly int[] OldIds = [0, 0, 0, 1, 1, 1];
    static readonly long[] NewItems = [1, 2, 3, 4, 5, 6];
    static readonly int[] NewLabels = [5, 5, 5, 7, 7, 7];
    static readonly Labeling Yesterday = new(OldItems, OldIds);
    static readonly Labeling Today = new(NewItems, NewLabels);

    static long[] Ids(int start, int count) => Enumerable.Range(start, count).Select(i => (long)i).ToArray();

    [Fact]
    public void Evaluate_reports_the_hand_computed_case()
    {
        var r = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.5 });
        var e = RemapEvaluation.Evaluate("hand", Yesterday, Today, r);
        Assert.Equal("hand", e.Experiment);
        Assert.Equal(RemappingMeasure.Overlap, e.Measure);
        Assert.Equal(5, e.SharedItems);
        // scikit-learn 1.2.1: adjusted_rand_score([0,0,1,1,1],[5,5,5,7,7]) = 0.16666666666666666,
        // adjusted_mutual_info_score(same) = 0.2512669357444351.
        Assert.Equal(0.16666666666666666, e.AdjustedRandIndex, 12);
        Assert.Equal(0.2512669357444351, e.AdjustedMutualInformation, 12);
        Assert.Equal(0.0, e.MatchRateBefore);        // raw labels 5 and 7 are no old ID
        Assert.Equal(0.8, e.MatchRateAfter, 15);     // items 1, 2, 4, 5 keep their ID; item 3 moved
        Assert.Equal(0.8, e.MatchRateAllKept, 15);
        Assert.Equal((2, 2, 2, 0, 0), (e.YesterdayClusters, e.TodayClusters, e.Kept, e.Created, e.Retired));
        Assert.Equal(2.0 / 3, e.ScoreMin, 15);
        Assert.Equal(2.0 / 3, e.ScoreMedian, 15);
        Assert.Equal(2.0 / 3, e.ScoreMax, 15);

        // Above every score: nothing kept, two fresh IDs (2 and 3, no old one), both old IDs retired.
        var strict = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.7 });
        var s = RemapEvaluation.Evaluate("strict", Yesterday, Today, strict);
        Assert.Equal((0, 2, 2), (s.Kept, s.Created, s.Retired));
        Assert.Equal(0.0, s.MatchRateAfter);
        Assert.Equal(0.8, s.MatchRateAllKept, 15);
    }

    [Fact]
    public void Match_rate_before_counts_raw_labels_that_happen_to_equal_old_ids()
    {
        // Today's raw labels 0 and 1 happen to be yesterday's IDs for items 1, 2 (label 0) and 4, 5 (label 1).
        int[] newLabels = [0, 0, 0, 1, 1, 1];
        var today = new Labeling(NewItems, newLabels);
        var r = LabelRemapper.ByOverlap(Yesterday, today, new RemappingOptions { OverlapThreshold = 0.5 });
        var e = RemapEvaluation.Evaluate("raw", Yesterday, today, r);
        Assert.Equal(0.8, e.MatchRateBefore, 15);
        Assert.Equal(0.8, e.MatchRateAfter, 15);
    }

    [Fact]
    public void Sweep_equals_remapping_again_at_each_threshold()
    {
        var thresholds = RemapEvaluation.Grid(20);
        for (int seed = 0; seed < 25; seed++)
        {
            var rng = new Random(seed);
            int n = rng.Next(20, 200), kOld = rng.Next(1, 9), kNew = rng.Next(1, 9);
            var oldItems = Ids(0, n);
            var oldIds = oldItems.Select(_ => rng.Next(kOld) * 3).ToArray();   // IDs 0, 3, 6, ...: gaps leave room for fresh IDs
            var newItems = Ids(n / 10, n);                                     // 10% gone, as many new
            var newLabels = newItems.Select(i => i < n && rng.NextDouble() < 0.7 ? oldIds[i] / 3 : rng.Next(kNew)).ToArray();
            var (yesterday, today) = (new Labeling(oldItems, oldIds), new Labeling(newItems, newLabels));
            var result = LabelRemapper.ByOverlap(yesterday, today, new RemappingOptions { OverlapThreshold = 0.95 });
            var sweep = RemapEvaluation.SweepThresholds(yesterday, today, result, thresholds);
            for (int t = 0; t < thresholds.Length; t++)
            {
                var again = LabelRemapper.ByOverlap(yesterday, today, new RemappingOptions { OverlapThreshold = thresholds[t] });
                Assert.Equal(again.KeptIds.Length, sweep[t].Kept);
                Assert.Equal(again.CreatedIds.Length, sweep[t].Created);
                Assert.Equal(again.RetiredIds.Length, sweep[t].Retired);
                Assert.Equal(again.KeptFraction, sweep[t].KeptFraction, 15);
                Assert.Equal(again.MatchRate(yesterday, today), sweep[t].MatchRate, 15);
            }

            // Centroids too: the score is the centre similarity.
            int d = 4;
            var oldC = new EmbeddingMatrix(Enumerable.Range(0, kOld * d).Select(_ => (float)rng.NextDouble()).ToArray(), kOld, d);
            var newC = new EmbeddingMatrix(Enumerable.Range(0, kNew * d).Select(_ => (float)rng.NextDouble()).ToArray(), kNew, d);
            var oldCentreIds = Enumerable.Range(0, kOld).Select(i => i * 3).ToArray();
            var newCentreLabels = Enumerable.Range(0, kNew).ToArray();
            var labelsForCentres = newItems.Select(_ => rng.Next(kNew)).ToArray();
            var idsForCentres = oldItems.Select(_ => rng.Next(kOld) * 3).ToArray();
            var (oldCentres, newCentres) = (new ClusterCentres(oldC, oldCentreIds), new ClusterCentres(newC, newCentreLabels));
            var (yc, tc) = (new Labeling(oldItems, idsForCentres), new Labeling(newItems, labelsForCentres));
            var euclidean = new RemappingOptions { Metric = DistanceMetric.Euclidean };
            var byC = LabelRemapper.ByCentroids(oldCentres, newCentres, euclidean);
            var sweepC = RemapEvaluation.SweepThresholds(yc, tc, byC, thresholds);
            for (int t = 0; t < thresholds.Length; t++)
            {
                var again = LabelRemapper.ByCentroids(oldCentres, newCentres, euclidean with { CentroidThreshold = thresholds[t] });
                Assert.Equal(again.KeptIds.Length, sweepC[t].Kept);
                Assert.Equal(again.MatchRate(yc, tc), sweepC[t].MatchRate, 15);
            }
        }
    }

    [Fact]
    public void Ari_and_ami_are_those_of_the_shared_items()
    {
        var rng = new Random(3);
        var oldItems = Ids(0, 300);
        var oldIds = oldItems.Select(_ => rng.Next(5)).ToArray();
        var newItems = Ids(100, 300);
        var newLabels = newItems.Select(_ => rng.Next(6)).ToArray();
        var (yesterday, today) = (new Labeling(oldItems, oldIds), new Labeling(newItems, newLabels));
        var r = LabelRemapper.ByOverlap(yesterday, today, new RemappingOptions { OverlapThreshold = 0.95 });
        var e = RemapEvaluation.Evaluate("x", yesterday, today, r);
        var a = oldIds[100..];
        var b = newLabels[..200];
        Assert.Equal(200, e.SharedItems);
        Assert.Equal(ClusteringMetrics.AdjustedRandIndex(a, b), e.AdjustedRandIndex);
        Assert.Equal(ClusteringMetrics.AdjustedMutualInformation(a, b), e.AdjustedMutualInformation);
    }

    [Fact]
    public void Bad_input_is_named()
    {
        var r = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.95 });
        var elsewhere = new Labeling([10L, 11, 12, 13, 14, 15], NewLabels);
        var e = Assert.Throws<ArgumentException>(() => RemapEvaluation.Evaluate("x", Yesterday, elsewhere, r));
        Assert.Contains("share no item", e.Message);
        Assert.Equal("today", e.ParamName);
        Assert.Contains("cluster yesterday", Assert.Throws<ArgumentException>(() =>
            RemapEvaluation.Evaluate("x", new Labeling(OldItems, [-1, -1, -1, -1, -1, -1]), Today, r)).Message);
        Assert.Equal("thresholds", Assert.Throws<ArgumentOutOfRangeException>(() => RemapEvaluation.SweepThresholds(Yesterday, Today, r, [0.5, 1.5])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => RemapEvaluation.Grid(0));
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], RemapEvaluation.Grid(4));
    }
}

public sealed class ItemChurnTests
{
    [Fact]
    public void Ten_percent_gone_and_ten_percent_new()
    {
        var d = ItemChurn.Split(1100, 0.1, 0.1, 7);
        Assert.Equal(1000, d.Yesterday.Length);
        Assert.Equal(100, d.Gone.Length);
        Assert.Equal(100, d.Added.Length);
        Assert.Equal(1000, d.Today.Length);
        Assert.Empty(d.Gone.Except(d.Yesterday));
        Assert.Empty(d.Added.Intersect(d.Yesterday));
        Assert.Equal(d.Yesterday.Except(d.Gone).Concat(d.Added).Order(), d.Today);
        Assert.Equal(Enumerable.Range(0, 1100), d.Yesterday.Concat(d.Added).Order());
        foreach (var a in new[] { d.Yesterday, d.Today, d.Gone, d.Added }) Assert.Equal(a.Order(), a);
    }

    [Fact]
    public void Same_seed_same_split_another_seed_another()
    {
        var a = ItemChurn.Split(500, 0.2, 0.05, 1);
        var b = ItemChurn.Split(500, 0.2, 0.05, 1);
        var c = ItemChurn.Split(500, 0.2, 0.05, 2);
        Assert.Equal(a.Today, b.Today);
        Assert.NotEqual(a.Today, c.Today);
        Assert.Equal(476, a.Yesterday.Length);    // round(500 / 1.05)
        Assert.Equal(95, a.Gone.Length);          // round(0.2 * 476)
        Assert.Equal(24, a.Added.Length);
        // No churn: both days hold the whole pool.
        var none = ItemChurn.Split(10, 0, 0, 3);
        Assert.Equal(Enumerable.Range(0, 10), none.Yesterday);
        Assert.Equal(Enumerable.Range(0, 10), none.Today);
    }

    [Fact]
    public void Sample_is_a_seeded_subset()
    {
        var s = ItemChurn.Sample(100, 30, 5);
        Assert.Equal(30, s.Distinct().Count());
        Assert.All(s, i => Assert.InRange(i, 0, 99));
        Assert.Equal(s, ItemChurn.Sample(100, 30, 5));
        Assert.Equal(Enumerable.Range(0, 100), ItemChurn.Sample(100, 100, 9).Order());
    }

    [Fact]
    public void Bad_input_is_named()
    {
        Assert.Equal("poolSize", Assert.Throws<ArgumentOutOfRangeException>(() => ItemChurn.Split(1, 0.1, 0.1, 0)).ParamName);
        Assert.Equal("goneFraction", Assert.Throws<ArgumentOutOfRangeException>(() => ItemChurn.Split(10, 1.0, 0.1, 0)).ParamName);
        Assert.Equal("goneFraction", Assert.Throws<ArgumentOutOfRangeException>(() => ItemChurn.Split(10, double.NaN, 0.1, 0)).ParamName);
        Assert.Equal("newFraction", Assert.Throws<ArgumentOutOfRangeException>(() => ItemChurn.Split(10, 0.1, -0.1, 0)).ParamName);
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => ItemChurn.Sample(10, 11, 0)).ParamName);
    }
}

public sealed class RemapConclusionTests
{
    static RemapReport Report(string e, RemappingMeasure m, double ari, double before, double after, int kept = 10, int today = 10,
        double allKept = double.NaN) =>
        new(e, m, 0.5, 100, ari, ari, before, after, 10, today, kept, today - kept, 10 - kept, 0.2, 0.6, 0.9,
            double.IsNaN(allKept) ? after : allKept);

    [Fact]
    public void States_the_values_and_only_the_comparisons_they_decide()
    {
        var text = RemapConclusion.Write(
        [
            Report("A", RemappingMeasure.Overlap, 0.95, 0.05, 0.90),
            Report("A", RemappingMeasure.Centroids, 0.95, 0.05, 0.80, kept: 8),
            Report("B", RemappingMeasure.Overlap, 0.40, 0.10, 0.10, kept: 3, allKept: 0.30),
            Report("B", RemappingMeasure.Centroids, 0.40, 0.10, 0.102, kept: 3),
        ]);
        Assert.Contains("**A** (100 items on both days): the two clusterings agree almost completely (ARI 0.950", text);
        Assert.Contains("after remapping, 90.0% by sample overlap and 80.0% by centroid distance", text);
        Assert.Contains("Both remappings raised the match rate.", text);
        Assert.Contains("Sample overlap kept 10.0 percentage points more items on their ID.", text);
        Assert.Contains("Sample overlap kept 10 of 10 IDs, created 0 and retired 0; centroid distance kept 8 of 10 IDs, created 2 and retired 2.", text);
        Assert.Contains("agree only in part (ARI 0.400", text);
        Assert.Contains("Remapping by sample overlap and by centroid distance did not raise the match rate.", text);
        Assert.Contains("  - Match rate: today's raw KMeans labels equal yesterday's ID for 5.0% of the items;", text);
        Assert.Contains("  - Scores: Matched pairs scored 0.200 to 0.900 (median 0.600) by Jaccard overlap against the threshold 0.5;", text);
        Assert.Contains("The two measures kept about the same share of items.", text);
        Assert.Contains("Had every matched pair kept its ID (threshold 0), the match rate would have been 30.0% by sample overlap:", text);
        Assert.Contains("**B** against **A**: the match rate after remapping was by sample overlap 10.0%, lower than 90.0%; by centroid distance 10.2%, lower than 80.0%.", text);
        // The "had every pair" sentence appears once (only where a threshold cost something), and B's block, where
        // neither measure beat its before value (0.10 and 0.102 against 0.10, within the half-point tie), never says raised.
        Assert.Equal(1, text.Split("Had every matched pair").Length - 1);
        string blockB = text[text.IndexOf("- **B** (", StringComparison.Ordinal)..text.IndexOf("- **B** against", StringComparison.Ordinal)];
        Assert.Contains("did not raise the match rate", blockB);
        Assert.DoesNotContain("raised", blockB);
        Assert.Equal(1, text.Split("raised the match rate").Length - 1);   // A's sentence only
    }

    [Fact]
    public void Agreement_levels_and_a_single_measure()
    {
        Assert.Contains("agree largely", RemapConclusion.Write([Report("x", RemappingMeasure.Overlap, 0.7, 0, 0.5)]));
        Assert.Contains("agree little", RemapConclusion.Write([Report("x", RemappingMeasure.Overlap, 0.1, 0, 0.5)]));
        var one = RemapConclusion.Write([Report("x", RemappingMeasure.Centroids, 0.1, 0, 1.0)]);
        Assert.Contains("Remapping raised the match rate.", one);
        Assert.DoesNotContain("The other", one);   // every item kept its ID
        Assert.Throws<ArgumentException>(() => RemapConclusion.Write([]));
        // After below before: says it was lowered, and why, never that it was raised.
        var lower = RemapConclusion.Write([Report("x", RemappingMeasure.Overlap, 0.2, 0.08, 0.07, kept: 2)]);
        Assert.Contains("Remapping by sample overlap lowered it: raw labels equal old IDs by chance", lower);
        Assert.DoesNotContain("raised the match rate", lower);
    }
}
