using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Tests.Online;

/// <summary>Predict reads the tables, Assign commits: checked against brute force and against the tables' state.</summary>
public sealed class PredictTests
{
    [Fact]
    public void PredictOnTwoCentresIsTheHandComputedAnswerAndChangesNothing()
    {
        // ID 0 centred at (1, 0), ID 1 at (0.2, 0); eps = 1 (euclidean).
        var x = new EmbeddingMatrix([1, 0, 0.2f, 0], 2, 2);
        var t = ClusterTables.Initialise([1, 2], x, [0, 1], metric: DistanceMetric.Euclidean);
        var before = t.Clone();
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 1.0 });
        var near = a.Predict(10, [0.3f, 0]);                 // 0.1 from ID 1, 0.7 from ID 0
        Assert.Equal(new Assignment(10, 1, near.Distance, false, near.NearestDistance), near);
        Assert.Equal(0.1, near.Distance, 6);
        var far = a.Predict(11, [0f, 5f]);                   // ~5 from both: would open ID 2, the smallest free
        Assert.True(far.CreatedCluster);
        Assert.Equal(2, far.ClusterId);
        Assert.Equal(0.0, far.Distance);
        Assert.Equal(Math.Sqrt(0.04 + 25), far.NearestDistance, 6);
        Assert.True(t.SameStateAs(before));
        Assert.Equal(2, t.ItemCount);
        Assert.Equal([(double)0.2f, 0.0], t.Centre(1).ToArray());

        // Both items predicted against the same tables: the two that would open a cluster both show ID 2.
        var batch = a.PredictBatch([11, 12], new EmbeddingMatrix([0, 5, 0, -5], 2, 2));
        Assert.Equal([2, 2], batch.Select(r => r.ClusterId));
        Assert.True(t.SameStateAs(before));

        Assert.Equal(far, a.Assign(11, [0f, 5f]));            // the prediction was the answer
        Assert.Equal(3, a.Predict(12, [0f, -5f]).ClusterId);  // and now ID 2 is taken
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, false, 0.06)]
    [InlineData(DistanceMetric.Cosine, true, 0.06)]
    [InlineData(DistanceMetric.Euclidean, false, 1.6)]
    [InlineData(DistanceMetric.Euclidean, true, 1.6)]
    public void NearestCentroidPredictMatchesTheNaiveLoopAndLeavesTheTablesAlone(DistanceMetric metric, bool firstWithinEps, double eps)
    {
        var x = OnlineTestData.Clumps(900, 24, 10, 0.2, seed: 17);
        var init = OnlineTestData.Rows(x, 0, 300);
        var (labels, core) = DbscanOracle.FitCoreRows(init, eps, 3, metric);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, core, metric);
        var reference = new OnlineTestData.ReferenceLoop(init, t.ItemClusterIds.ToArray(), metric, eps, firstWithinEps);
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps, FirstWithinEps = firstWithinEps });
        // Some history first, so centres have moved and streamed items have opened clusters.
        a.AssignBatch(OnlineTestData.Ids(300, 300), OnlineTestData.Rows(x, 300, 300));
        for (int i = 300; i < 600; i++) reference.Assign(x.Row(i).ToArray());

        var before = t.Clone();
        var ids = OnlineTestData.Ids(600, 300);
        var rows = OnlineTestData.Rows(x, 600, 300);
        var batch = a.PredictBatch(ids, rows);
        Assert.True(t.SameStateAs(before));
        int created = 0;
        for (int i = 0; i < 300; i++)
        {
            var (id, isNew) = reference.Predict(rows.Row(i).ToArray());
            Assert.Equal(ids[i], batch[i].ItemId);
            Assert.Equal(id, batch[i].ClusterId);
            Assert.Equal(isNew, batch[i].CreatedCluster);
            if (isNew) created++;
        }
        Assert.InRange(created, 10, 290); // both kinds of answer occur

        // Batch predict == one predict per row; each of them, then assigned, is what Assign returns.
        var one = Enumerable.Range(0, 300).Select(i => a.Predict(ids[i], rows.Row(i))).ToList();
        Assert.Equal(one, batch);
        Assert.True(t.SameStateAs(before));
        for (int i = 0; i < 40; i++)
        {
            var p = a.Predict(ids[i], rows.Row(i));
            Assert.Equal(p, a.Assign(ids[i], rows.Row(i)));
        }
        Assert.Equal(640, t.ItemCount); // 300 initial + 300 streamed + 40 assigned
    }

    [Fact]
    public void CorePointPredictIsTheNearestCorePointWithinEpsAndChangesNothing()
    {
        var (x, init, labels, core, t, a) = OnlineTestData.CorePointSetup();
        const double eps = OnlineTestData.CoreEps;
        var before = t.Clone();
        var ids = OnlineTestData.Ids(300, 200);
        var rows = OnlineTestData.Rows(x, 300, 200);
        var batch = a.PredictBatch(ids, rows);
        Assert.True(t.SameStateAs(before));
        int fresh = Enumerable.Range(0, int.MaxValue).First(id => !t.ClusterIds.Contains(id)); // smallest free ID
        for (int i = 0; i < 200; i++)
        {
            var xi = rows.Row(i).ToArray();
            double bestD = double.PositiveInfinity;
            int best = -1;
            foreach (int c in core)
            {
                double dist = Distances.Between(DistanceMetric.Cosine, xi, init.Row(c));
                if (dist < bestD) { bestD = dist; best = c; }
            }
            Assert.Equal(bestD, batch[i].NearestDistance, 9);
            Assert.Equal(bestD > eps, batch[i].CreatedCluster);
            Assert.Equal(bestD <= eps ? labels[best] : fresh, batch[i].ClusterId);
        }
        Assert.Contains(batch, r => r.CreatedCluster);
        Assert.Contains(batch, r => !r.CreatedCluster);

        var one = Enumerable.Range(0, 200).Select(i => a.Predict(ids[i], rows.Row(i))).ToList();
        Assert.Equal(one, batch);
        for (int i = 0; i < 50; i++)
            Assert.Equal(a.Predict(ids[i], rows.Row(i)), a.Assign(ids[i], rows.Row(i)));
        Assert.Equal(350, t.ItemCount);
    }

    [Fact]
    public void BadPredictInputThrowsLikeAssign()
    {
        var x = new EmbeddingMatrix([1, 0, 0, 1], 2, 2);
        var t = ClusterTables.Initialise([1, 2], x, [0, 0]);
        var before = t.Clone();
        foreach (IOnlineAssigner a in new IOnlineAssigner[] { new NearestCentroidAssigner(t, new()), new CorePointAssigner(t, new()) })
        {
            Assert.Contains("already in the label table", Assert.Throws<ArgumentException>(() => a.Predict(1, [1f, 1f])).Message);
            Assert.Contains("dimension 3", Assert.Throws<ArgumentException>(() => a.Predict(5, [1f, 1f, 1f])).Message);
            Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => a.PredictBatch([5, 5], x)).Message);
        }
        Assert.True(t.SameStateAs(before));
    }
}
