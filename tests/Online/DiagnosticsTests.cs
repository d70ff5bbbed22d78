using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

public sealed class DiagnosticsTests
{
    [Fact]
    public void MajorityMapTakesTheMostCommonOldLabel()
    {
        // Re-run cluster 5 holds old items of clusters 0, 0, 1: maps to 0. Re-run 6 holds old 1 and 2 once each: tie to 1.
        // Re-run 7 holds only old noise: no old counterpart.
        int[] old = [0, 0, 1, 1, 2, -1, -1];
        int[] rerun = [5, 5, 5, 6, 6, 7, -1];
        var map = OnlineDiagnostics.MajorityMap(old, rerun);
        Assert.Equal(0, map[5]);
        Assert.Equal(1, map[6]);
        Assert.False(map.ContainsKey(7));
        Assert.Equal(2, map.Count);
    }

    [Fact]
    public void HungarianMapIsOneToOneWhereMajorityIsNot()
    {
        // Re-run 5 holds three items of old 0; re-run 6 holds two of old 0 and one of old 1.
        int[] old = [0, 0, 0, 0, 0, 1];
        int[] rerun = [5, 5, 5, 6, 6, 6];
        var majority = OnlineDiagnostics.MajorityMap(old, rerun);
        Assert.Equal(0, majority[5]);
        Assert.Equal(0, majority[6]);               // many-to-one
        var hungarian = OnlineDiagnostics.HungarianMap(old, rerun);
        Assert.Equal(0, hungarian[5]);
        Assert.Equal(1, hungarian[6]);              // one-to-one, maximising shared items (3 + 1 > 2 + 0)
        // A new item the re-run puts in cluster 6 and the assigner in old 0: right under majority, wrong under Hungarian.
        int[] withNew = [.. rerun, 6];
        Assert.Equal(1, OnlineDiagnostics.Compare("x", 0.1, old, withNew, [0], TruthMapping.Majority).Same);
        Assert.Equal(1, OnlineDiagnostics.Compare("x", 0.1, old, withNew, [0], TruthMapping.Hungarian).MergedIntoOther);
    }

    [Fact]
    public void CompareCountsEachKindOfDisagreement()
    {
        int[] old = [0, 0, 1, 1, -1];           // old clusters 0 and 1; old noise singleton got ID 2 in the tables
        int[] rerun = [3, 3, 4, 4, -1,          // re-run: 3 -> old 0, 4 -> old 1
                       3, 3, 4, 9, -1, 4];      // new items
        int[] assigned = [0, 7, 0, 0, 8, 2];    // same, missed, merged-into-other, merged-when-new, same (new/noise), missed (noise singleton)
        var r = OnlineDiagnostics.Compare("x", 0.1, old, rerun, assigned);
        Assert.Equal(6, r.NewItems);
        Assert.Equal(4, r.TruthInOldCluster);   // items 0, 1, 2, 5
        Assert.Equal(2, r.TruthNew);
        Assert.Equal(2, r.Same);
        Assert.Equal(2, r.Missed);
        Assert.Equal(1, r.MergedIntoOther);
        Assert.Equal(1, r.MergedWhenNew);
        Assert.Equal(2.0 / 6, r.MissedShare, 12);
        Assert.Equal(2.0 / 6, r.WronglyMergedShare, 12);
        Assert.Equal(0.5, r.MissedShareOfTruthInOld, 12);
    }

    [Fact]
    public void CrescentCentreLiesOutsideTheCluster()
    {
        var c = ToyShapes.Crescent();
        var (labels, core) = DbscanOracle.FitCoreRows(c.Points, c.Eps, c.MinSamples, DistanceMetric.Euclidean);
        Assert.Equal(0, labels.Max());                 // one cluster
        Assert.True(labels.Count(l => l == 0) > 0.95 * labels.Length);
        // Independent check: no core point at all within eps of the member mean, in fact none within 1.
        foreach (int i in core)
        {
            double dx = c.Points.Data[2 * i] - c.CentreX, dy = c.Points.Data[2 * i + 1] - c.CentreY;
            Assert.True(Math.Sqrt(dx * dx + dy * dy) > 1.0);
        }
        var diag = OnlineDiagnostics.Centres(c.Points, labels, core, c.Eps, DistanceMetric.Euclidean);
        var d0 = Assert.Single(diag);
        Assert.True(d0.CentreOutside);
        Assert.InRange(d0.CentreToNearestCore, 1.0, 2.0);
        Assert.Equal(d0.Size, d0.MembersBeyondEps);    // not a single member is within eps of the centre
        var s = OnlineDiagnostics.Summarise(diag, labels.Length);
        Assert.Equal(1, s.OutsideCount);
        Assert.Equal(d0.Size, s.ItemsInOutsideClusters);
    }

    [Fact]
    public void LargeBlobHasItsCentreInsideButMostPointsBeyondEps()
    {
        var b = ToyShapes.IrregularBlob();
        var (labels, core) = DbscanOracle.FitCoreRows(b.Points, b.Eps, b.MinSamples, DistanceMetric.Euclidean);
        Assert.Equal(0, labels.Max());
        var d0 = Assert.Single(OnlineDiagnostics.Centres(b.Points, labels, core, b.Eps, DistanceMetric.Euclidean));
        Assert.False(d0.CentreOutside);
        Assert.True(d0.CentreToNearestCore <= b.Eps);
        Assert.True(d0.MaxMemberDistance > 10 * b.Eps);
        Assert.True(d0.MembersBeyondEps > 0.9 * d0.Size);
        Assert.Equal(d0.MembersBeyondEps, b.BeyondEpsOfCentre().Count(v => v));
        // A point deep in the lower-right lobe (the article's X) is in the cluster but beyond eps of the centre:
        // the nearest-centre rule opens a new cluster for it, the core-point rule puts it in the cluster.
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, b.Points.Count), b.Points, labels, core, DistanceMetric.Euclidean);
        var t2 = t.Clone();
        float[] xPoint = [2.0f, -2.5f];
        var nearest = new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = b.Eps }).Assign(-1, xPoint);
        var corePt = new CorePointAssigner(t2, new CorePointOptions { Eps = b.Eps }).Assign(-1, xPoint);
        Assert.True(nearest.CreatedCluster);
        Assert.False(corePt.CreatedCluster);
        Assert.Equal(0, corePt.ClusterId);
    }
}
