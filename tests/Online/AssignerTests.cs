using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Tests.Online;

public sealed class AssignerTests
{
    [Fact]
    public void NearestWinsOverFirstInTableOrder()
    {
        // Two clusters: ID 0 centred at (1, 0), ID 1 at (0.2, 0). The item (0.3, 0) is within eps = 1 of both.
        var x = new EmbeddingMatrix([1, 0, 0.2f, 0], 2, 2);
        ClusterTables Fresh() => ClusterTables.Initialise([1, 2], x, [0, 1], metric: DistanceMetric.Euclidean);
        var nearest = new NearestCentroidAssigner(Fresh(), new NearestCentroidOptions { Eps = 1.0 }).Assign(10, [0.3f, 0]);
        var first = new NearestCentroidAssigner(Fresh(), new NearestCentroidOptions { Eps = 1.0, FirstWithinEps = true }).Assign(10, [0.3f, 0]);
        Assert.Equal(1, nearest.ClusterId);
        Assert.Equal(0.1, nearest.Distance, 6);
        Assert.Equal(0, first.ClusterId);   // the article's loop takes the first centre within eps
        Assert.Equal(0.7, first.Distance, 6);
        Assert.Equal(0.1, first.NearestDistance, 6); // the evidence still names the nearest distance
    }

    [Fact]
    public void CentreMovesByRunningMeanAndNewClusterTakesTheItemAsCentre()
    {
        var x = new EmbeddingMatrix([0, 0, 2, 0], 2, 2);
        var t = ClusterTables.Initialise([1, 2], x, [0, 0], metric: DistanceMetric.Euclidean);
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 1.5 });
        var r = a.Assign(3, [1, 3]);          // centre (1, 0) is 3 away: new cluster
        Assert.True(r.CreatedCluster);
        Assert.Equal(1, r.ClusterId);
        Assert.Equal(3.0, r.NearestDistance, 12);
        Assert.Equal([1.0, 3.0], t.Centre(1).ToArray());
        var j = a.Assign(4, [1, 1]);          // 1 from centre 0 and 2 from centre 1
        Assert.Equal(0, j.ClusterId);
        Assert.False(j.CreatedCluster);
        Assert.Equal(1.0, j.Distance, 12);
        Assert.Equal([1.0, 1.0 / 3], t.Centre(0).ToArray()); // (0+2+1)/3, (0+0+1)/3
        Assert.Equal(3, t.MemberCount(0));
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, false)]
    [InlineData(DistanceMetric.Cosine, true)]
    [InlineData(DistanceMetric.Euclidean, false)]
    [InlineData(DistanceMetric.Euclidean, true)]
    public void NearestCentroidMatchesTheNaiveLoop(DistanceMetric metric, bool firstWithinEps)
    {
        var x = OnlineTestData.Clumps(700, 24, 10, 0.2, seed: 11);
        double eps = metric == DistanceMetric.Cosine ? 0.06 : 1.6;
        var (labels, core) = DbscanOracle.FitCoreRows(OnlineTestData.Rows(x, 0, 300), eps, 3, metric);
        var init = OnlineTestData.Rows(x, 0, 300);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, core, metric);
        var reference = new OnlineTestData.ReferenceLoop(init, t.ItemClusterIds.ToArray(), metric, eps, firstWithinEps);
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps, FirstWithinEps = firstWithinEps });
        var got = a.AssignBatch(OnlineTestData.Ids(300, 400), OnlineTestData.Rows(x, 300, 400));
        int created = 0;
        for (int i = 0; i < 400; i++)
        {
            var (id, isNew) = reference.Assign(x.Row(300 + i).ToArray());
            Assert.Equal(id, got[i].ClusterId);
            Assert.Equal(isNew, got[i].CreatedCluster);
            if (isNew) created++;
        }
        Assert.InRange(created, 20, 380); // both kinds of answer occur
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, false, 0.06)]
    [InlineData(DistanceMetric.Cosine, true, 0.06)]
    [InlineData(DistanceMetric.Euclidean, false, 1.6)]
    public void BatchEqualsOneAtATime(DistanceMetric metric, bool firstWithinEps, double eps)
    {
        // 600 streamed items, so batches span several chunks and items join clusters opened earlier in the batch.
        var x = OnlineTestData.Clumps(800, 24, 10, 0.2, seed: 5);
        var rng = new Random(6);
        for (int i = 200; i + 3 < 800; i += 20)
        {
            // A fresh direction, and a near copy of it three items later (joins the cluster the first one opened).
            for (int k = 0; k < 24; k++) x.Data[i * 24 + k] = (float)OnlineTestData.Gauss(rng);
            for (int k = 0; k < 24; k++) x.Data[(i + 3) * 24 + k] = x.Data[i * 24 + k] + (float)(0.01 * OnlineTestData.Gauss(rng));
        }
        var (labels, core) = DbscanOracle.FitCoreRows(OnlineTestData.Rows(x, 0, 200), eps, 3, metric);
        var t0 = ClusterTables.Initialise(OnlineTestData.Ids(0, 200), OnlineTestData.Rows(x, 0, 200), labels, core, metric);
        var ids = OnlineTestData.Ids(200, 600);
        var rows = OnlineTestData.Rows(x, 200, 600);
        var opts = new NearestCentroidOptions { Eps = eps, FirstWithinEps = firstWithinEps };

        var single = t0.Clone();
        var a = new NearestCentroidAssigner(single, opts);
        var one = Enumerable.Range(0, 600).Select(i => a.Assign(ids[i], rows.Row(i))).ToList();

        var batched = t0.Clone();
        var all = new NearestCentroidAssigner(batched, opts).AssignBatch(ids, rows);
        // With exact nearest distances, every field is the same; by default an opened cluster's is a bound within (eps, exact].
        var exactOpts = opts with { ExactNearestDistance = true };
        var exactOne = new NearestCentroidAssigner(t0.Clone(), exactOpts);
        var exact = Enumerable.Range(0, 600).Select(i => exactOne.Assign(ids[i], rows.Row(i))).ToList();
        Assert.Equal(exact, new NearestCentroidAssigner(t0.Clone(), exactOpts).AssignBatch(ids, rows));
        OnlineTestData.AssertOpenerBounds(one, exact, eps);
        OnlineTestData.AssertOpenerBounds(all, exact, eps);
        Assert.True(single.SameStateAs(batched));

        var mixed = t0.Clone();
        var b = new NearestCentroidAssigner(mixed, opts);
        var parts = new List<Assignment>();
        foreach (var (from, len) in new[] { (0, 7), (7, 1), (8, 300), (308, 292) })
            parts.AddRange(b.AssignBatch(ids[from..(from + len)], OnlineTestData.Rows(rows, from, len)));
        OnlineTestData.AssertOpenerBounds(parts, exact, eps);
        Assert.True(single.SameStateAs(mixed));

        // Items joining clusters opened inside the same batch really happen here.
        var openedInBatch = all.Where(r => r.CreatedCluster).Select(r => r.ClusterId).ToHashSet();
        Assert.Contains(all, r => !r.CreatedCluster && openedInBatch.Contains(r.ClusterId));
    }

    [Fact]
    public void CorePointFollowsDbscansRuleAndNewItemsDoNotBecomeCore()
    {
        var (x, init, labels, core, t, a) = OnlineTestData.CorePointSetup();
        const double eps = OnlineTestData.CoreEps;
        Assert.Equal(core.Length, a.CorePointCount);
        var got = a.AssignBatch(OnlineTestData.Ids(300, 200), OnlineTestData.Rows(x, 300, 200));
        for (int i = 0; i < 200; i++)
        {
            var xi = x.Row(300 + i).ToArray();
            // Brute force: nearest core point within eps decides.
            int best = -1;
            double bestD = double.PositiveInfinity;
            foreach (int c in core)
            {
                double dist = Distances.Between(DistanceMetric.Cosine, xi, init.Row(c));
                if (dist < bestD) { bestD = dist; best = c; }
            }
            if (bestD <= eps)
            {
                Assert.False(got[i].CreatedCluster);
                Assert.Equal(labels[best], got[i].ClusterId);
                Assert.Equal(bestD, got[i].Distance, 9);
            }
            else
            {
                Assert.True(got[i].CreatedCluster);
                Assert.False(t.ItemClusterIds[..300].Contains(got[i].ClusterId));
            }
        }

        // A copy of a new noise item is not joined to it: new items never become core points.
        var noise = got.First(r => r.CreatedCluster);
        int row = 300 + Array.IndexOf(got.ToArray(), noise);
        var twin = a.Assign(10_000, x.Row(row));
        Assert.True(twin.CreatedCluster);
        Assert.NotEqual(noise.ClusterId, twin.ClusterId);

        // Single == batch for the CorePoint assigner too.
        var t2 = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, core);
        var b = new CorePointAssigner(t2, new CorePointOptions { Eps = eps });
        var one = Enumerable.Range(0, 200).Select(i => b.Assign(300 + i, x.Row(300 + i))).ToList();
        Assert.Equal(got, one);
    }

    [Fact]
    public void EmptyIndexAnswersWithFreshIdsAndInfiniteEvidence()
    {
        // No core points at all: every item is noise with its own fresh ID, and the evidence says "nothing".
        var x = new EmbeddingMatrix([1, 0, 0, 1], 2, 2);
        var t = ClusterTables.Initialise([1, 2], x, [-1, -1]);
        var r = new CorePointAssigner(t, new CorePointOptions { Eps = 0.5 }).Assign(3, [1, 0]);
        Assert.True(r.CreatedCluster);
        Assert.Equal(2, r.ClusterId);
        Assert.True(double.IsPositiveInfinity(r.NearestDistance));
    }
}
