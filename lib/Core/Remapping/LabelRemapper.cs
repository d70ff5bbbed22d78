using LabelAssignment.Numerics;
using LabelAssignment.Ids;

namespace LabelAssignment.Remapping;

/// <summary>
/// Keeps cluster IDs stable across re-clustering (the article's section 2): today's clusters are paired with
/// yesterday's by an optimal assignment (Hungarian) under sample overlap or centroid distance; a pair whose score is
/// above the threshold keeps the old ID, and every other new cluster gets a fresh ID that no old cluster holds
/// (<see cref="ClusterIdAllocator"/>). Old IDs that nothing kept are retired.
/// </summary>
public static class LabelRemapper
{
    /// <summary>Remaps by sample overlap: maximise total Jaccard similarity, keep pairs whose Jaccard is above
    /// <see cref="RemappingOptions.OverlapThreshold"/>.</summary>
    /// <param name="yesterday">Yesterday's items and final cluster IDs (-1 noise).</param>
    /// <param name="today">Today's items (may differ from yesterday's) and fresh clustering labels (-1 noise).</param>
    /// <param name="options">Threshold and ID policy; null for the defaults.</param>
    /// <exception cref="ArgumentException">Among others: no item shared by both days.</exception>
    public static RemappingResult ByOverlap(Labeling yesterday, Labeling today, RemappingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(yesterday);
        ArgumentNullException.ThrowIfNull(today);
        (options ?? RemappingOptions.Default).Validate();
        return ByOverlap(ClusterOverlap.Compute(yesterday, today), options);
    }

    /// <summary>Remaps from an overlap already computed (dense up to <see cref="DenseCellLimit"/> cells, sparse above).</summary>
    public static RemappingResult ByOverlap(ClusterOverlap overlap, RemappingOptions? options = null) => ByOverlap(overlap, options, sparse: false);

    /// <summary>Remaps from an overlap; <paramref name="sparse"/> forces the sparse solver at any size.</summary>
    internal static RemappingResult ByOverlap(ClusterOverlap overlap, RemappingOptions? options, bool sparse)
    {
        ArgumentNullException.ThrowIfNull(overlap);
        var o = options ?? RemappingOptions.Default;
        o.Validate();
        RequireClusters(overlap.OldClusterIds, overlap.NewClusterIds, "yesterday", "today");
        foreach (var e in overlap.Entries)
            if ((uint)e.OldIndex >= (uint)overlap.OldClusterIds.Length || (uint)e.NewIndex >= (uint)overlap.NewClusterIds.Length
                || !(e.Jaccard > 0 && e.Jaccard <= 1))
                throw new ArgumentException(
                    $"overlap holds the entry (old index {e.OldIndex}, new index {e.NewIndex}, Jaccard {e.Jaccard}): indices must be within " +
                    $"{overlap.OldClusterIds.Length} old x {overlap.NewClusterIds.Length} new clusters and Jaccard in (0, 1].", nameof(overlap));
        if (overlap.SharedItems == 0)
            throw new ArgumentException(
                "yesterday and today share no item: sample overlap needs items labelled on both days (use ByCentroids, or check the ids).",
                "today");
        int rows = overlap.OldClusterIds.Length, cols = overlap.NewClusterIds.Length;
        if (!sparse && (long)rows * cols <= DenseCellLimit)
        {
            // Only the dense path allocates rows x cols; above the limit the sparse path needs no such matrix.
            RequireDenseFits(rows, cols, nameof(overlap));
            var jaccard = overlap.JaccardMatrix();
            var assignment = LinearAssignment.Solve(jaccard, rows, cols, maximize: true);
            return Build(RemappingMeasure.Overlap, o, overlap.OldClusterIds, overlap.NewClusterIds, assignment,
                (i, j) => (jaccard[i * cols + j], null));
        }

        // Sparse path: only pairs that share an item can be matched; the same optimal total as the dense solver (whose
        // extra pairs all score 0), without the rows x columns matrix.
        var entries = overlap.Entries;
        var er = new int[entries.Length];
        var ec = new int[entries.Length];
        var w = new double[entries.Length];
        for (int e = 0; e < entries.Length; e++) (er[e], ec[e], w[e]) = (entries[e].OldIndex, entries[e].NewIndex, entries[e].Jaccard);
        var sp = SparseAssignment.Solve(rows, cols, er, ec, w);
        var score = new Dictionary<long, double>(sp.Count);
        for (int k = 0; k < sp.Count; k++) score[((long)sp.RowIndices[k] << 32) | (uint)sp.ColumnIndices[k]] = overlap.Jaccard(
            overlap.OldClusterIds[sp.RowIndices[k]], overlap.NewClusterIds[sp.ColumnIndices[k]]);
        return Build(RemappingMeasure.Overlap, o, overlap.OldClusterIds, overlap.NewClusterIds,
            new LinearAssignmentResult(sp.RowIndices, sp.ColumnIndices, sp.TotalWeight),
            (i, j) => (score[((long)i << 32) | (uint)j], null));
    }

    /// <summary>Above this many old x new cells the overlap remap solves on the sparse overlap graph
    /// (<see cref="SparseAssignment"/>) instead of a dense Jaccard matrix (2^25 cells = 256 MB of doubles, past
    /// k = 5,000 on both days, so every result of the dense era stays the same). On the sparse path
    /// <see cref="RemappingResult.Matches"/> lists only pairs that share items (the dense solver also pairs leftover
    /// clusters at Jaccard 0, never kept).</summary>
    public const long DenseCellLimit = 1L << 25;

    /// <summary>Remaps by centroid distance: minimise total centre distance, keep pairs whose similarity is above
    /// <see cref="RemappingOptions.CentroidThreshold"/>.</summary>
    /// <param name="yesterday">Yesterday's centres keyed by final cluster ID.</param>
    /// <param name="today">Today's centres keyed by label (same dimension).</param>
    /// <param name="options">Threshold, metric and ID policy; null for the defaults.</param>
    public static RemappingResult ByCentroids(ClusterCentres yesterday, ClusterCentres today, RemappingOptions? options = null)
    {
        var o = options ?? RemappingOptions.Default;
        o.Validate();
        return ByCentroids(CentroidMatcher.Compute(yesterday, today, o.Metric), o);
    }

    /// <summary>Remaps from centre distances already computed (their metric is used, not the options').</summary>
    /// <exception cref="ArgumentException">Among others: a distance that is not finite and &gt;= 0 (named with its row
    /// and column, against <paramref name="distances"/>).</exception>
    public static RemappingResult ByCentroids(CentroidDistances distances, RemappingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(distances);
        var o = options ?? RemappingOptions.Default;
        o.Validate();
        RequireClusters(distances.OldClusterIds, distances.NewClusterIds, "yesterday", "today");
        int cols = distances.NewClusterIds.Length;
        long cells = (long)distances.OldClusterIds.Length * cols;
        if (distances.Distances.Length != cells || distances.Similarities.Length != cells)
            throw new ArgumentException(
                $"distances holds {distances.Distances.Length} distances and {distances.Similarities.Length} similarities; " +
                $"{distances.OldClusterIds.Length} old x {cols} new clusters need {cells} of each.", nameof(distances));
        // Distances between finite centres are finite and >= 0: anything else is the caller's, named as such (the
        // solver would report it against its own parameter).
        for (long c = 0; c < cells; c++)
            if (!(double.IsFinite(distances.Distances[c]) && distances.Distances[c] >= 0))
                throw new ArgumentException(
                    $"distances holds the distance {distances.Distances[c].ToString(System.Globalization.CultureInfo.InvariantCulture)} at " +
                    $"row {c / cols}, column {c % cols} (old {distances.OldClusterIds[c / cols]}, new {distances.NewClusterIds[c % cols]}): " +
                    "distances must be finite and >= 0.", nameof(distances));
        var assignment = LinearAssignment.Solve(distances.Distances, distances.OldClusterIds.Length, cols);
        return Build(RemappingMeasure.Centroids, o, distances.OldClusterIds, distances.NewClusterIds, assignment,
            (i, j) => (distances.Similarities[i * cols + j], distances.Distances[i * cols + j]));
    }

    /// <summary>
    /// Throws when the dense old x new matrix the assignment solves cannot be allocated: more cells than an array
    /// holds, or more memory (the matrix and the solver's copy) than the process may use. A sparse solver would be
    /// needed for that many clusters.
    /// </summary>
    private static void RequireDenseFits(int oldCount, int newCount, string paramName)
    {
        long cells = (long)oldCount * newCount;
        long bytes = 2 * cells * sizeof(double);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        string what = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"yesterday has {oldCount} clusters and today {newCount}: the dense {oldCount} x {newCount} matrix the assignment solves has {cells} cells");
        if (cells > Array.MaxLength)
            throw new ArgumentException($"{what}, more than the {Array.MaxLength} an array can hold. Remap fewer clusters at a time (for instance without singletons).", paramName);
        if (available > 0 && bytes > available)
            throw new ArgumentException(
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{what} and needs {bytes / 1e9:F1} GB (it and the solver's copy), more than the {available / 1e9:F1} GB available. Remap fewer clusters at a time."),
                paramName);
    }

    private static void RequireClusters(int[] oldIds, int[] newIds, string oldName, string newName)
    {
        // An empty mapping is never a silent answer: no cluster today (or yesterday) is a caller's mistake to report.
        if (newIds.Length == 0)
            throw new ArgumentException($"{newName} holds no cluster (every item is noise, -1): nothing to remap.", newName);
        if (oldIds.Length == 0)
            throw new ArgumentException($"{oldName} holds no cluster (every item is noise, -1): there are no old IDs to keep.", oldName);
        foreach (int id in oldIds)
            if (id < 0)
                throw new ArgumentOutOfRangeException(oldName, id, "old cluster IDs must be >= 0.");
    }

    private static RemappingResult Build(
        RemappingMeasure measure, RemappingOptions o, int[] oldIds, int[] newLabels, LinearAssignmentResult assignment,
        Func<int, int, (double Score, double? Distance)> score)
    {
        double threshold = o.ThresholdFor(measure);
        var oldSorted = oldIds.Order().ToArray();
        var allocator = new ClusterIdAllocator(oldIds, o.Policy, o.HighWaterMark);
        var finalByLabel = new Dictionary<int, int>(newLabels.Length);
        var matches = new List<ClusterMatch>(assignment.Count);
        var kept = new HashSet<int>();
        for (int k = 0; k < assignment.Count; k++)
        {
            int i = assignment.RowIndices[k], j = assignment.ColumnIndices[k];
            var (s, dist) = score(i, j);
            bool keep = s > threshold;
            matches.Add(new ClusterMatch(newLabels[j], oldIds[i], s, dist, keep));
            if (keep)
            {
                finalByLabel[newLabels[j]] = oldIds[i];
                kept.Add(oldIds[i]);
            }
        }
        matches.Sort((a, b) => a.NewLabel.CompareTo(b.NewLabel));

        // Fresh IDs, in ascending order of today's label so the outcome is deterministic. Every old ID is still live
        // while they are drawn, so no fresh ID equals an old one (the article: "not used by the old or new model").
        var created = new List<int>();
        foreach (int label in newLabels.Order())
        {
            if (finalByLabel.ContainsKey(label)) continue;
            int id = allocator.Allocate();
            finalByLabel[label] = id;
            created.Add(id);
        }
        var retired = oldSorted.Where(id => !kept.Contains(id)).ToArray();
        foreach (int id in retired) allocator.Retire(id);

        return new RemappingResult(measure, threshold, o.Policy, new SortedDictionary<int, int>(finalByLabel), matches, oldSorted,
            [.. kept.Order()], [.. created], retired, allocator.HighWaterMark);
    }
}
