using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using Microsoft.Data.Analysis;
using Microsoft.ML.Data;
using LabelAssignment.IO;
using LabelAssignment.Ids;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

public sealed class ClusterTablesTests
{
    // Five 2-D items: clusters 0 = {row 0, row 3}, 1 = {row 2}; rows 1 and 4 are noise.
    private static readonly EmbeddingMatrix Five = new([1, 0, 5, 5, 0, 1, 3, 0, -1, -2], 5, 2);
    private static readonly long[] FiveIds = [100, 101, 102, 103, 104];
    private static readonly int[] FiveLabels = [0, -1, 1, 0, -1];

    [Fact]
    public void NoiseGetsFreshIdsAndCentresAreMemberMeans()
    {
        var t = ClusterTables.Initialise(FiveIds, Five, FiveLabels, [0, 3], DistanceMetric.Euclidean);
        // Smallest free IDs in row order, as the article's generator: 2 for row 1, 3 for row 4.
        Assert.Equal([0, 2, 1, 0, 3], t.ItemClusterIds.ToArray());
        Assert.Equal([0, 1, 2, 3], t.ClusterIds.ToArray()); // centre table in ID order
        Assert.Equal([2.0, 0.0], t.Centre(0).ToArray());    // mean of (1,0) and (3,0)
        Assert.Equal([5.0, 5.0], t.Centre(2).ToArray());
        Assert.Equal(2, t.MemberCount(0));
        Assert.Equal(1, t.MemberCount(3));
        Assert.Equal(3, t.HighWaterMark);
        Assert.Equal([0, 3], t.CoreRows.ToArray());
    }

    [Fact]
    public void NeverReuseAllocatesAboveTheLabels()
    {
        var t = ClusterTables.Initialise(FiveIds, Five, [4, -1, 1, 4, -1], metric: DistanceMetric.Euclidean, idPolicy: IdReusePolicy.NeverReuse);
        Assert.Equal([4, 5, 1, 4, 6], t.ItemClusterIds.ToArray());
        var s = ClusterTables.Initialise(FiveIds, Five, [4, -1, 1, 4, -1], metric: DistanceMetric.Euclidean);
        Assert.Equal([4, 0, 1, 4, 2], s.ItemClusterIds.ToArray());
    }

    [Fact]
    public void DataFramesHaveTheArticlesColumnsAndFollowChanges()
    {
        var t = ClusterTables.Initialise(FiveIds, Five, FiveLabels, metric: DistanceMetric.Euclidean);
        var labels = t.LabelTable();
        Assert.Equal(["item_id", "embeddings", "cluster_id"], labels.Columns.Select(c => c.Name));
        Assert.Equal(5, labels.Rows.Count);
        Assert.Equal(104L, labels["item_id"][4]);
        Assert.Equal(3, labels["cluster_id"][4]);
        var e = (VBuffer<float>)labels["embeddings"][2]!;
        Assert.Equal([0f, 1f], e.DenseValues());
        var centres = t.CentreTable();
        Assert.Equal(["cluster_id", "cluster_center"], centres.Columns.Select(c => c.Name));
        Assert.Equal(4, centres.Rows.Count);
        Assert.Equal([2.0, 0.0], ((VBuffer<double>)centres["cluster_center"][0]!).DenseValues());

        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 1.5 });
        a.Assign(105, [2.5f, 0f]); // joins cluster 0: centre (1+3+2.5)/3
        var after = t.CentreTable();
        Assert.Equal(2.0, ((VBuffer<double>)centres["cluster_center"][0]!).DenseValues().First()); // a view taken before does not change
        Assert.Equal(6, t.LabelTable().Rows.Count);
        Assert.Equal(6.5 / 3, ((VBuffer<double>)after["cluster_center"][0]!).DenseValues().First(), 12);
    }

    [Fact]
    public void SaveAndLoadGiveTheSameStateAndTheSameNextAnswers()
    {
        var x = OnlineTestData.Clumps(400, 12, 6, 0.15, seed: 3);
        var (labels, core) = DbscanOracle.FitCoreRows(OnlineTestData.Rows(x, 0, 250), 0.05, 3, DistanceMetric.Cosine);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 250), OnlineTestData.Rows(x, 0, 250), labels, core);
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 });
        a.AssignBatch(OnlineTestData.Ids(250, 50), OnlineTestData.Rows(x, 250, 50));
        string folder = Path.Combine(Path.GetTempPath(), $"tables-{Guid.NewGuid():N}");
        try
        {
            var store = new ClusterTablesStore(folder);
            Assert.False(store.Exists);
            store.Save(t);
            store.Save(t); // a second save replaces the first generation but keeps it for readers until the next save
            store.Save(t); // ... which removes it
            Assert.Equal(2 * 8 + 2, Directory.GetFiles(folder).Length); // two generations, tables.json, tables.lock
            var u = store.Load();
            Assert.True(u.SameStateAs(t));

            // Assign after reload == assign without reload, for both assigners.
            var u2 = u.Clone();
            var t2 = t.Clone();
            var ids = OnlineTestData.Ids(300, 100);
            var rows = OnlineTestData.Rows(x, 300, 100);
            var r1 = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 }).AssignBatch(ids, rows);
            var r2 = new NearestCentroidAssigner(u, new NearestCentroidOptions { Eps = 0.05 }).AssignBatch(ids, rows);
            Assert.Equal(r1, r2);
            Assert.True(t.SameStateAs(u));
            var c1 = new CorePointAssigner(t2, new CorePointOptions { Eps = 0.05 }).AssignBatch(ids, rows);
            var c2 = new CorePointAssigner(u2, new CorePointOptions { Eps = 0.05 }).AssignBatch(ids, rows);
            Assert.Equal(c1, c2);
            Assert.True(t2.SameStateAs(u2));
            Assert.Contains(r1, r => r.CreatedCluster);
            Assert.Contains(r1, r => !r.CreatedCluster);
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void TablesSavedBeforeTheStoreExistedStillLoad()
    {
        // Saved by ClusterTables.Save at commit 0f4bb5b (Fixtures/Online/make_tables_v1.cs.txt): the five items above,
        // then item 105 at (2.5, 0) joined cluster 0 and item 106 at (9, 9) opened cluster 4 (eps 1.5, euclidean).
        string fixture = Path.Combine(TestPaths.Fixtures, "Online", "tables-v1");
        var t = new ClusterTablesStore(fixture).Load();
        Assert.Equal(DistanceMetric.Euclidean, t.Metric);
        Assert.Equal([100L, 101, 102, 103, 104, 105, 106], t.ItemIds.ToArray());
        Assert.Equal([0, 2, 1, 0, 3, 0, 4], t.ItemClusterIds.ToArray());
        Assert.Equal([0, 1, 2, 3, 4], t.ClusterIds.ToArray());
        Assert.Equal([6.5 / 3, 0.0], t.Centre(0).ToArray());   // mean of (1,0), (3,0), (2.5,0)
        Assert.Equal([9.0, 9.0], t.Centre(4).ToArray());
        Assert.Equal(3, t.MemberCount(0));
        Assert.Equal([0, 3], t.CoreRows.ToArray());
        Assert.Equal(4, t.HighWaterMark);
        Assert.Equal([9f, 9f], t.ItemEmbedding(6).ToArray());

        // Written again by the store, it is the same files (names, and the manifest's fields plus the checksums of
        // format 2) and the same state.
        string folder = Path.Combine(Path.GetTempPath(), $"tables-{Guid.NewGuid():N}");
        try
        {
            var store = new ClusterTablesStore(folder);
            store.Save(t);
            static string Part(string file) => Path.GetFileName(file).Split('.')[0] + Path.GetExtension(file);
            Assert.Equal(Directory.GetFiles(fixture).Select(Part).Order(),
                Directory.GetFiles(folder).Where(f => Path.GetFileName(f) != "tables.lock").Select(Part).Order());
            static string[] Keys(string manifest) =>
                [.. System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.EnumerateObject().Select(p => p.Name)];
            Assert.Equal([.. Keys(Path.Combine(fixture, "tables.json")), "Checksums"], Keys(Path.Combine(folder, "tables.json")));
            Assert.Equal(2, System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "tables.json"))).RootElement.GetProperty("FormatVersion").GetInt32());
            foreach (string part in new[] { "item_ids", "embeddings", "cluster_ids", "centre_ids", "centres", "counts", "core_rows" })
                Assert.Equal(File.ReadAllBytes(Directory.GetFiles(fixture, $"{part}.*").Single()),
                    File.ReadAllBytes(Directory.GetFiles(folder, $"{part}.*").Single()));
            Assert.True(store.Load().SameStateAs(t));
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void CorruptSavedStateIsReportedWithTheFileName()
    {
        var t = ClusterTables.Initialise(FiveIds, Five, FiveLabels, metric: DistanceMetric.Euclidean);
        string folder = Path.Combine(Path.GetTempPath(), $"tables-{Guid.NewGuid():N}");
        try
        {
            var store = new ClusterTablesStore(folder);
            store.Save(t);
            string counts = Directory.GetFiles(folder, "counts.*.npy").Single();
            LabelAssignment.IO.Npy.Write(counts, new long[] { 2, 1 }); // 2 counts for 4 clusters
            var e = Assert.Throws<InvalidDataException>(() => store.Load());
            Assert.Contains(counts, e.Message);
            File.WriteAllText(Path.Combine(folder, "tables.json"), "{ not json");
            Assert.Contains("tables.json", Assert.Throws<InvalidDataException>(() => store.Load()).Message);
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void UnknownItemsAndClustersAreErrorsNotPlausibleIds()
    {
        var t = ClusterTables.Initialise(FiveIds, Five, FiveLabels, metric: DistanceMetric.Euclidean);
        Assert.Throws<KeyNotFoundException>(() => t.ClusterOf(999));
        Assert.Throws<KeyNotFoundException>(() => t.MemberCount(42));
        Assert.Equal(2, t.ClusterOf(101));
    }
}
