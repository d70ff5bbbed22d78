using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Studies;

/// <summary>How one assigner ran in an <see cref="OnlineEvaluation"/>.</summary>
/// <param name="Assigner">Which assigner.</param>
/// <param name="Joined">New items that joined an existing cluster.</param>
/// <param name="Created">New items that opened a new cluster (or, for CorePoint, were noise).</param>
/// <param name="CentresAtEnd">Rows of the centre table after streaming.</param>
/// <param name="Seconds">Wall time of the batch assignment; NaN for a run streamed outside the evaluator and not timed.</param>
public sealed record AssignerRun(AssignerKind Assigner, int Joined, int Created, int CentresAtEnd, double Seconds)
{
    /// <summary>The assigner's display name.</summary>
    public string Name => Assigner.DisplayName();
}

/// <summary>
/// New items streamed with one assigner outside the evaluator (e.g. the run a notebook showed): the tables it
/// committed into and its answers, measured as they are by <see cref="OnlineEvaluator.Evaluate(ClusterTables, DbscanResult, DbscanOptions, IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{StreamedRun}?, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/>.
/// </summary>
/// <param name="Assigner">Which assigner made it (its eps must be the evaluation's).</param>
/// <param name="Tables">The tables after streaming: the initial tables' items followed by the streamed items.</param>
/// <param name="Assignments">Its answers, one per streamed item, in order.</param>
/// <param name="Seconds">Wall time, when measured; NaN otherwise.</param>
public sealed record StreamedRun(AssignerKind Assigner, ClusterTables Tables, IReadOnlyList<Assignment> Assignments, double Seconds = double.NaN);

/// <summary>
/// Everything the notebook shows for one eps: the initial clustering, the re-run, and for each assigner its run
/// and its agreement with the re-run, plus failure 2 on the initial clusters and on the re-run's clusters.
/// </summary>
/// <param name="Eps">DBSCAN eps (also the assigners' eps).</param>
/// <param name="Mapping">How the re-run's clusters got old IDs.</param>
/// <param name="MinSamples">DBSCAN minSamples.</param>
/// <param name="Metric">The metric.</param>
/// <param name="InitItems">Items clustered at initialisation.</param>
/// <param name="NewItems">Items streamed in afterwards.</param>
/// <param name="InitialClusters">Clusters of the initial DBSCAN.</param>
/// <param name="InitialNoise">Noise points of the initial DBSCAN (each got its own ID).</param>
/// <param name="CentresAtStart">Rows of the centre table after initialisation.</param>
/// <param name="RerunClusters">Clusters of the DBSCAN re-run on all items (initial, then streamed).</param>
/// <param name="RerunNoise">Noise points of the re-run.</param>
/// <param name="Runs">One per assigner.</param>
/// <param name="Assigners">Agreement with the re-run, one per assigner, same order as <paramref name="Runs"/>.</param>
/// <param name="InitialCentres">Failure 2 on the initial clusters (the centres the article's method uses).</param>
/// <param name="RerunCentres">Failure 2 on the re-run's clusters.</param>
/// <param name="InitialClusterCentres">Failure 2 per initial cluster.</param>
public sealed record OnlineEvaluation(double Eps, TruthMapping Mapping, int MinSamples, DistanceMetric Metric, int InitItems, int NewItems,
    int InitialClusters, int InitialNoise, int CentresAtStart, int RerunClusters, int RerunNoise,
    IReadOnlyList<AssignerRun> Runs, IReadOnlyList<AssignmentDiagnostics> Assigners,
    CentreSummary InitialCentres, CentreSummary RerunCentres, IReadOnlyList<CentreDiagnostics> InitialClusterCentres)
{
    /// <summary>Whether this evaluation ran <paramref name="kind"/>.</summary>
    public bool Has(AssignerKind kind) => IndexOf(kind) >= 0;

    /// <summary>The run of <paramref name="kind"/>; throws when the evaluation did not run it.</summary>
    public AssignerRun Run(AssignerKind kind) => Runs[Require(kind)];

    /// <summary>The agreement of <paramref name="kind"/> with the re-run; throws when the evaluation did not run it.</summary>
    public AssignmentDiagnostics Agreement(AssignerKind kind) => Assigners[Require(kind)];

    private int IndexOf(AssignerKind kind)
    {
        for (int i = 0; i < Runs.Count; i++)
            if (Runs[i].Assigner == kind) return i;
        return -1;
    }

    private int Require(AssignerKind kind) => IndexOf(kind) is int i and >= 0 ? i
        : throw new ArgumentException($"the evaluation has no {kind} run (it has: {string.Join(", ", Runs.Select(r => r.Assigner))}).", nameof(kind));
}

/// <summary>The whole experiment: initialise with DBSCAN, stream with each assigner, re-run DBSCAN, compare.</summary>
public static class OnlineEvaluator
{
    /// <summary>The assigners <see cref="Evaluate(ClusterTables, DbscanResult, DbscanOptions, IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{StreamedRun}?, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/> runs, in order.</summary>
    public static IReadOnlyList<AssignerKind> Assigners => AssignerKinds.All;

    /// <summary>
    /// Evaluates the objects a caller built: <paramref name="initial"/> (the tables right after initialisation,
    /// from <paramref name="initialFit"/>), and the items <paramref name="newIds"/> / <paramref name="newEmbeddings"/>
    /// streamed after it. Each assigner of <see cref="Assigners"/> is measured on its run: a run in
    /// <paramref name="streamed"/> is taken as it is (e.g. the one a notebook showed), any other is streamed now, in
    /// one batch, into a clone of <paramref name="initial"/> (which is not changed). The truth is DBSCAN with
    /// <paramref name="options"/> on the initial items followed by the streamed ones.
    /// </summary>
    /// <param name="initial">The tables as initialised (before any streaming).</param>
    /// <param name="initialFit">The DBSCAN result the tables were initialised from.</param>
    /// <param name="options">Its options; the assigners use the same eps and metric.</param>
    /// <param name="newIds">The streamed items' IDs, in streaming order.</param>
    /// <param name="newEmbeddings">Their embeddings, same order.</param>
    /// <param name="streamed">Runs already made from <paramref name="initial"/> over exactly these items, at most one per assigner.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation" in thousandths (DBSCAN's reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static OnlineEvaluation Evaluate(ClusterTables initial, DbscanResult initialFit, DbscanOptions options,
        IReadOnlyList<long> newIds, EmbeddingMatrix newEmbeddings, IReadOnlyList<StreamedRun>? streamed = null,
        TruthMapping mapping = TruthMapping.Hungarian, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(initialFit);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(newIds);
        ArgumentNullException.ThrowIfNull(newEmbeddings);
        options.Validate();
        AssignerChecks.ValidateEps(options.Eps, options.Metric);
        CheckInitial(initial, initialFit, options);
        if (newEmbeddings.Count == 0)
            throw new ArgumentException("newEmbeddings has no rows: stream at least one item.", nameof(newEmbeddings));
        if (newIds.Count != newEmbeddings.Count)
            throw new ArgumentException($"newIds has {newIds.Count} entries but newEmbeddings has {newEmbeddings.Count} rows.", nameof(newIds));
        if (newEmbeddings.Dimension != initial.Dimension)
            throw new ArgumentException($"newEmbeddings have dimension {newEmbeddings.Dimension}; the tables hold dimension {initial.Dimension}.", nameof(newEmbeddings));
        var given = CheckStreamed(streamed ?? [], initial, newIds);

        int nInit = initial.ItemCount, nNew = newEmbeddings.Count;
        var runs = new List<AssignerRun>();
        var assigned = new List<int[]>();
        for (int k = 0; k < Assigners.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var kind = Assigners[k];
            IReadOnlyList<Assignment> r;
            int centres;
            double seconds;
            if (given.TryGetValue(kind, out var run))
                (r, centres, seconds) = (run.Assignments, run.Tables.ClusterCount, run.Seconds);
            else
            {
                var t = initial.Clone();
                var a = kind.Create(t, options.Eps);
                var sw = System.Diagnostics.Stopwatch.StartNew();
                r = a.AssignBatch(newIds, newEmbeddings, null, cancellationToken);
                (centres, seconds) = (t.ClusterCount, sw.Elapsed.TotalSeconds);
            }
            runs.Add(new AssignerRun(kind, r.Count(q => !q.CreatedCluster), r.Count(q => q.CreatedCluster), centres, seconds));
            assigned.Add(r.Select(q => q.ClusterId).ToArray());
            progress?.Report(At(0.15 * (k + 1)));
        }
        var init = initial.ItemEmbeddings();
        var all = Concat(init, newEmbeddings);
        var rerun = Dbscan.Fit(all, options, Scale(progress, 0.45, 0.5), cancellationToken);
        var diags = Enumerable.Range(0, Assigners.Count)
            .Select(k => OnlineDiagnostics.Compare(Assigners[k].DisplayName(), options.Eps, initialFit.Labels, rerun.Labels, assigned[k], mapping)).ToArray();
        var initialCentres = OnlineDiagnostics.Centres(init, initialFit.Labels, initialFit.CoreSampleIndices, options.Eps, options.Metric);
        var rerunCentres = OnlineDiagnostics.Centres(all, rerun.Labels, rerun.CoreSampleIndices, options.Eps, options.Metric);
        progress?.Report(At(1.0));
        return new OnlineEvaluation(options.Eps, mapping, options.MinSamples, options.Metric, nInit, nNew,
            initialFit.ClusterCount, initialFit.NoiseCount, initial.ClusterCount, rerun.ClusterCount, rerun.NoiseCount, runs, diags,
            OnlineDiagnostics.Summarise(initialCentres, nInit), OnlineDiagnostics.Summarise(rerunCentres, nInit + nNew), initialCentres);
    }

    /// <summary>
    /// DBSCAN on <paramref name="initEmbeddings"/>, tables as the article builds them, then
    /// <see cref="Evaluate(ClusterTables, DbscanResult, DbscanOptions, IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{StreamedRun}?, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/>
    /// with every assigner streamed from them.
    /// </summary>
    /// <param name="initIds">One distinct ID per initial row.</param>
    /// <param name="initEmbeddings">The rows clustered at initialisation.</param>
    /// <param name="newIds">The streamed items' IDs (distinct from the initial ones).</param>
    /// <param name="newEmbeddings">The streamed rows, in order.</param>
    /// <param name="options">DBSCAN options; the assigners use the same eps and metric.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation" in thousandths (DBSCAN's reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static OnlineEvaluation Evaluate(IReadOnlyList<long> initIds, EmbeddingMatrix initEmbeddings,
        IReadOnlyList<long> newIds, EmbeddingMatrix newEmbeddings, DbscanOptions options,
        TruthMapping mapping = TruthMapping.Hungarian, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(initEmbeddings);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        AssignerChecks.ValidateEps(options.Eps, options.Metric);
        var first = Dbscan.Fit(initEmbeddings, options, Scale(progress, 0, 0.3), cancellationToken);
        var tables = ClusterTables.Initialise(initIds, initEmbeddings, first, options);
        return Evaluate(tables, first, options, newIds, newEmbeddings, null, mapping, Scale(progress, 0.3, 0.7), cancellationToken);
    }

    /// <summary>
    /// <see cref="Evaluate(IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{long}, EmbeddingMatrix, DbscanOptions, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/>
    /// with the first <paramref name="initCount"/> rows of <paramref name="x"/> as the initial items and the rest
    /// streamed, each item's ID its row number.
    /// </summary>
    /// <param name="x">n x d embeddings; rows [0, initCount) are old, the rest new.</param>
    /// <param name="initCount">Old rows, in [1, n - 1].</param>
    /// <param name="options">DBSCAN options; the assigners use the same eps and metric.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation" in thousandths (DBSCAN's reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static OnlineEvaluation Evaluate(EmbeddingMatrix x, int initCount, DbscanOptions options,
        TruthMapping mapping = TruthMapping.Hungarian, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        AssignerChecks.ValidateEps(options.Eps, options.Metric);
        var (initIds, init, newIds, fresh) = Split(x, initCount);
        return Evaluate(initIds, init, newIds, fresh, options, mapping, progress, cancellationToken);
    }

    /// <summary>
    /// <see cref="Evaluate(IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{long}, EmbeddingMatrix, DbscanOptions, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/>
    /// for each eps (the notebook's sweep), same minSamples and metric, on the caller's items.
    /// </summary>
    /// <param name="initIds">One distinct ID per initial row.</param>
    /// <param name="initEmbeddings">The rows clustered at initialisation.</param>
    /// <param name="newIds">The streamed items' IDs.</param>
    /// <param name="newEmbeddings">The streamed rows, in order.</param>
    /// <param name="epsValues">The eps values, each checked before any work.</param>
    /// <param name="minSamples">DBSCAN minSamples.</param>
    /// <param name="metric">The metric.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation" in thousandths (DBSCAN's reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static IReadOnlyList<OnlineEvaluation> Sweep(IReadOnlyList<long> initIds, EmbeddingMatrix initEmbeddings,
        IReadOnlyList<long> newIds, EmbeddingMatrix newEmbeddings, IReadOnlyList<double> epsValues,
        int minSamples = 3, DistanceMetric metric = DistanceMetric.Cosine, TruthMapping mapping = TruthMapping.Hungarian,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epsValues);
        if (epsValues.Count == 0)
            throw new ArgumentException("epsValues is empty: give at least one eps.", nameof(epsValues));
        var options = epsValues.Select(e => new DbscanOptions { Eps = e, MinSamples = minSamples, Metric = metric }).ToArray();
        foreach (var o in options) o.Validate(); // all checked before any work
        var result = new List<OnlineEvaluation>();
        for (int i = 0; i < options.Length; i++)
            result.Add(Evaluate(initIds, initEmbeddings, newIds, newEmbeddings, options[i], mapping,
                Scale(progress, (double)i / options.Length, 1.0 / options.Length), cancellationToken));
        return result;
    }

    /// <summary>
    /// <see cref="Sweep(IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{long}, EmbeddingMatrix, IReadOnlyList{double}, int, DistanceMetric, TruthMapping, IProgress{WorkProgress}?, CancellationToken)"/>
    /// with the first <paramref name="initCount"/> rows of <paramref name="x"/> initial and the rest streamed, IDs = row numbers.
    /// </summary>
    /// <param name="x">n x d embeddings.</param>
    /// <param name="initCount">Old rows, in [1, n - 1].</param>
    /// <param name="epsValues">The eps values.</param>
    /// <param name="minSamples">DBSCAN minSamples.</param>
    /// <param name="metric">The metric.</param>
    /// <param name="mapping">How the re-run's clusters get old IDs.</param>
    /// <param name="progress">Stage "online evaluation" in thousandths (DBSCAN's reports scaled in, their stage in Detail); ends with Done == Total.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static IReadOnlyList<OnlineEvaluation> Sweep(EmbeddingMatrix x, int initCount, IReadOnlyList<double> epsValues,
        int minSamples = 3, DistanceMetric metric = DistanceMetric.Cosine, TruthMapping mapping = TruthMapping.Hungarian,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(epsValues);
        if (epsValues.Count == 0)
            throw new ArgumentException("epsValues is empty: give at least one eps.", nameof(epsValues));
        foreach (double e in epsValues) new DbscanOptions { Eps = e, MinSamples = minSamples, Metric = metric }.Validate();
        var (initIds, init, newIds, fresh) = Split(x, initCount);
        return Sweep(initIds, init, newIds, fresh, epsValues, minSamples, metric, mapping, progress, cancellationToken);
    }

    private static (long[] InitIds, EmbeddingMatrix Init, long[] NewIds, EmbeddingMatrix Fresh) Split(EmbeddingMatrix x, int initCount)
    {
        if (initCount < 1 || initCount >= x.Count)
            throw new ArgumentOutOfRangeException(nameof(initCount), initCount, $"initCount must be in [1, {x.Count - 1}] (x has {x.Count} rows).");
        int nNew = x.Count - initCount;
        return (Enumerable.Range(0, initCount).Select(i => (long)i).ToArray(), x.SelectRows(Enumerable.Range(0, initCount).ToArray()),
            Enumerable.Range(initCount, nNew).Select(i => (long)i).ToArray(), x.SelectRows(Enumerable.Range(initCount, nNew).ToArray()));
    }

    // The tables must be the ones the fit built: same rows, every clustered row keeping its DBSCAN label as ID.
    private static void CheckInitial(ClusterTables initial, DbscanResult fit, DbscanOptions options)
    {
        if (initial.Metric != options.Metric)
            throw new ArgumentException($"the tables use {initial.Metric} but options.Metric is {options.Metric}.", nameof(options));
        if (fit.Labels.Length != initial.ItemCount)
            throw new ArgumentException($"initialFit labels {fit.Labels.Length} items but the tables hold {initial.ItemCount}: " +
                "pass the tables as initialised from this fit, before streaming.", "initialFit");
        var ids = initial.ItemClusterIds;
        for (int i = 0; i < ids.Length; i++)
            if (fit.Labels[i] >= 0 && fit.Labels[i] != ids[i])
                throw new ArgumentException($"row {i} has label {fit.Labels[i]} in initialFit but cluster_id {ids[i]} in the tables: " +
                    "the tables were not initialised from this fit.", "initialFit");
    }

    private static Dictionary<AssignerKind, StreamedRun> CheckStreamed(IReadOnlyList<StreamedRun> streamed, ClusterTables initial, IReadOnlyList<long> newIds)
    {
        var given = new Dictionary<AssignerKind, StreamedRun>();
        int nInit = initial.ItemCount;
        foreach (var run in streamed)
        {
            ArgumentNullException.ThrowIfNull(run, nameof(streamed));
            if (!Enum.IsDefined(run.Assigner))
                throw new ArgumentOutOfRangeException(nameof(streamed), run.Assigner, "a streamed run names an assigner that does not exist.");
            if (!given.TryAdd(run.Assigner, run))
                throw new ArgumentException($"streamed holds two {run.Assigner} runs.", nameof(streamed));
            string what = $"the {run.Assigner} run";
            if (run.Assignments.Count != newIds.Count)
                throw new ArgumentException($"{what} has {run.Assignments.Count} assignments for {newIds.Count} streamed items.", nameof(streamed));
            var t = run.Tables;
            if (t.ItemCount != nInit + newIds.Count || !t.ItemIds[..nInit].SequenceEqual(initial.ItemIds))
                throw new ArgumentException($"{what}'s tables do not hold the initial items followed by the {newIds.Count} streamed ones " +
                    $"({t.ItemCount} items): pass the tables it committed into.", nameof(streamed));
            var tail = t.ItemClusterIds[nInit..];
            for (int i = 0; i < newIds.Count; i++)
            {
                var a = run.Assignments[i];
                if (a.ItemId != newIds[i] || t.ItemIds[nInit + i] != newIds[i] || tail[i] != a.ClusterId)
                    throw new ArgumentException($"{what} differs from newIds or from its tables at streamed item {i} (item_id {newIds[i]}).", nameof(streamed));
            }
        }
        return given;
    }

    private static EmbeddingMatrix Concat(EmbeddingMatrix a, EmbeddingMatrix b)
    {
        var data = new float[(a.Count + b.Count) * a.Dimension];
        a.Data.AsSpan(0, a.Count * a.Dimension).CopyTo(data);
        b.Data.AsSpan(0, b.Count * b.Dimension).CopyTo(data.AsSpan(a.Count * a.Dimension));
        return new EmbeddingMatrix(data, a.Count + b.Count, a.Dimension);
    }

    private const string Stage = "online evaluation";
    private const long Steps = 1000; // units of one call, whatever it nests

    private static WorkProgress At(double fraction, string? detail = null) =>
        new(Stage, (long)Math.Round(Math.Clamp(fraction, 0, 1) * Steps), Steps, detail);

    // Maps a nested step's progress onto [from, from + width] of this call's.
    private static IProgress<WorkProgress>? Scale(IProgress<WorkProgress>? p, double from, double width) =>
        p is null ? null : new Scaled(p, from, width);

    private sealed class Scaled(IProgress<WorkProgress> inner, double from, double width) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => inner.Report(At(from + width * value.Fraction,
            value.Stage == Stage ? value.Detail : value.Detail is null ? value.Stage : $"{value.Stage}: {value.Detail}"));
    }
}
