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
        var options = new DbscanOptions(0.06, 3, DistanceMetric.Cosine);
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
        var got = new CorePointAssigner(t, new CorePointOptions(0.06)).AssignBatch(OnlineTestData.Ids(400, 200), OnlineTestData.Rows(x, 400, 200));
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
    public void RealDbscanSeesTheToyShapesAsOneClusterEach()
    {
        foreach (var (shape, outside) in new[] { (ToyShapes.Crescent(), true), (ToyShapes.IrregularBlob(), false) })
        {
            var r = Dbscan.Fit(shape.Points, new DbscanOptions(shape.Eps, shape.MinSamples, DistanceMetric.Euclidean));
            Assert.Equal(1, r.ClusterCount);
            var d = Assert.Single(OnlineDiagnostics.Centres(shape.Points, r.Labels, r.CoreSampleIndices, shape.Eps, DistanceMetric.Euclidean));
            Assert.Equal(outside, d.CentreOutside);
        }
    }

    [Fact]
    public void BadEvaluationInputIsRejectedBeforeAnyWork()
    {
        var x = OnlineTestData.Clumps(50, 4, 2, 0.1, seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 25, new DbscanOptions(0.1, 0)));
        Assert.Contains("MinSamples=0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 25, new DbscanOptions(-0.1, 3)));
        Assert.Contains("initCount", Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Evaluate(x, 50, new DbscanOptions(0.1, 3))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnlineEvaluator.Sweep(x, 25, [0.1, 0.0]));
        Assert.Throws<ArgumentException>(() => OnlineEvaluator.Sweep(x, 25, []));
    }
}
