using LabelAssignment.Ids;
using LabelAssignment.Remapping;

namespace LabelAssignment.Tests.Remapping;

public sealed class ClusterOverlapTests
{
    // Yesterday items 1..8, today items 2..10: item 1 is gone, items 9 and 10 are new; item 6 was noise yesterday,
    // item 7 is noise today.
    private static readonly long[] OldItems = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly int[] OldLabels = [0, 0, 0, 1, 1, -1, 2, 2];
    private static readonly long[] NewItems = [2, 3, 4, 5, 6, 7, 8, 9, 10];
    private static readonly int[] NewLabels = [5, 5, 5, 6, 6, -1, 7, 5, 7];

    [Fact]
    public void CountsOnlyTheItemsBothDaysShare()
    {
        var o = ClusterOverlap.Compute(new Labeling(OldItems, OldLabels), new Labeling(NewItems, NewLabels));
        Assert.Equal([0, 1, 2], o.OldClusterIds);
        Assert.Equal([5, 6, 7], o.NewClusterIds);
        Assert.Equal(7, o.SharedItems);               // items 2..8
        // By hand: old 0 = {2,3} (item 1 gone), old 1 = {4,5}, old 2 = {7,8} (7 is noise today but was in 2).
        Assert.Equal([2, 2, 2], o.OldSizes);
        // new 5 = {2,3,4} (9 is new), new 6 = {5,6} (6 was noise yesterday but is in 6 today), new 7 = {8} (10 is new).
        Assert.Equal([3, 2, 1], o.NewSizes);
        Assert.Equal(4, o.Entries.Length);            // sparse: only pairs that share an item
        Assert.Equal(2, o.Intersection(0, 5));
        Assert.Equal(2.0 / 3.0, o.Jaccard(0, 5), 15); // 2 / (2 + 3 - 2)
        Assert.Equal(1.0 / 4.0, o.Jaccard(1, 5), 15); // 1 / (2 + 3 - 1)
        Assert.Equal(1.0 / 3.0, o.Jaccard(1, 6), 15); // 1 / (2 + 2 - 1)
        Assert.Equal(1.0 / 2.0, o.Jaccard(2, 7), 15); // 1 / (2 + 1 - 1)
        Assert.Equal(0.0, o.Jaccard(0, 6));
        Assert.Equal(0, o.Intersection(2, 5));
        var m = o.JaccardMatrix();
        Assert.Equal(2.0 / 3.0, m[0 * 3 + 0], 15);
        Assert.Equal(0.0, m[0 * 3 + 2]);
    }

    [Fact]
    public void AgreesWithSetArithmeticOnRandomDays()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 30; trial++)
        {
            int n = rng.Next(1, 300);
            var oldItems = Enumerable.Range(0, n).Select(i => (long)i * 7 + 1_000_000_000_000).ToArray();
            var oldLabels = oldItems.Select(_ => rng.Next(-1, 12)).ToArray();
            // Today: 10% gone, 10% new, labels mostly a relabelling of yesterday's with some moves.
            var newItems = oldItems.Where(_ => rng.NextDouble() > 0.1)
                .Concat(Enumerable.Range(0, n / 10).Select(i => (long)i * 7 + 3)).ToArray();
            rng.Shuffle(newItems);
            var byItem = oldItems.Zip(oldLabels).ToDictionary(p => p.First, p => p.Second);
            var newLabels = newItems.Select(id => byItem.TryGetValue(id, out int l) && l >= 0 && rng.NextDouble() < 0.8
                ? 100 + l * 3 : rng.Next(-1, 14)).ToArray();

            var o = ClusterOverlap.Compute(new Labeling(oldItems, oldLabels), new Labeling(newItems, newLabels));
            var shared = oldItems.Intersect(newItems).ToHashSet();
            var newByItem = newItems.Zip(newLabels).ToDictionary(p => p.First, p => p.Second);
            Assert.Equal(shared.Count, o.SharedItems);
            Assert.Equal(oldLabels.Where(l => l >= 0).Distinct().Order(), o.OldClusterIds);
            Assert.Equal(newLabels.Where(l => l >= 0).Distinct().Order(), o.NewClusterIds);
            int nonZero = 0;
            foreach (int a in o.OldClusterIds)
            foreach (int b in o.NewClusterIds)
            {
                var setA = shared.Where(id => byItem[id] == a).ToHashSet();
                var setB = shared.Where(id => newByItem[id] == b).ToHashSet();
                int inter = setA.Intersect(setB).Count(), union = setA.Union(setB).Count();
                Assert.Equal(inter, o.Intersection(a, b));
                Assert.Equal(union == 0 ? 0 : (double)inter / union, o.Jaccard(a, b), 15);
                if (inter > 0) nonZero++;
            }
            Assert.Equal(nonZero, o.Entries.Length);
        }
    }

    [Fact]
    public void BadInputGetsAClearError()
    {
        var o = ClusterOverlap.Compute(new Labeling(OldItems, OldLabels), new Labeling(NewItems, NewLabels));
        Assert.Contains("oldClusterId 42", Assert.Throws<ArgumentException>(() => o.Jaccard(42, 5)).Message);
        Assert.Contains("newClusterId 4", Assert.Throws<ArgumentException>(() => o.Intersection(0, 4)).Message);
        Assert.Throws<ArgumentNullException>(() => ClusterOverlap.Compute(null!, new Labeling(NewItems, NewLabels)));
    }
}
