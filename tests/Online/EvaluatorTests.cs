using LabelAssignment.Tests.Oracles;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

public sealed class EvaluatorTests
{
    [Fact]
    public void EvaluateAgreesWithAHandAssembledRun()
    {
        var x = OnlineTestData.Clumps(600, 16, 8, 0.2, seed: 21);
        var options = new DbscanOptions { Eps = 0.06, MinSamples = 3, Metric = DistanceMetric.Cosine };
        var ev = OnlineEvaluator.Evaluate(x, 400, options);
        Assert.Equal(400, ev.InitItems);
        Assert.Equal(200, ev.NewItems);
        Assert.Equal(3, ev.Assigners.Count);

        // The same steps by hand, with the naive DBSCAN as the truth.
        var init = OnlineTestData.Rows(x, 0, 400);
        var (labels, core) = DbscanOracle.FitCoreRows(init, 0.06, 3, DistanceMetric.Cosine);
        var (all, _) = DbscanOracle.FitCoreRows(x, 0.06, 3, DistanceMetric.Cosine);
        Assert.Equal(labels.Max() + 1, ev.InitialClusters);
        Assert.Equal(all.Max() + 1, ev.RerunClusters);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 400), init, labels, core);
        Assert.Equal(t.ClusterCount, ev.CentresAtStart);
        var got = new CorePointAssigner(t, new CorePointOptions { Eps = 0.06 }).AssignBatch(OnlineTestData.Ids(400, 200), OnlineTestData.Rows(x, 400, 200));
        var expect = OnlineDiagnostics.Compare("CorePoint", 0.06, labels, all, got.Select(r => r.ClusterId).ToArray());
        Assert.Equal(expect, ev.Assigners[2]);
        foreach (var a in ev.Assigners)
        {
            Assert.Equal(a.NewItems, a.Same + a.Missed + a.MergedIntoOther + a.MergedWhenNew);
            Assert.InRange(a.SameShare, 0.5, 1.0);
        }
        // The core-point rule never merges a new item into an old cluster the re-run does not give it here:
        // a point within eps of an old core point is in that core point's cluster in the re-run too.
        Assert.Equal(0, ev.Assigners[2].MergedWhenNew);
        Assert.Equal(200, ev.Runs[2].Created + ev.Runs[2].Joined);
    }

    [Fact]
    public void EvaluatesTheCallersTablesIdsAndStreamedRun()
    {
        // The notebook's flow: its own item IDs (not row numbers), its tables, its streamed NearestCentroid run.
        var x = OnlineTestData.Clumps(600, 16, 8, 0.2, seed: 21);
        var options = new DbscanOptions { Eps = 0.06, MinSamples = 3 };
        var init = OnlineTestData.Rows(x, 0, 400);
        var fresh = OnlineTestData.Rows(x, 400, 200);
        long[] initIds = Enumerable.Range(0, 400).Select(i => 5_000_000L + 7 * i).ToArray();
        long[] newIds = Enumerable.Range(0, 200).Select(i => 9_000_000L - 3 * i).ToArray();
        var fit = Dbscan.Fit(init, options);
        var tables = ClusterTables.Initialise(initIds, init, fit, options);
        var initial = tables.Clone();
        var watched = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = 0.06 }).AssignBatch(newIds, fresh);

        var ev = OnlineEvaluator.Evaluate(initial, fit, options, newIds, fresh,
            [new StreamedRun(AssignerKind.NearestCentroid, tables, watched)]);
        Assert.True(initial.SameStateAs(ClusterTables.Initialise(initIds, init, fit, options))); // not changed by the evaluation
        Assert.True(double.IsNaN(ev.Run(AssignerKind.NearestCentroid).Seconds));                  // taken as given, not re-run
        Assert.Equal(watched.Count(r => r.CreatedCluster), ev.Run(AssignerKind.NearestCentroid).Created);
        Assert.Equal(tables.ClusterCount, ev.Run(AssignerKind.NearestCentroid).CentresAtEnd);

        // Against the naive DBSCAN as the truth, computed here from the rows.
        var (labels, _) = DbscanOracle.FitCoreRows(init, 0.06, 3, DistanceMetric.Cosine);
        var (all, _) = DbscanOracle.FitCoreRows(x, 0.06, 3, DistanceMetric.Cosine);
        Assert.Equal(OnlineDiagnostics.Compare("NearestCentroid", 0.06, labels, all, watched.Select(r => r.ClusterId).ToArray()),
            ev.Agreement(AssignerKind.NearestCentroid));
        Assert.Equal(all.Max() + 1, ev.RerunClusters);
        Assert.Equal(all.Count(l => l < 0), ev.RerunNoise);

        // Item IDs do not enter the decisions: the same figures as with row numbers as IDs.
        var byRow = OnlineEvaluator.Evaluate(x, 400, options);
        AssignerRun[] noRuns = [];
        AssignmentDiagnostics[] noDiags = [];
        CentreDiagnostics[] noCentres = [];
        OnlineEvaluation Scalars(OnlineEvaluation e) => e with { Runs = noRuns, Assigners = noDiags, InitialClusterCentres = noCentres };
        Assert.Equal(Scalars(byRow), Scalars(ev));
        Assert.Equal(byRow.Assigners, ev.Assigners);
        Assert.Equal(byRow.InitialClusterCentres, ev.InitialClusterCentres);
        Assert.Equal(byRow.Runs.Select(r => r with { Seconds = 0 }), ev.Runs.Select(r => r with { Seconds = 0 }));
        Assert.Equal(AssignerKinds.All, ev.Runs.Select(r => r.Assigner));

        // A given run is measured as given: a CorePoint run at a smaller eps changes the CorePoint row only.
        var other = initial.Clone();
        var tight = new CorePointAssigner(other, new CorePointOptions { Eps = 0.02 }).AssignBatch(newIds, fresh);
        var ev2 = OnlineEvaluator.Evaluate(initial, fit, options, newIds, fresh, [new StreamedRun(AssignerKind.CorePoint, other, tight, 1.5)]);
        Assert.Equal(tight.Count(r => r.CreatedCluster), ev2.Run(AssignerKind.CorePoint).Created);
        Assert.NotEqual(ev.Run(AssignerKind.CorePoint).Created, ev2.Run(AssignerKind.CorePoint).Created);
        Assert.Equal(1.5, ev2.Run(AssignerKind.CorePoint).Seconds);
        Assert.Equal(byRow.Agreement(AssignerKind.NearestCentroid), ev2.Agreement(AssignerKind.NearestCentroid));
    }

    [Fact]
    public void MismatchedTablesFitOrRunsAreRejected()
    {
        var x = OnlineTestData.Clumps(120, 8, 4, 0.2, seed: 4);
        var options = new DbscanOptions { Eps = 0.06, MinSamples = 3 };
        var init = OnlineTestData.Rows(x, 0, 80);
        var fresh = OnlineTestData.Rows(x, 80, 40);
        var ids = OnlineTestData.Ids(80, 40);
        var fit = Dbscan.Fit(init, options);
        var tables = ClusterTables.Initialise(OnlineTestData.Ids(0, 80), init, fit, options);
        var initial = tables.Clone();
        var run = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = 0.06 }).AssignBatch(ids, fresh);

        // The streamed tables passed as the initial ones.
        Assert.Equal("initialFit", Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(tables, fit, options, ids, fresh)).ParamName);
        // A run whose tables are not the ones it committed into.
        var e = Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(initial, fit, options, ids, fresh,
            [new StreamedRun(AssignerKind.NearestCentroid, initial, run)]));
        Assert.Equal("streamed", e.ParamName);
        // A run over other items.
        var shifted = run.Select(a => a with { ItemId = a.ItemId + 1 }).ToArray();
        Assert.Contains("streamed item 0", Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(initial, fit, options, ids, fresh,
            [new StreamedRun(AssignerKind.NearestCentroid, tables, shifted)])).Message);
        // Twice the same kind.
        Assert.Contains("two NearestCentroid runs", Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(initial, fit, options, ids, fresh,
            [new StreamedRun(AssignerKind.NearestCentroid, tables, run), new StreamedRun(AssignerKind.NearestCentroid, tables, run)])).Message);
        // Another metric than the tables'.
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(initial, fit,
            options with { Metric = DistanceMetric.Euclidean }, ids, fresh)).ParamName);
        Assert.Contains("40 rows", Assert.Throws<ArgumentException>(() => OnlineEvaluator.Evaluate(initial, fit, options, ids[..39], fresh)).Message);
    }

    [Fact]
    public void RealDbscanSeesTheToyShapesAsOneClusterEach()
    {
        foreach (var (shape, outside) in new[] { (ToyShapes.Crescent(), true), (ToyShapes.IrregularBlob(), false) })
        {
            var r = Dbscan.Fit(shape.Points, new DbscanOptions { Eps = shape.Eps, MinSamples = shape.MinSamples, Metric = DistanceMetric.Euclidean });
            Assert.Equal(1, r.ClusterCount);
            var d = Assert.Single(OnlineDiagnostics.Centres(shape.Points, r.Labels, r.CoreSampleIndices, shape.Eps, DistanceMetric.Euclidean));
            Assert.Equal(outside, d.CentreOutside);
        }
    }

    [Fact]
    public void BadEvaluationInputIsRejectedBeforeAnyWork()
    {
        var x = OnlineTestData.Clumps(50, 4, 2, 0.1, seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 25, new DbscanOptions { Eps = 0.1, MinSamples = 0 }));
        Assert.Contains("MinSamples=0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 25, new DbscanOptions { Eps = -0.1, MinSamples = 3 }));
        Assert.Contains("initCount", Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 50, new DbscanOptions { Eps = 0.1, MinSamples = 3 })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Sweep(x, 25, [0.1, 0.0]));
        Assert.Throws<ArgumentException>(() => OnlineEvaluator.Sweep(x, 25, []));
    }
}
