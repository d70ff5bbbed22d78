using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

/// <summary>The online steps report <see cref="WorkProgress"/> that never goes back and ends complete.</summary>
public sealed class ProgressReportTests
{
    sealed class Collect : IProgress<WorkProgress>
    {
        public List<WorkProgress> Reports { get; } = [];
        public void Report(WorkProgress value) { lock (Reports) Reports.Add(value); }
    }

    static void AssertMonotoneAndComplete(IReadOnlyList<WorkProgress> reports, long total)
    {
        Assert.NotEmpty(reports);
        Assert.All(reports, p => Assert.Equal(total, p.Total));
        for (int i = 1; i < reports.Count; i++)
            Assert.True(reports[i].Done >= reports[i - 1].Done, $"Done went from {reports[i - 1].Done} to {reports[i].Done} at report {i}");
        Assert.Equal(total, reports[^1].Done);
    }

    [Fact]
    public void AssignBatch_reports_items_placed_up_to_the_batch_size()
    {
        var x = OnlineTestData.Clumps(600, 16, 8, 0.2, seed: 21);
        var options = new DbscanOptions { Eps = 0.06, MinSamples = 3, Metric = DistanceMetric.Cosine };
        var init = OnlineTestData.Rows(x, 0, 400);
        var tables = ClusterTables.Initialise(OnlineTestData.Ids(0, 400), init, Dbscan.Fit(init, options), options);
        foreach (IOnlineAssigner a in new IOnlineAssigner[]
        {
            new NearestCentroidAssigner(tables.Clone(), new NearestCentroidOptions { Eps = 0.06 }),
            new CorePointAssigner(tables.Clone(), new CorePointOptions { Eps = 0.06 }),
        })
        {
            var progress = new Collect();
            a.AssignBatch(OnlineTestData.Ids(400, 200), OnlineTestData.Rows(x, 400, 200), progress);
            AssertMonotoneAndComplete(progress.Reports, 200);
        }
    }

    [Fact]
    public void Sweep_progress_runs_once_through_all_evaluations()
    {
        var x = OnlineTestData.Clumps(300, 8, 4, 0.2, seed: 5);
        var progress = new Collect();
        OnlineEvaluator.Sweep(x, 200, [0.05, 0.1], minSamples: 3, progress: progress);
        AssertMonotoneAndComplete(progress.Reports, progress.Reports[0].Total);
        // The two evaluations follow each other: the second one's reports all come after the first one's end.
        long half = progress.Reports[0].Total / 2;
        int firstEnd = progress.Reports.FindIndex(p => p.Done == half);
        Assert.True(firstEnd > 0 && firstEnd < progress.Reports.Count - 1, $"first evaluation ended at report {firstEnd}");
    }
}
