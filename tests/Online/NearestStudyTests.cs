using LabelAssignment.Tests.Oracles;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using Microsoft.Data.Analysis;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

public class NearestStudyTests
{
    [Theory]
    [InlineData(DistanceMetric.Cosine)]
    [InlineData(DistanceMetric.Euclidean)]
    public void CoreDistances_mark_exactly_the_DBSCAN_core_points(DistanceMetric metric)
    {
        var x = OnlineTestData.Clumps(160, 6, 4, 0.3, seed: 5);
        foreach (int minSamples in new[] { 2, 3, 6 })
        {
            var core = NearestStudy.CoreDistances(x, minSamples, metric);
            // Brute force: sorted distances to the other rows, the (minSamples-1)-th.
            for (int i = 0; i < x.Count; i += 17)
            {
                var others = Enumerable.Range(0, x.Count).Where(j => j != i)
                    .Select(j => Distances.Between(metric, x, i, j)).Order().ToArray();
                Assert.Equal(others[minSamples - 2], core[i], 9);
            }
            // Independent check: at an eps between two core distances, DBSCAN's core points are those at or below it.
            double eps = NearestStudy.Quantile(core, 0.5) * 1.0001;
            var dbscan = Dbscan.Fit(x, new DbscanOptions { Eps = eps, MinSamples = minSamples, Metric = metric });
            var mine = Enumerable.Range(0, x.Count).Where(i => core[i] <= eps).ToArray();
            Assert.Equal(dbscan.CoreSampleIndices, mine);
            Assert.Equal((double)mine.Length / x.Count, NearestStudy.ShareAtMost(core, eps), 12);
        }
        Assert.All(NearestStudy.CoreDistances(x, 1, metric), v => Assert.Equal(0, v));
    }

    [Fact]
    public void CoreDistances_reject_bad_input()
    {
        var x = OnlineTestData.Clumps(5, 3, 1, 0.1, 1);
        Assert.Equal("minSamples", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.CoreDistances(x, 0)).ParamName);
        Assert.Contains("minSamples=6", Assert.Throws<ArgumentException>(() => NearestStudy.CoreDistances(x, 6)).Message);
        var zero = EmbeddingMatrix.Zeros(3, 2);
        Assert.Contains("zero vector", Assert.Throws<ArgumentException>(() => NearestStudy.CoreDistances(zero, 2)).Message);
        x.Data[4] = float.NaN;
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => NearestStudy.CoreDistances(x, 2)).Message);
    }

    [Fact]
    public void Quantile_and_grid_follow_numpy()
    {
        // numpy.quantile([4, 1, 3, 2], [0, 0.25, 0.5, 0.9, 1]) -> [1, 1.75, 2.5, 3.7, 4]
        double[] v = [4, 1, 3, 2];
        Assert.Equal(1, NearestStudy.Quantile(v, 0), 12);
        Assert.Equal(1.75, NearestStudy.Quantile(v, 0.25), 12);
        Assert.Equal(2.5, NearestStudy.Quantile(v, 0.5), 12);
        Assert.Equal(3.7, NearestStudy.Quantile(v, 0.9), 12);
        Assert.Equal(4, NearestStudy.Quantile(v, 1), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.Quantile(v, 1.5));
        Assert.Throws<ArgumentException>(() => NearestStudy.Quantile([], 0.5));
        Assert.Equal([0.18, 0.2, 0.22, 0.24], NearestStudy.EpsGrid(0.18, 0.24, 0.02));
        Assert.Equal([0.3], NearestStudy.EpsGrid(0.3, 0.3, 0.05));
        Assert.Equal("to", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.EpsGrid(0.3, 0.2, 0.05)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.EpsGrid(0.1, 0.2, 0)).ParamName);
        Assert.Equal("from", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.EpsGrid(0, 0.2, 0.1)).ParamName);
        Assert.Equal("step", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.EpsGrid(0.1, 2, 0.001)).ParamName);
    }

    static OnlineEvaluation Evaluation(double eps, int truthOld, int ncMissed, int cpMissed, int ncSame, int cpSame,
        int outside = 0, int clusters = 4, int beyond = 10, int firstSame = -1, IReadOnlyList<CentreDiagnostics>? perCluster = null)
    {
        const int nNew = 100;
        AssignmentDiagnostics D(AssignerKind kind, int same, int missed) =>
            new(kind.DisplayName(), eps, nNew, truthOld, nNew - truthOld, same, missed, Math.Max(0, nNew - same - missed) / 2, nNew - same - missed - Math.Max(0, nNew - same - missed) / 2);
        var nc = D(AssignerKind.NearestCentroid, ncSame, ncMissed);
        var first = D(AssignerKind.NearestCentroidFirstWithinEps, firstSame < 0 ? ncSame : firstSame, ncMissed);
        var cp = D(AssignerKind.CorePoint, cpSame, cpMissed);
        var centres = new CentreSummary(clusters, outside, 200, outside * 20, 300, beyond);
        return new OnlineEvaluation(eps, TruthMapping.Hungarian, 5, DistanceMetric.Cosine, 300, nNew, clusters, 100, 104, clusters, 120,
            [new(AssignerKind.NearestCentroid, 60, 40, 144, 0.01), new(AssignerKind.NearestCentroidFirstWithinEps, 61, 39, 143, 0.01),
             new(AssignerKind.CorePoint, 55, 45, 149, 0.01)],
            [nc, first, cp], centres, centres, perCluster ?? []);
    }

    [Fact]
    public void Conclusions_follow_the_numbers()
    {
        var main = Evaluation(0.24, truthOld: 80, ncMissed: 20, cpMissed: 8, ncSame: 70, cpSame: 88);
        var text = string.Join("\n", NearestStudy.Conclusions(main, []));
        Assert.Contains("of the 80 streamed items that belong to an old cluster, NearestCentroid sent 20 (25%) to a new cluster and CorePoint 8 (10%): CorePoint missed fewer.", text);
        Assert.Contains("CorePoint agrees more often", text);
        Assert.Contains("Failure 2 (centre outside) did not occur at eps = 0.24", text);
        Assert.Contains("5% of the clustered initial items lie farther than eps", text);
        Assert.DoesNotContain("rough", text);
        Assert.DoesNotContain("first centre within eps", text);

        // The other way round, few truth items, centres outside, nobody beyond eps, the article's order differing.
        var other = Evaluation(0.3, truthOld: 12, ncMissed: 1, cpMissed: 3, ncSame: 90, cpSame: 85, outside: 2, beyond: 0, firstSame: 80);
        text = string.Join("\n", NearestStudy.Conclusions(other, []));
        Assert.Contains("NearestCentroid missed fewer", text);
        Assert.Contains("NearestCentroid agrees more often", text);
        Assert.Contains("rough", text);
        Assert.Contains("Failure 2 (centre outside): 2 of 4 initial clusters", text);
        Assert.Contains("Every clustered initial item lies within eps", text);
        Assert.Contains("agrees on 80% against 90%", text);

        var none = Evaluation(0.1, truthOld: 0, ncMissed: 0, cpMissed: 0, ncSame: 95, cpSame: 95);
        text = string.Join("\n", NearestStudy.Conclusions(none, []));
        Assert.Contains("cannot show at this eps", text);
        Assert.Contains("(equal)", text);
        Assert.DoesNotContain("missed fewer", text);
    }

    [Fact]
    public void Conclusions_summarise_the_sweep()
    {
        var sweep = new[]
        {
            Evaluation(0.2, 50, 10, 5, 80, 90),
            Evaluation(0.25, 50, 30, 30, 60, 70),
            Evaluation(0.3, 50, 20, 25, 70, 70, outside: 1),
        };
        var text = string.Join("\n", NearestStudy.Conclusions(sweep[0], sweep));
        Assert.Contains("Across eps 0.2 to 0.3 (3 value(s)", text);
        Assert.Contains("CorePoint missed no more than NearestCentroid at 2 and strictly fewer at 1; it missed more at eps = 0.3;", text);
        Assert.Contains("NearestCentroid missed most at eps = 0.25 (60% against 60%)", text);
        Assert.Contains("appeared at 1 of 3 eps values", text);
        var clean = new[] { sweep[0], sweep[1] };
        text = string.Join("\n", NearestStudy.Conclusions(sweep[0], clean));
        Assert.Contains("No initial cluster had its centre outside at any eps", text);
        Assert.DoesNotContain("missed more at", text);
        // An eps with nothing to miss is a gap, not a zero.
        var gap = NearestStudy.Series([Evaluation(0.1, 0, 0, 0, 100, 100), sweep[0]]);
        Assert.True(double.IsNaN(gap.Assigners[0].Missed[0]));
        Assert.Equal(0.2, gap.Assigners[0].Missed[1], 12);
        var withoutCorePoint = sweep[0] with { Runs = sweep[0].Runs.Take(2).ToArray(), Assigners = sweep[0].Assigners.Take(2).ToArray() };
        Assert.Contains("no CorePoint run", Assert.Throws<ArgumentException>(() => NearestStudy.Conclusions(withoutCorePoint, [])).Message);
    }

    [Fact]
    public void Tables_and_series_carry_the_evaluation()
    {
        // Hand-made evaluations, so every expected cell below is worked out by hand from the inputs.
        var perCluster = new CentreDiagnostics[]
        {
            new(7, 5, 2, 0.1234567, false, 0.5, 1),
            new(4, 9, 3, 0.31, true, 0.61234, 3),
            new(2, 9, 4, 0.05, false, 0.2, 0),
        };
        var main = Evaluation(0.24, truthOld: 80, ncMissed: 20, cpMissed: 8, ncSame: 70, cpSame: 88, perCluster: perCluster);
        var table = NearestStudy.DiagnosticsTable(main);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(["NearestCentroid", "NearestCentroid (first within eps)", "CorePoint"], Enumerable.Range(0, 3).Select(i => (string)table["assigner"][i]!));
        Assert.Equal([60, 61, 55], Enumerable.Range(0, 3).Select(i => (int)table["joined a cluster"][i]!));
        Assert.Equal([40, 39, 45], Enumerable.Range(0, 3).Select(i => (int)table["opened a new ID"][i]!));
        Assert.Equal([144, 143, 149], Enumerable.Range(0, 3).Select(i => (int)table["centres at end"][i]!));
        // NearestCentroid: 70 of 100 same; 20 missed = 25% of the 80 truth-in-old and 20% of all; the other 10 merged.
        Assert.Equal(70.0, (double)table["same as re-run %"][0]!, 9);
        Assert.Equal(20, (int)table["missed"][0]!);
        Assert.Equal(25.0, (double)table["missed % of truth-in-old"][0]!, 9);
        Assert.Equal(20.0, (double)table["wrongly new %"][0]!, 9);
        Assert.Equal(10.0, (double)table["wrongly merged %"][0]!, 9);
        // CorePoint: 88 same, 8 missed (10% of 80, 8% of all), 4 merged.
        Assert.Equal(88.0, (double)table["same as re-run %"][2]!, 9);
        Assert.Equal(10.0, (double)table["missed % of truth-in-old"][2]!, 9);
        Assert.Equal(8.0, (double)table["wrongly new %"][2]!, 9);
        Assert.Equal(4.0, (double)table["wrongly merged %"][2]!, 9);

        // Largest first, ties by ID: clusters 2 and 4 (9 members each), then 7; two rows asked for.
        var centres = NearestStudy.CentreTable(main, maxRows: 2);
        Assert.Equal(2, centres.Rows.Count);
        Assert.Equal([2, 4], new[] { (int)centres["cluster_id"][0]!, (int)centres["cluster_id"][1]! });
        Assert.Equal(0.31, (double)centres["centre to nearest core"][1]!, 12);
        Assert.Equal(0.6123, (double)centres["farthest member"][1]!, 12);          // rounded to 4 decimals
        Assert.Equal(33.33, (double)centres["members beyond eps %"][1]!, 12);      // 3 of 9
        Assert.Equal(true, centres["centre outside"][1]);
        Assert.Equal(3, NearestStudy.CentreTable(main).Rows.Count);
        Assert.Equal("maxRows", Assert.Throws<ArgumentOutOfRangeException>(() => NearestStudy.CentreTable(main, 0)).ParamName);

        // Series: eps 0.1 has nothing to miss (a gap); at 0.24 NearestCentroid missed 20/80, CorePoint 8/80.
        var sweep = new[] { Evaluation(0.1, 0, 0, 0, 100, 100, outside: 3, beyond: 50), main };
        var s = NearestStudy.Series(sweep);
        Assert.Equal([0.1, 0.24], s.Eps);
        Assert.Equal(AssignerKinds.All, s.Assigners.Select(a => a.Assigner));
        Assert.True(double.IsNaN(s.Of(AssignerKind.NearestCentroid).Missed[0]));
        Assert.Equal(0.25, s.Of(AssignerKind.NearestCentroid).Missed[1], 12);
        Assert.Equal(0.10, s.Of(AssignerKind.CorePoint).Missed[1], 12);
        Assert.Equal([0.0, 0.08], s.Of(AssignerKind.CorePoint).WronglyNew);
        Assert.Equal([0.0, 0.04], s.Of(AssignerKind.CorePoint).WronglyMerged);
        Assert.Equal([1.0, 0.7], s.Of(AssignerKind.NearestCentroid).Same);
        Assert.Equal([3.0, 0.0], s.InitialOutside);
        Assert.Equal([0.25, 0.05], s.BeyondEps);                                  // 50 and 10 of 200 clustered items
        Assert.Equal("CorePoint", s.Of(AssignerKind.CorePoint).Name);
        var sweepTable = NearestStudy.SweepTable(sweep);
        Assert.Equal(6, sweepTable.Rows.Count);
        Assert.Equal(0.24, (double)sweepTable["eps"][5]!, 12);
        Assert.Equal("CorePoint", sweepTable["assigner"][5]);
        Assert.Equal(10.0, (double)sweepTable["missed % of truth-in-old"][5]!, 9);
        Assert.Throws<ArgumentException>(() => NearestStudy.Series([]));
        var mixed = new[] { main, main with { Runs = main.Runs.Reverse().ToArray() } };
        Assert.Contains("sweep[1]", Assert.Throws<ArgumentException>(() => NearestStudy.Series(mixed)).Message);
    }
}
