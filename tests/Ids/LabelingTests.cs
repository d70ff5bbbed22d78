using LabelAssignment.Ids;
using LabelAssignment.Metrics;
using LabelAssignment.Remapping;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Ids;

public sealed class LabelingTests
{
    [Fact]
    public void HoldsACopyOfItsItemsAndLabels()
    {
        long[] ids = [10_000_000_000, 7, 3];
        int[] labels = [4, -1, 4];
        var l = new Labeling(ids, labels);
        ids[0] = 1;
        labels[0] = 9;
        Assert.Equal([10_000_000_000L, 7, 3], l.ItemIds.ToArray());
        Assert.Equal([4, -1, 4], l.Labels.ToArray());
        Assert.Equal(3, l.Count);
        Assert.Equal([4], l.ClusterIds.ToArray());   // noise is no cluster
        Assert.True(l.TryGetLabel(7, out int seven));
        Assert.Equal(-1, seven);
        Assert.False(l.TryGetLabel(8, out _));
    }

    [Fact]
    public void BadInputIsNamedInOnePlace()
    {
        var e = Assert.Throws<ArgumentException>(() => new Labeling([], []));
        Assert.Equal("itemIds", e.ParamName);
        Assert.Contains("itemIds is empty", e.Message);

        e = Assert.Throws<ArgumentException>(() => new Labeling([1L, 2, 3], [0, 0]));
        Assert.Equal("labels", e.ParamName);
        Assert.Contains("labels has 2 entries but itemIds has 3", e.Message);

        e = Assert.Throws<ArgumentException>(() => new Labeling([5L, 8, 5, 9], [0, 1, 1, 2]));
        Assert.Equal("itemIds", e.ParamName);
        Assert.Contains("item id 5 twice (at index 0 and 2)", e.Message);

        var r = Assert.Throws<ArgumentOutOfRangeException>(() => new Labeling([1L, 2, 3], [0, -1, -2]));
        Assert.Equal("labels", r.ParamName);
        Assert.Contains("labels[2] = -2", r.Message);
    }

    [Fact]
    public void JoinKeepsTheSharedItemsInTodaysOrderWithBothLabels()
    {
        var yesterday = new Labeling([1L, 2, 3, 4], [0, 0, 1, -1]);
        var today = new Labeling([4L, 9, 2, 1], [7, 7, -1, 5]);   // item 3 gone, item 9 new
        var j = Labeling.Join(yesterday, today);
        Assert.Equal(3, j.Count);
        Assert.Equal([4L, 2, 1], j.ItemIds.ToArray());
        Assert.Equal([-1, 0, 0], j.YesterdayLabels.ToArray());
        Assert.Equal([7, -1, 5], j.TodayLabels.ToArray());
        Assert.Same(yesterday, j.Yesterday);
        Assert.Equal(0, Labeling.Join(yesterday, new Labeling([100L], [0])).Count);
    }
}

/// <summary>The one match-rate definition, on hand-computed cases with noise on either day.</summary>
public sealed class MatchRateTests
{
    // Yesterday items 1..6, today items 2..7 (item 1 gone, item 7 new). On the shared items 2..6:
    //   item 2: 0 -> 0    a cluster kept             match
    //   item 3: -1 -> 0   noise yesterday            left out (no ID to keep)
    //   item 4: 1 -> -1   noise today                miss
    //   item 5: 1 -> 1                               match
    //   item 6: -1 -> -1  noise on both days         left out (the old ClusteringMetrics.MatchRate counted it a match)
    // so 2 matches of 3 items clustered yesterday: 2/3.
    static readonly Labeling Yesterday = new([1L, 2, 3, 4, 5, 6], [0, 0, -1, 1, 1, -1]);
    static readonly Labeling Today = new([2L, 3, 4, 5, 6, 7], [0, 0, -1, 1, -1, 1]);

    [Fact]
    public void NoiseYesterdayIsLeftOutAndNoiseTodayIsAMiss()
    {
        Assert.Equal(2.0 / 3.0, ClusteringMetrics.MatchRate(Labeling.Join(Yesterday, Today)), 15);
        // The same items as plain label arrays (shared items 2..6, yesterday first).
        Assert.Equal(2.0 / 3.0, ClusteringMetrics.MatchRate([0, -1, 1, 1, -1], [0, 0, -1, 1, -1]), 15);
        Assert.Equal(2.0 / 3.0, ClusteringMetrics.Compare([0, -1, 1, 1, -1], [0, 0, -1, 1, -1]).MatchRate, 15);
    }

    [Fact]
    public void TheRemapAndTheEvaluationUseTheSameDefinition()
    {
        // Jaccard over the shared items: old 0 = {2}, new 0 = {2, 3}: 1/2; old 1 = {4, 5}, new 1 = {5}: 1/2. Both clear
        // 0.4, so every ID is kept and the final IDs equal today's labels: the match rate after is 2/3 as before.
        var r = LabelRemapper.ByOverlap(Yesterday, Today, new RemappingOptions { OverlapThreshold = 0.4 });
        Assert.Equal([0, 1], r.KeptIds);
        Assert.Equal(2.0 / 3.0, r.MatchRate(Yesterday, Today), 15);
        var e = RemapEvaluation.Evaluate("noise", Yesterday, Today, r);
        Assert.Equal(5, e.SharedItems);
        Assert.Equal(2.0 / 3.0, e.MatchRateBefore, 15);
        Assert.Equal(2.0 / 3.0, e.MatchRateAfter, 15);
        var sweep = RemapEvaluation.SweepThresholds(Yesterday, Today, r, [0.4, 0.5]);
        Assert.Equal(2.0 / 3.0, sweep[0].MatchRate, 15);
        Assert.Equal(0.0, sweep[1].MatchRate);   // 1/2 is not above 0.5: both clusters get fresh IDs
    }

    [Fact]
    public void UndefinedWhenNoSharedItemWasInAClusterYesterday()
    {
        var allNoise = new Labeling([2L, 3], [-1, -1]);
        var e = Assert.Throws<ArgumentException>(() => ClusteringMetrics.MatchRate(Labeling.Join(allNoise, Today)));
        Assert.Contains("no item was in a cluster yesterday", e.Message);
        Assert.Contains("share no item", Assert.Throws<ArgumentException>(() =>
            ClusteringMetrics.MatchRate(Labeling.Join(Yesterday, new Labeling([99L], [0])))).Message);
        Assert.True(double.IsNaN(ClusteringMetrics.Compare([-1, -1], [0, 1]).MatchRate));
        // Every item noise today: all misses.
        Assert.Equal(0.0, ClusteringMetrics.MatchRate([0, 1], [-1, -1]));
    }
}
