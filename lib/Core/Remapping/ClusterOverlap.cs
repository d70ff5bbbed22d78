using LabelAssignment.Ids;

namespace LabelAssignment.Remapping;

/// <summary>One old/new cluster pair that shares at least one item.</summary>
/// <param name="OldIndex">Index into <see cref="ClusterOverlap.OldClusterIds"/>.</param>
/// <param name="NewIndex">Index into <see cref="ClusterOverlap.NewClusterIds"/>.</param>
/// <param name="Intersection">Items labelled with the old cluster yesterday and with the new one today.</param>
/// <param name="Jaccard">|A ∩ B| / |A ∪ B| over the items both days share, in (0, 1].</param>
public readonly record struct OverlapEntry(int OldIndex, int NewIndex, int Intersection, double Jaccard);

/// <summary>
/// Sample overlap between yesterday's and today's clusters (the article's first measure): for every pair of an old and
/// a new cluster, how many items they share and their Jaccard similarity. Stored sparsely: only pairs that share an
/// item have an entry (most pairs never overlap).
/// </summary>
/// <remarks>
/// <para><b>Which items count.</b> Only items present on both days (matched by item id) enter the counts, both the
/// intersection and the cluster sizes in the union: A = the shared items yesterday's cluster held, B = the shared items
/// today's cluster holds, Jaccard = |A ∩ B| / (|A| + |B| - |A ∩ B|). An item that disappeared says nothing about
/// whether today's cluster is yesterday's, and a new item could not have been in yesterday's cluster; counting either
/// would make churn look like cluster change (a cluster that kept every surviving item would score below 1, by however
/// much of it churned), so a fixed threshold would then mean different things on different days.</para>
/// <para><b>Noise.</b> Label -1 is noise, not a cluster: it gets no row or column and no entry. A shared item that was in
/// cluster A yesterday and is noise today still counts in |A| (the cluster lost it), and vice versa.</para>
/// </remarks>
/// <param name="OldClusterIds">Yesterday's cluster IDs (every label except -1, including clusters none of whose items
/// survived), ascending.</param>
/// <param name="NewClusterIds">Today's cluster labels (except -1), ascending.</param>
/// <param name="OldSizes">Shared items per old cluster (|A|), aligned with <paramref name="OldClusterIds"/>.</param>
/// <param name="NewSizes">Shared items per new cluster (|B|), aligned with <paramref name="NewClusterIds"/>.</param>
/// <param name="SharedItems">Items present on both days, noise included.</param>
/// <param name="Entries">Every pair with a non-zero intersection, sorted by old index then new index.</param>
public sealed record ClusterOverlap(
    int[] OldClusterIds, int[] NewClusterIds, int[] OldSizes, int[] NewSizes, int SharedItems, OverlapEntry[] Entries)
{
    /// <summary>
    /// Computes the overlap of two labellings joined by item id (<see cref="Labeling.Join"/>): one pass over the
    /// shared items, then the non-zero pairs (at most one per shared item) are sorted.
    /// </summary>
    /// <param name="yesterday">Yesterday's items and their final cluster IDs (-1 noise).</param>
    /// <param name="today">Today's items and labels (-1 noise); the item sets may differ.</param>
    public static ClusterOverlap Compute(Labeling yesterday, Labeling today) => Compute(Labeling.Join(yesterday, today));

    /// <summary>The overlap of two labellings already joined.</summary>
    public static ClusterOverlap Compute(JoinedLabelings shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        var (oldIds, oldIndexOf) = DenseClusters(shared.Yesterday);
        var (newIds, newIndexOf) = DenseClusters(shared.Today);
        var oldSizes = new int[oldIds.Length];
        var newSizes = new int[newIds.Length];
        // One (old, new) key per shared item in both clusters, sorted: runs of equal keys are the pairs. (Not a
        // Dictionary<long, int>: long's hash is high ^ low, so every diagonal key (o, o) hashed to 0 and identical
        // days with many clusters went quadratic.)
        var keys = new long[shared.Count];
        int pairCount = 0;
        var before = shared.YesterdayLabels;
        var after = shared.TodayLabels;
        for (int k = 0; k < shared.Count; k++)
        {
            int o = before[k] < 0 ? -1 : oldIndexOf[before[k]];
            int n = after[k] < 0 ? -1 : newIndexOf[after[k]];
            if (o >= 0) oldSizes[o]++;
            if (n >= 0) newSizes[n]++;
            if (o >= 0 && n >= 0) keys[pairCount++] = ((long)o << 32) | (uint)n;
        }
        var sorted = keys.AsSpan(0, pairCount);
        sorted.Sort();
        var list = new List<OverlapEntry>();
        for (int p = 0; p < pairCount;)
        {
            int q = p + 1;
            while (q < pairCount && sorted[q] == sorted[p]) q++;
            int o = (int)(sorted[p] >> 32), n = (int)(uint)sorted[p], inter = q - p;
            // long: two sizes may add up past int.MaxValue.
            list.Add(new OverlapEntry(o, n, inter, (double)inter / ((long)oldSizes[o] + newSizes[n] - inter)));
            p = q;
        }
        var entries = list.ToArray();
        return new ClusterOverlap(oldIds, newIds, oldSizes, newSizes, shared.Count, entries);
    }

    /// <summary>Items shared by old cluster <paramref name="oldClusterId"/> and new cluster <paramref name="newClusterId"/> (0 when none).</summary>
    public int Intersection(int oldClusterId, int newClusterId) => Find(oldClusterId, newClusterId)?.Intersection ?? 0;

    /// <summary>Jaccard similarity of the two clusters over the shared items (0 when they share none).</summary>
    public double Jaccard(int oldClusterId, int newClusterId) => Find(oldClusterId, newClusterId)?.Jaccard ?? 0.0;

    /// <summary>The dense old x new Jaccard matrix, row-major (what the assignment solver takes).</summary>
    /// <exception cref="InvalidOperationException">More old x new cells than an array can hold.</exception>
    public double[] JaccardMatrix()
    {
        long cells = (long)OldClusterIds.Length * NewClusterIds.Length;
        if (cells > Array.MaxLength)
            throw new InvalidOperationException(
                $"the dense {OldClusterIds.Length} x {NewClusterIds.Length} Jaccard matrix has {cells} cells, more than the {Array.MaxLength} an array can hold; read Entries (sparse) instead.");
        var m = new double[cells];
        foreach (var e in Entries) m[e.OldIndex * NewClusterIds.Length + e.NewIndex] = e.Jaccard;
        return m;
    }

    private OverlapEntry? Find(int oldClusterId, int newClusterId)
    {
        int o = Array.BinarySearch(OldClusterIds, oldClusterId);
        if (o < 0) throw new ArgumentException($"oldClusterId {oldClusterId} is not one of yesterday's clusters.", nameof(oldClusterId));
        int n = Array.BinarySearch(NewClusterIds, newClusterId);
        if (n < 0) throw new ArgumentException($"newClusterId {newClusterId} is not one of today's clusters.", nameof(newClusterId));
        int lo = 0, hi = Entries.Length - 1;
        long key = ((long)o << 32) | (uint)n;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            long k = ((long)Entries[mid].OldIndex << 32) | (uint)Entries[mid].NewIndex;
            if (k == key) return Entries[mid];
            if (k < key) lo = mid + 1; else hi = mid - 1;
        }
        return null;
    }

    private static (int[] Ids, Dictionary<int, int> IndexOf) DenseClusters(Labeling labeling)
    {
        var ids = labeling.ClusterIds.ToArray();
        var indexOf = new Dictionary<int, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++) indexOf[ids[i]] = i;
        return (ids, indexOf);
    }
}
