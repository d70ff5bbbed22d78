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
    /// One-to-one: the Hungarian assignment (<see cref="Numerics.LinearAssignment"/>) maximising the number of
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
        var match = Numerics.LinearAssignment.Solve(counts, reruns.Length, olds.Length, maximize: true);
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
            double cn = DistanceKernels.Norm(centre);
            double nearCore = double.PositiveInfinity, far = 0;
            int cores = 0, beyond = 0;
            foreach (int i in rows)
            {
                var r = x.Data.AsSpan(i * d, d);
                double dist = DistanceKernels.Distance(metric, r, DistanceKernels.Norm(r), centre, cn);
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
