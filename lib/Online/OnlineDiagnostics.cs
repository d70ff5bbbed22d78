using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// How one assigner's online answers compare with the truth of re-running the clustering on old and new items
/// together (re-run labels mapped to the old IDs by majority overlap). One row of the notebook's table.
/// </summary>
/// <param name="Assigner">Name of the assigner (e.g. "NearestCentroid", "CorePoint").</param>
/// <param name="Eps">The eps used.</param>
/// <param name="NewItems">Items assigned online.</param>
/// <param name="TruthInOldCluster">New items the re-run puts into a cluster that maps to an old cluster.</param>
/// <param name="TruthNew">New items the re-run calls noise or puts into a cluster with no old counterpart.</param>
/// <param name="Same">Online answer agrees: the same old cluster, or "not an old cluster" on both sides.</param>
/// <param name="Missed">Failure 1: the re-run puts the item into old cluster k, the assigner opened a new cluster (or joined a noise singleton).</param>
/// <param name="MergedIntoOther">The assigner joined old cluster a while the re-run says old cluster k ≠ a.</param>
/// <param name="MergedWhenNew">The assigner joined old cluster a while the re-run says noise or a new cluster.</param>
public sealed record AssignmentDiagnostics(string Assigner, double Eps, int NewItems, int TruthInOldCluster, int TruthNew,
    int Same, int Missed, int MergedIntoOther, int MergedWhenNew)
{
    /// <summary>Share of new items given the same answer as the re-run.</summary>
    public double SameShare => NewItems == 0 ? 0 : (double)Same / NewItems;

    /// <summary>Share of new items wrongly sent to a new cluster (failure 1).</summary>
    public double MissedShare => NewItems == 0 ? 0 : (double)Missed / NewItems;

    /// <summary>Share of new items wrongly merged into an old cluster (another one, or one the re-run does not give them).</summary>
    public double WronglyMergedShare => NewItems == 0 ? 0 : (double)(MergedIntoOther + MergedWhenNew) / NewItems;

    /// <summary>Of the items the re-run places in an old cluster, the share the assigner missed.</summary>
    public double MissedShareOfTruthInOld => TruthInOldCluster == 0 ? 0 : (double)Missed / TruthInOldCluster;
}

/// <summary>Failure 2 for one cluster: does its centre (member mean) lie outside it?</summary>
/// <param name="ClusterId">The cluster's label.</param>
/// <param name="Size">Members.</param>
/// <param name="CorePoints">Core points among the members.</param>
/// <param name="CentreToNearestCore">Distance from the centre to the cluster's nearest core point (+∞ without core points).</param>
/// <param name="CentreOutside">No core point of the cluster within eps of the centre: the centre is not in the cluster.</param>
/// <param name="MaxMemberDistance">Distance from the centre to its farthest member.</param>
/// <param name="MembersBeyondEps">Members farther than eps from the centre (what the nearest-centre rule cannot reach).</param>
public sealed record CentreDiagnostics(int ClusterId, int Size, int CorePoints, double CentreToNearestCore, bool CentreOutside,
    double MaxMemberDistance, int MembersBeyondEps);

/// <summary>Failure 2 summed over the clusters of one clustering.</summary>
/// <param name="Clusters">Clusters (noise excluded).</param>
/// <param name="OutsideCount">Clusters whose centre lies outside the cluster.</param>
/// <param name="ClusteredItems">Items in clusters.</param>
/// <param name="ItemsInOutsideClusters">Items in clusters whose centre lies outside.</param>
/// <param name="TotalItems">All items, noise included.</param>
/// <param name="MembersBeyondEps">Clustered items farther than eps from their own centre.</param>
public sealed record CentreSummary(int Clusters, int OutsideCount, int ClusteredItems, int ItemsInOutsideClusters, int TotalItems,
    int MembersBeyondEps)
{
    /// <summary>Share of clusters whose centre lies outside.</summary>
    public double OutsideShare => Clusters == 0 ? 0 : (double)OutsideCount / Clusters;

    /// <summary>Share of all items that sit in a cluster whose centre lies outside.</summary>
    public double ItemsInOutsideClustersShare => TotalItems == 0 ? 0 : (double)ItemsInOutsideClusters / TotalItems;

    /// <summary>Share of clustered items farther than eps from their own centre.</summary>
    public double MembersBeyondEpsShare => ClusteredItems == 0 ? 0 : (double)MembersBeyondEps / ClusteredItems;
}

/// <summary>How the re-run's clusters are given old IDs when they serve as the truth.</summary>
public enum TruthMapping
{
    /// <summary>
    /// One-to-one: the Hungarian assignment (<see cref="Remapping.LinearAssignment"/>) maximising the number of
    /// shared old items, as the remap stage would keep IDs; a re-run cluster matched to no old cluster, or only with
    /// zero overlap, is new. When two old clusters merged, one of their IDs survives.
    /// </summary>
    Hungarian,

    /// <summary>
    /// Many-to-one: each re-run cluster takes the old ID most of its old items carry (ties to the smaller ID); a
    /// merged cluster maps to its larger part. More lenient than Hungarian.
    /// </summary>
    Majority,
}

/// <summary>
/// Measures the two failures the article draws but never measures. Truth is a re-run of the clustering on old and
/// new items together, its clusters mapped to the old cluster IDs (<see cref="TruthMapping"/>: Hungarian by
/// default, majority overlap on request); a re-run cluster with no old clustered item is "new", and old noise
/// singletons are not old clusters.
/// </summary>
public static class OnlineDiagnostics
{
    /// <summary>
    /// One-to-one map from re-run cluster labels to old cluster labels maximising shared old items (Hungarian);
    /// pairs that share nothing are dropped, so unmatched re-run clusters are absent.
    /// </summary>
    /// <param name="oldLabels">Old labels of the old items (-1 noise).</param>
    /// <param name="rerunLabelsOfOld">Re-run labels of the same old items, same order.</param>
    public static IReadOnlyDictionary<int, int> HungarianMap(IReadOnlyList<int> oldLabels, IReadOnlyList<int> rerunLabelsOfOld)
    {
        ArgumentNullException.ThrowIfNull(oldLabels);
        ArgumentNullException.ThrowIfNull(rerunLabelsOfOld);
        if (oldLabels.Count != rerunLabelsOfOld.Count)
            throw new ArgumentException($"rerunLabelsOfOld has {rerunLabelsOfOld.Count} entries; oldLabels has {oldLabels.Count}.", nameof(rerunLabelsOfOld));
        var olds = oldLabels.Where(l => l >= 0).Distinct().Order().ToArray();
        var reruns = rerunLabelsOfOld.Where(l => l >= 0).Distinct().Order().ToArray();
        var map = new Dictionary<int, int>();
        if (olds.Length == 0 || reruns.Length == 0) return map;
        var oi = olds.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var ri = reruns.Select((v, i) => (v, i)).ToDictionary(p => p.v, p => p.i);
        var counts = new double[reruns.Length * olds.Length];
        for (int i = 0; i < oldLabels.Count; i++)
            if (oldLabels[i] >= 0 && rerunLabelsOfOld[i] >= 0)
                counts[ri[rerunLabelsOfOld[i]] * olds.Length + oi[oldLabels[i]]]++;
        var match = Remapping.LinearAssignment.Solve(counts, reruns.Length, olds.Length, maximize: true);
        for (int k = 0; k < match.RowIndices.Length; k++)
        {
            int r = match.RowIndices[k], o = match.ColumnIndices[k];
            if (counts[r * olds.Length + o] > 0) map[reruns[r]] = olds[o];
        }
        return map;
    }

    /// <summary>
    /// Majority map from re-run cluster labels to old cluster labels: for each re-run cluster (label &gt;= 0), the
    /// old label (&gt;= 0) most of its old items carry. Re-run clusters without old clustered items are absent.
    /// </summary>
    /// <param name="oldLabels">Old labels of the old items (-1 noise).</param>
    /// <param name="rerunLabelsOfOld">Re-run labels of the same old items, same order.</param>
    public static IReadOnlyDictionary<int, int> MajorityMap(IReadOnlyList<int> oldLabels, IReadOnlyList<int> rerunLabelsOfOld)
    {
        ArgumentNullException.ThrowIfNull(oldLabels);
        ArgumentNullException.ThrowIfNull(rerunLabelsOfOld);
        if (oldLabels.Count != rerunLabelsOfOld.Count)
            throw new ArgumentException($"rerunLabelsOfOld has {rerunLabelsOfOld.Count} entries; oldLabels has {oldLabels.Count}.", nameof(rerunLabelsOfOld));
        var votes = new Dictionary<(int Rerun, int Old), int>();
        for (int i = 0; i < oldLabels.Count; i++)
        {
            if (oldLabels[i] < 0 || rerunLabelsOfOld[i] < 0) continue;
            var key = (rerunLabelsOfOld[i], oldLabels[i]);
            votes[key] = votes.GetValueOrDefault(key) + 1;
        }
        var map = new Dictionary<int, int>();
        foreach (var g in votes.GroupBy(kv => kv.Key.Rerun))
            map[g.Key] = g.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Old).First().Key.Old;
        return map;
    }

    /// <summary>
    /// Compares online answers with the re-run. An online ID counts as "an old cluster" when it is one of the old
    /// cluster labels (&gt;= 0 in <paramref name="oldLabels"/>); anything else (a fresh ID, or a noise singleton's
    /// ID) counts as "not an old cluster".
    /// </summary>
    /// <param name="assigner">Name for the record.</param>
    /// <param name="eps">Eps, for the record.</param>
    /// <param name="oldLabels">Labels of the old items from the initial clustering (-1 noise); an old cluster's ID is its label.</param>
    /// <param name="rerunLabels">Labels of the re-run on old items followed by new items (length old + new).</param>
    /// <param name="assignedIds">Cluster IDs the assigner gave the new items, in the same order.</param>
    /// <param name="mapping">How re-run clusters get old IDs.</param>
    public static AssignmentDiagnostics Compare(string assigner, double eps, IReadOnlyList<int> oldLabels,
        IReadOnlyList<int> rerunLabels, IReadOnlyList<int> assignedIds, TruthMapping mapping = TruthMapping.Hungarian)
    {
        ArgumentNullException.ThrowIfNull(assigner);
        ArgumentNullException.ThrowIfNull(oldLabels);
        ArgumentNullException.ThrowIfNull(rerunLabels);
        ArgumentNullException.ThrowIfNull(assignedIds);
        int nOld = oldLabels.Count, nNew = assignedIds.Count;
        if (rerunLabels.Count != nOld + nNew)
            throw new ArgumentException(
                $"rerunLabels has {rerunLabels.Count} entries; expected old ({nOld}) + new ({nNew}) = {nOld + nNew}.", nameof(rerunLabels));
        if (!Enum.IsDefined(mapping))
            throw new ArgumentOutOfRangeException(nameof(mapping), mapping, "mapping must be Hungarian or Majority.");
        var rerunOld = rerunLabels.Take(nOld).ToArray();
        var map = mapping == TruthMapping.Hungarian ? HungarianMap(oldLabels, rerunOld) : MajorityMap(oldLabels, rerunOld);
        var oldClusters = oldLabels.Where(l => l >= 0).ToHashSet();
        int truthOld = 0, same = 0, missed = 0, mergedOther = 0, mergedNew = 0;
        for (int i = 0; i < nNew; i++)
        {
            int r = rerunLabels[nOld + i];
            int truth = r >= 0 && map.TryGetValue(r, out int k) ? k : -1; // -1: not an old cluster
            int a = assignedIds[i];
            int pred = oldClusters.Contains(a) ? a : -1;
            if (truth >= 0) truthOld++;
            if (truth == pred) same++;
            else if (pred < 0) missed++;
            else if (truth >= 0) mergedOther++;
            else mergedNew++;
        }
        return new AssignmentDiagnostics(assigner, eps, nNew, truthOld, nNew - truthOld, same, missed, mergedOther, mergedNew);
    }

    /// <summary>
    /// Failure 2 per cluster of a clustering: the centre is the member mean; it lies outside the cluster when no
    /// core point of the cluster is within eps of it. Also counts the members farther than eps from the centre.
    /// </summary>
    /// <param name="x">n x d embeddings.</param>
    /// <param name="labels">n labels (-1 noise).</param>
    /// <param name="coreSampleIndices">Rows that are core points.</param>
    /// <param name="eps">The clustering's eps.</param>
    /// <param name="metric">The clustering's metric.</param>
    public static IReadOnlyList<CentreDiagnostics> Centres(EmbeddingMatrix x, IReadOnlyList<int> labels,
        IReadOnlyList<int> coreSampleIndices, double eps, DistanceMetric metric = DistanceMetric.Cosine)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(coreSampleIndices);
        AssignerChecks.ValidateEps(eps, metric);
        if (labels.Count != x.Count)
            throw new ArgumentException($"labels has {labels.Count} entries but x has {x.Count} rows.", nameof(labels));
        int d = x.Dimension;
        var isCore = new bool[x.Count];
        foreach (int c in coreSampleIndices)
        {
            if ((uint)c >= (uint)x.Count)
                throw new ArgumentOutOfRangeException(nameof(coreSampleIndices), c, $"core sample index must be in [0, {x.Count}).");
            isCore[c] = true;
        }
        var members = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < x.Count; i++)
        {
            if (labels[i] < 0) continue;
            if (!members.TryGetValue(labels[i], out var list)) members[labels[i]] = list = [];
            list.Add(i);
        }
        var result = new CentreDiagnostics[members.Count];
        var keys = members.Keys.ToArray();
        Parallel.For(0, keys.Length, ci =>
        {
            var rows = members[keys[ci]];
            var centre = new double[d];
            foreach (int i in rows)
            {
                var r = x.Data.AsSpan(i * d, d);
                for (int k = 0; k < d; k++) centre[k] += r[k];
            }
            for (int k = 0; k < d; k++) centre[k] /= rows.Count;
            double cn = OnlineKernels.Norm(centre);
            double nearCore = double.PositiveInfinity, far = 0;
            int cores = 0, beyond = 0;
            foreach (int i in rows)
            {
                var r = x.Data.AsSpan(i * d, d);
                double dist = OnlineKernels.Distance(metric, r, OnlineKernels.Norm(r), centre, cn);
                far = Math.Max(far, dist);
                if (dist > eps) beyond++;
                if (isCore[i]) { cores++; nearCore = Math.Min(nearCore, dist); }
            }
            result[ci] = new CentreDiagnostics(keys[ci], rows.Count, cores, nearCore, !(nearCore <= eps), far, beyond);
        });
        return result;
    }

    /// <summary>Sums <see cref="Centres"/> over the clusters; <paramref name="totalItems"/> counts noise too.</summary>
    public static CentreSummary Summarise(IReadOnlyList<CentreDiagnostics> clusters, int totalItems)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        return new CentreSummary(clusters.Count, clusters.Count(c => c.CentreOutside), clusters.Sum(c => c.Size),
            clusters.Where(c => c.CentreOutside).Sum(c => c.Size), totalItems, clusters.Sum(c => c.MembersBeyondEps));
    }
}

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
    /// <param name="progress">Fraction done, 0 to 1.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    public static OnlineEvaluation Evaluate(EmbeddingMatrix x, int initCount, DbscanOptions options,
        TruthMapping mapping = TruthMapping.Hungarian, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
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

        var first = Dbscan.Fit(init, options, Scale(progress, 0, 0.3), cancellationToken);
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
            progress?.Report(0.3 + 0.1 * (k + 1));
        }
        var rerun = Dbscan.Fit(x, options, Scale(progress, 0.6, 0.35), cancellationToken);
        var diags = Enumerable.Range(0, AssignerNames.Count)
            .Select(k => OnlineDiagnostics.Compare(AssignerNames[k], options.Eps, first.Labels, rerun.Labels, assigned[k], mapping)).ToArray();
        var initialCentres = OnlineDiagnostics.Centres(init, first.Labels, first.CoreSampleIndices, options.Eps, options.Metric);
        var rerunCentres = OnlineDiagnostics.Centres(x, rerun.Labels, rerun.CoreSampleIndices, options.Eps, options.Metric);
        progress?.Report(1.0);
        return new OnlineEvaluation(options.Eps, mapping, options.MinSamples, options.Metric, initCount, nNew,
            first.ClusterCount, first.NoiseCount, tables.ClusterCount, rerun.ClusterCount, rerun.NoiseCount, runs, diags,
            OnlineDiagnostics.Summarise(initialCentres, initCount), OnlineDiagnostics.Summarise(rerunCentres, n), initialCentres);
    }

    /// <summary><see cref="Evaluate"/> for each eps (the notebook's sweep), same minSamples and metric.</summary>
    public static IReadOnlyList<OnlineEvaluation> Sweep(EmbeddingMatrix x, int initCount, IReadOnlyList<double> epsValues,
        int minSamples = 3, DistanceMetric metric = DistanceMetric.Cosine, TruthMapping mapping = TruthMapping.Hungarian,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(epsValues);
        if (epsValues.Count == 0)
            throw new ArgumentException("epsValues is empty: give at least one eps.", nameof(epsValues));
        foreach (double e in epsValues) new DbscanOptions(e, minSamples, metric).Validate(); // all checked before any work
        var result = new List<OnlineEvaluation>();
        for (int i = 0; i < epsValues.Count; i++)
            result.Add(Evaluate(x, initCount, new DbscanOptions(epsValues[i], minSamples, metric), mapping,
                Scale(progress, (double)i / epsValues.Count, 1.0 / epsValues.Count), cancellationToken));
        return result;
    }

    private static IProgress<double>? Scale(IProgress<double>? p, double from, double width) =>
        p is null ? null : new Scaled(p, from, width);

    private sealed class Scaled(IProgress<double> inner, double from, double width) : IProgress<double>
    {
        public void Report(double value) => inner.Report(from + width * Math.Clamp(value, 0, 1));
    }
}
