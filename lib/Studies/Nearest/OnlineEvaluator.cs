using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Studies;

/// <summary>How one assigner ran in an <see cref="OnlineEvaluation"/>.</summary>
/// <param name="Assigner">Its name.</param>
/// <param name="Joined">New items that joined an existing cluster.</param>
/// <param name="Created">New items that opened a new cluster (or, for CorePoint, were noise).</param>
/// <param name="CentresAtEnd">Rows of the centre table after streaming.</param>
/// <param name="Seconds">Wall time of the batch assignment.</param>
public sealed record AssignerRun(string Assigner, int Joined, int Created, int CentresAtEnd, double Seconds);

/// <summary>
/// Everything the notebook shows for one eps: the initial clustering, the re-run, and for each assigner its run
/// and its agreement with the re-run, plus failure 2 on the initial clusters and on the re-run's clusters.
/// </summary>
/// <param name="Eps">DBSCAN eps (also the assigners' eps).</param>
/// <param name="Mapping">How the re-run's clusters got old IDs.</param>
/// <param name="MinSamples">DBSCAN minSamples.</param>
/// <param name="Metric">The metric.</param>
/// <param name="InitItems">Rows clustered at initialisation (the first rows of x).</param>
/// <param name="NewItems">Rows streamed in afterwards.</param>
/// <param name="InitialClusters">Clusters of the initial DBSCAN.</param>
/// <param name="InitialNoise">Noise points of the initial DBSCAN (each got its own ID).</param>
/// <param name="CentresAtStart">Rows of the centre table after initialisation.</param>
/// <param name="RerunClusters">Clusters of the DBSCAN re-run on all rows.</param>
/// <param name="RerunNoise">Noise points of the re-run.</param>
/// <param name="Runs">One per assigner.</param>
/// <param name="Assigners">Agreement with the re-run, one per assigner, same order.</param>
/// <param name="InitialCentres">Failure 2 on the initial clusters (the centres the article's method uses).</param>
/// <param name="RerunCentres">Failure 2 on the re-run's clusters.</param>
/// <param name="InitialClusterCentres">Failure 2 per initial cluster.</param>
public sealed record OnlineEvaluation(double Eps, TruthMapping Mapping, int MinSamples, DistanceMetric Metric, int InitItems, int NewItems,
    int InitialClusters, int InitialNoise, int CentresAtStart, int RerunClusters, int RerunNoise,
    IReadOnlyList<AssignerRun> Runs, IReadOnlyList<AssignmentDiagnostics> Assigners,
    CentreSummary InitialCentres, CentreSummary RerunCentres, IReadOnlyList<CentreDiagnostics> InitialClusterCentres);

/// <summary>The whole experiment: initialise with DBSCAN, stream with each assigner, re-run DBSCAN, compare.</summary>
public static class OnlineEvaluator
{
    /// <summary>Names of the assigners <see cref="Evaluate"/> runs, in order.</summary>
    public static readonly IReadOnlyList<string> AssignerNames = ["NearestCentroid", "NearestCentroid (first within eps)", "CorePoint"];

    /// <summary>
    /// DBSCAN on the first <paramref name="initCount"/> rows of <paramref name="x"/>, tables as the article builds
    /// them, the remaining rows streamed (in one batch, which equals one at a time) with each assigner from the
    /// same tables, then DBSCAN on all rows as the truth.
    /// </summary>
    /// <param name="x">n x d embeddings; rows [0, initCount) are old, the rest new.</param>
    /// <param name="initCount">Old rows, in [1, n - 1].</param>
    /// <param name="options">DBSCAN options; the assigners use the same eps and metric.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation", in thousandths (the two DBSCAN runs' reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static OnlineEvaluation Evaluate(EmbeddingMatrix x, int initCount, DbscanOptions options,
        TruthMapping mapping = TruthMapping.Hungarian, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        AssignerChecks.ValidateEps(options.Eps, options.Metric);
        if (initCount < 1 || initCount >= x.Count)
            throw new ArgumentOutOfRangeException(nameof(initCount), initCount, $"initCount must be in [1, {x.Count - 1}] (x has {x.Count} rows).");
        int n = x.Count, nNew = n - initCount;
        var init = x.SelectRows(Enumerable.Range(0, initCount).ToArray());
        var fresh = x.SelectRows(Enumerable.Range(initCount, nNew).ToArray());
        var initIds = Enumerable.Range(0, initCount).Select(i => (long)i).ToArray();
        var newIds = Enumerable.Range(initCount, nNew).Select(i => (long)i).ToArray();

        var first = Dbscan.Fit(init, options, Scale(progress, 0, 300, Steps), cancellationToken);
        var tables = ClusterTables.Initialise(initIds, init, first, options);
        var runs = new List<AssignerRun>();
        var assigned = new List<int[]>();
        for (int k = 0; k < AssignerNames.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var t = tables.Clone();
            IOnlineAssigner a = k switch
            {
                0 => new NearestCentroidAssigner(t, new NearestCentroidOptions(options.Eps)),
                1 => new NearestCentroidAssigner(t, new NearestCentroidOptions(options.Eps, FirstWithinEps: true)),
                _ => new CorePointAssigner(t, new CorePointOptions(options.Eps)),
            };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var r = a.AssignBatch(newIds, fresh, null, cancellationToken);
            double s = sw.Elapsed.TotalSeconds;
            runs.Add(new AssignerRun(AssignerNames[k], r.Count(q => !q.CreatedCluster), r.Count(q => q.CreatedCluster), t.ClusterCount, s));
            assigned.Add(r.Select(q => q.ClusterId).ToArray());
            progress?.Report(new WorkProgress(Stage, 300 + 100 * (k + 1), Steps, AssignerNames[k]));
        }
        var rerun = Dbscan.Fit(x, options, Scale(progress, 600, 350, Steps), cancellationToken);
        var diags = Enumerable.Range(0, AssignerNames.Count)
            .Select(k => OnlineDiagnostics.Compare(AssignerNames[k], options.Eps, first.Labels, rerun.Labels, assigned[k], mapping)).ToArray();
        var initialCentres = OnlineDiagnostics.Centres(init, first.Labels, first.CoreSampleIndices, options.Eps, options.Metric);
        var rerunCentres = OnlineDiagnostics.Centres(x, rerun.Labels, rerun.CoreSampleIndices, options.Eps, options.Metric);
        progress?.Report(new WorkProgress(Stage, Steps, Steps));
        return new OnlineEvaluation(options.Eps, mapping, options.MinSamples, options.Metric, initCount, nNew,
            first.ClusterCount, first.NoiseCount, tables.ClusterCount, rerun.ClusterCount, rerun.NoiseCount, runs, diags,
            OnlineDiagnostics.Summarise(initialCentres, initCount), OnlineDiagnostics.Summarise(rerunCentres, n), initialCentres);
    }

    /// <summary><see cref="Evaluate"/> for each eps (the notebook's sweep), same minSamples and metric.</summary>
    public static IReadOnlyList<OnlineEvaluation> Sweep(EmbeddingMatrix x, int initCount, IReadOnlyList<double> epsValues,
        int minSamples = 3, DistanceMetric metric = DistanceMetric.Cosine, TruthMapping mapping = TruthMapping.Hungarian,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epsValues);
        if (epsValues.Count == 0)
            throw new ArgumentException("epsValues is empty: give at least one eps.", nameof(epsValues));
        foreach (double e in epsValues) new DbscanOptions(e, minSamples, metric).Validate(); // all checked before any work
        var result = new List<OnlineEvaluation>();
        for (int i = 0; i < epsValues.Count; i++)
            result.Add(Evaluate(x, initCount, new DbscanOptions(epsValues[i], minSamples, metric), mapping,
                Scale(progress, (long)i * Steps, Steps, (long)epsValues.Count * Steps), cancellationToken));
        return result;
    }

    private const string Stage = "online evaluation";
    private const long Steps = 1000; // units of one evaluation

    /// <summary>Maps a step's reports onto [from, from + width] of <paramref name="total"/> (monotone if theirs are).</summary>
    private static IProgress<WorkProgress>? Scale(IProgress<WorkProgress>? p, long from, long width, long total) =>
        p is null ? null : new Scaled(p, from, width, total);

    private sealed class Scaled(IProgress<WorkProgress> inner, long from, long width, long total) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => inner.Report(new WorkProgress(Stage,
            from + (long)Math.Round(width * value.Fraction), total,
            value.Detail is null ? value.Stage : $"{value.Stage}: {value.Detail}"));
    }
}
