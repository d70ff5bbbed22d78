using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Online;

public sealed class BadInputTests
{
    private static (ClusterTables Tables, EmbeddingMatrix X) Setup()
    {
        var x = OnlineTestData.Clumps(120, 6, 4, 0.1, seed: 2);
        var init = OnlineTestData.Rows(x, 0, 80);
        var (labels, core) = DbscanOracle.FitCoreRows(init, 0.05, 3, DistanceMetric.Cosine);
        return (ClusterTables.Initialise(OnlineTestData.Ids(0, 80), init, labels, core), x);
    }

    public static TheoryData<string> BatchCases() =>
        ["nan", "infinity", "zero", "dimension", "duplicate-in-batch", "duplicate-in-table", "empty", "count-mismatch"];

    [Theory]
    [MemberData(nameof(BatchCases))]
    public void BadBatchThrowsAndLeavesTheTablesExactlyAsTheyWere(string kind)
    {
        foreach (bool core in new[] { false, true })
        {
            var (t, x) = Setup();
            IOnlineAssigner a = core ? new CorePointAssigner(t, new CorePointOptions { Eps = 0.05 }) : new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 });
            a.AssignBatch(OnlineTestData.Ids(80, 10), OnlineTestData.Rows(x, 80, 10)); // some online history first
            var before = t.Clone();
            var rows = OnlineTestData.Rows(x, 90, 20);
            long[] ids = OnlineTestData.Ids(90, 20);
            string expect;
            switch (kind)
            {
                case "nan": rows.Data[19 * 6 + 2] = float.NaN; expect = "NaN"; break; // the last row: valid rows come first
                case "infinity": rows.Data[15 * 6] = float.PositiveInfinity; expect = "row 15"; break;
                case "zero": rows.Row(12).Clear(); expect = "zero vector"; break;
                case "dimension": rows = EmbeddingMatrix.Zeros(20, 7); expect = "dimension 7"; break;
                case "duplicate-in-batch": ids[17] = ids[3]; expect = $"item_id {ids[3]} appears twice"; break;
                case "duplicate-in-table": ids[18] = 5; expect = "item_id 5"; break;
                case "empty": rows = EmbeddingMatrix.Zeros(0, 6); ids = []; expect = "empty"; break;
                default: ids = ids[..19]; expect = "19 entries"; break;
            }
            var e = Assert.ThrowsAny<ArgumentException>(() => a.AssignBatch(ids, rows));
            Assert.Contains(expect, e.Message);
            Assert.True(t.SameStateAs(before), $"{kind} changed the tables");
        }
    }

    [Fact]
    public void BadSingleItemThrowsAndChangesNothing()
    {
        var (t, x) = Setup();
        var before = t.Clone();
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 });
        Assert.Contains("dimension 5", Assert.Throws<ArgumentException>(() => a.Assign(500, new float[5])).Message);
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => a.Assign(500, new float[6])).Message);
        Assert.Contains("already in the label table", Assert.Throws<ArgumentException>(() => a.Assign(3, x.Row(100))).Message);
        Assert.True(t.SameStateAs(before));
    }

    [Fact]
    public void CancelledBatchStopsBeforeChangingAnything()
    {
        var (t, x) = Setup();
        var before = t.Clone();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var a = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 });
        Assert.ThrowsAny<OperationCanceledException>(() => a.AssignBatch(OnlineTestData.Ids(80, 20), OnlineTestData.Rows(x, 80, 20), null, cts.Token));
        Assert.True(t.SameStateAs(before));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(2.5)]
    public void BadEpsIsRejected(double eps)
    {
        var (t, _) = Setup();
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps }));
        Assert.Equal("Eps", e1.ParamName);
        Assert.Contains("Eps=", e1.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new CorePointAssigner(t, new CorePointOptions { Eps = eps }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            OnlineDiagnostics.Centres(t.ItemEmbeddings(), t.ItemClusterIds.ToArray(), [], eps));
    }

    [Fact]
    public void OptionsHaveDefaultsAndValidateNamingTheProperty()
    {
        // scikit-learn's DBSCAN defaults (eps=0.5, min_samples=5) and the library's default metric.
        var d = new LabelAssignment.Clustering.DbscanOptions();
        Assert.Equal((0.5, 5, DistanceMetric.Cosine), (d.Eps, d.MinSamples, d.Metric));
        Assert.Equal(0.5, new NearestCentroidOptions().Eps);
        Assert.False(new NearestCentroidOptions().FirstWithinEps);
        Assert.Equal(0.5, new CorePointOptions().Eps);
        new NearestCentroidOptions { Eps = 3 }.Validate();   // > 2 is fine until a cosine table is given
        foreach (var bad in new Action[] { () => new NearestCentroidOptions { Eps = -1 }.Validate(), () => new CorePointOptions { Eps = double.NaN }.Validate(),
                     () => new LabelAssignment.Clustering.DbscanOptions { Eps = 0 }.Validate() })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(bad);
            Assert.Equal("Eps", e.ParamName);
            Assert.Contains("Eps=", e.Message);
        }
        var m = Assert.Throws<ArgumentOutOfRangeException>(() => new LabelAssignment.Clustering.DbscanOptions { MinSamples = 0 }.Validate());
        Assert.Equal("MinSamples", m.ParamName);
        var (t, _) = Setup(); // cosine tables
        Assert.Contains("<= 2 for cosine", Assert.Throws<ArgumentOutOfRangeException>(() => new CorePointAssigner(t, new CorePointOptions { Eps = 3 })).Message);
    }

    [Fact]
    public void BadInitialisationIsRejected()
    {
        var x = new EmbeddingMatrix([1, 0, 0, 1, 1, 1], 3, 2);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([1, 2, 1], x, [0, 0, -1])).Message);
        Assert.Contains("labels[2] = -2", Assert.Throws<ArgumentOutOfRangeException>(() => ClusterTables.Initialise([1, 2, 3], x, [0, 0, -2])).Message);
        Assert.Contains("2 entries", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([1, 2, 3], x, [0, 0])).Message);
        Assert.Contains("label -1", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([1, 2, 3], x, [0, 0, -1], [2])).Message);
        var zero = new EmbeddingMatrix([1, 0, 0, 0], 2, 2);
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([1, 2], zero, [0, 0])).Message);
        // Under euclidean a zero vector is an ordinary point.
        Assert.Equal(2, ClusterTables.Initialise([1, 2], zero, [0, 0], metric: DistanceMetric.Euclidean).ItemCount);
        var nan = new EmbeddingMatrix([1, float.NaN], 1, 2);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([1], nan, [0])).Message);
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => ClusterTables.Initialise([], EmbeddingMatrix.Zeros(0, 2), [])).Message);
    }
}
