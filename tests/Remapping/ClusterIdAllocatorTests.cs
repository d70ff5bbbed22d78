using CsCheck;
using LabelAssignment.Ids;

namespace LabelAssignment.Tests.Remapping;

public sealed class ClusterIdAllocatorTests
{
    [Fact]
    public void SmallestFreeFillsGapsInOrder()
    {
        var a = new ClusterIdAllocator([0, 1, 3, 7]);
        Assert.Equal([2, 4, 5, 6, 8], Enumerable.Range(0, 5).Select(_ => a.Allocate()));
        a.Retire(1);
        Assert.Equal(1, a.Allocate()); // the article's rule: reuse the smallest free ID
    }

    [Fact]
    public void NeverReuseStaysAboveEveryIdEverSeen()
    {
        var a = new ClusterIdAllocator([0, 5], IdReusePolicy.NeverReuse, highWaterMark: 9);
        Assert.Equal(10, a.Allocate());
        a.Retire(10);
        a.Retire(0);
        Assert.Equal(11, a.Allocate());
    }

    [Fact]
    public void SaveAndLoadKeepTheHighWaterMark()
    {
        string path = Path.Combine(Path.GetTempPath(), $"alloc-{Guid.NewGuid():N}.json");
        try
        {
            var a = new ClusterIdAllocator([2, 4], IdReusePolicy.NeverReuse);
            a.Allocate();
            a.Retire(5);
            a.Save(path);
            var b = ClusterIdAllocator.Load(path);
            Assert.Equal(5, b.HighWaterMark);
            Assert.Equal([2, 4], b.LiveIds.Order());
            Assert.Equal(6, b.Allocate());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void BadInputIsRejected()
    {
        Assert.Contains("-1", Assert.Throws<ArgumentOutOfRangeException>(() => new ClusterIdAllocator([3, -1])).Message);
        var a = new ClusterIdAllocator([1]);
        Assert.Contains("not live", Assert.Throws<ArgumentException>(() => a.Retire(2)).Message);
        Assert.Contains("already live", Assert.Throws<ArgumentException>(() => a.Claim(1)).Message);
        string path = Path.Combine(Path.GetTempPath(), $"alloc-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\"Policy\":\"Sometimes\",\"HighWaterMark\":1,\"LiveIds\":[1]}");
        try { Assert.Contains(path, Assert.Throws<InvalidDataException>(() => ClusterIdAllocator.Load(path)).Message); }
        finally { File.Delete(path); }
    }

    [Fact]
    public void NoTwoLiveClustersEverShareAnId()
    {
        // Any sequence of allocate/retire steps, under either policy: issued IDs are never live already,
        // and under NeverReuse never issued before.
        var ops = Gen.Int[0, 2].Array[1, 200];
        Gen.Select(Gen.Int[0, 30].Array[0, 20], ops, Gen.Bool).Sample((initial, steps, never) =>
        {
            var policy = never ? IdReusePolicy.NeverReuse : IdReusePolicy.SmallestFree;
            var a = new ClusterIdAllocator(initial, policy);
            var live = initial.ToHashSet();
            var everIssued = new HashSet<int>(initial);
            foreach (int op in steps)
            {
                if (op < 2 || live.Count == 0)
                {
                    int id = a.Allocate();
                    if (!live.Add(id)) return false;
                    if (never && !everIssued.Add(id)) return false;
                    everIssued.Add(id);
                    if (!never && Enumerable.Range(0, id).Any(i => !live.Contains(i) && i != id)) return false; // smallest free
                }
                else
                {
                    int victim = live.OrderBy(v => v).ElementAt(steps.Length % live.Count);
                    a.Retire(victim);
                    live.Remove(victim);
                }
            }
            return live.SetEquals(a.LiveIds);
        }, iter: 300);
    }
}
