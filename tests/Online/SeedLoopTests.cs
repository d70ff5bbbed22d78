using LabelAssignment.Online;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Online;

/// <summary>
/// Agreement with the article's own loop: Fixtures/Online/seed_loop_*.npy were written by
/// make_seed_loop_fixture.py, which runs anchor_bench.py's faithful re-run of the seed notebook's pandas loop
/// (DBSCAN eps=0.1, min_samples=3, cosine on 300 rows, then 200 rows streamed one by one).
/// </summary>
public sealed class SeedLoopTests
{
    private static string F(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Online", name);

    [Fact]
    public void FirstWithinEpsReproducesTheArticlesLoopAndNearestDiffers()
    {
        var x = Npy.ReadMatrix(F("seed_loop_X.npy"));
        int[] dbscan = Npy.ReadLabels(F("seed_loop_dbscan.npy"));
        int[] initIds = Npy.ReadLabels(F("seed_loop_init_ids.npy"));
        int[] streamIds = Npy.ReadLabels(F("seed_loop_stream_ids.npy"));
        int nInit = dbscan.Length, nStream = streamIds.Length;
        var init = OnlineTestData.Rows(x, 0, nInit);
        var stream = OnlineTestData.Rows(x, nInit, nStream);

        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, nInit), init, dbscan);
        Assert.Equal(initIds, t.ItemClusterIds.ToArray());
        var nearestTables = t.Clone();

        var first = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.1, FirstWithinEps = true })
            .AssignBatch(OnlineTestData.Ids(nInit, nStream), stream);
        Assert.Equal(streamIds, first.Select(r => r.ClusterId));

        // The nearest-centre rule answers differently for some items, on the same input.
        var nearest = new NearestCentroidAssigner(nearestTables, new NearestCentroidOptions { Eps = 0.1 })
            .AssignBatch(OnlineTestData.Ids(nInit, nStream), stream);
        int differ = first.Zip(nearest).Count(p => p.First.ClusterId != p.Second.ClusterId);
        Assert.True(differ > 0, "expected the two rules to disagree somewhere on this input");
        // Up to the first difference both saw the same tables, so there both joined, and nearest is closer.
        int k = Enumerable.Range(0, nStream).First(i => first[i].ClusterId != nearest[i].ClusterId);
        Assert.False(first[k].CreatedCluster);
        Assert.False(nearest[k].CreatedCluster);
        Assert.True(nearest[k].Distance < first[k].Distance);
        Assert.Equal(nearest[k].Distance, first[k].NearestDistance);
    }
}
