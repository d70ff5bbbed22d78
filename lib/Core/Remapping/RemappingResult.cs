using LabelAssignment.Ids;
using LabelAssignment.Metrics;
using LabelAssignment.Numerics;

namespace LabelAssignment.Remapping;

/// <summary>Which measure matched today's clusters to yesterday's.</summary>
public enum RemappingMeasure
{
    /// <summary>Sample overlap: Hungarian maximising Jaccard similarity; the score is the Jaccard similarity.</summary>
    Overlap,

    /// <summary>Centroid distance: Hungarian minimising centre distance; the score is the centre similarity.</summary>
    Centroids,
}

/// <summary>One pair the assignment matched: a new cluster and the old cluster it was paired with.</summary>
/// <param name="NewLabel">Today's label of the cluster.</param>
/// <param name="OldId">Yesterday's ID of the cluster it was paired with.</param>
/// <param name="Score">Similarity in [0, 1]: Jaccard for overlap, centre similarity for centroids.</param>
/// <param name="Distance">The centre distance (centroid measure); null for overlap.</param>
/// <param name="Kept">Whether the score cleared the threshold, so the new cluster kept <paramref name="OldId"/>.</param>
public sealed record ClusterMatch(int NewLabel, int OldId, double Score, double? Distance, bool Kept);

/// <summary>Options of <see cref="LabelRemapper"/>: <c>new RemappingOptions { OverlapThreshold = 0.6 }</c>.</summary>
public sealed record RemappingOptions
{
    /// <summary>
    /// The Jaccard similarity a sample-overlap pair must exceed (strictly) to keep its old ID; default 0.5. Above 0.5
    /// a pair is unambiguous: J(A, B) &gt; 1/2 means A and B share more than half of A, so no other cluster disjoint
    /// from B can also clear it with A (and likewise for B). Jaccard is a different scale from the centre similarity,
    /// where 0.95 is the article's value.
    /// </summary>
    public double OverlapThreshold { get; init; } = DefaultOverlapThreshold;

    /// <summary>The centre similarity a centroid pair must exceed (strictly) to keep its old ID; default the article's 0.95.</summary>
    public double CentroidThreshold { get; init; } = CentroidMatcher.ArticleThreshold;

    /// <summary>How fresh IDs are chosen (default: the smallest IDs no old or kept cluster holds, the article's rule).</summary>
    public IdReusePolicy Policy { get; init; } = IdReusePolicy.SmallestFree;

    /// <summary>Largest ID ever issued before (persist <see cref="RemappingResult.HighWaterMark"/>); -1 for none.
    /// Under <see cref="IdReusePolicy.NeverReuse"/> fresh IDs are above it.</summary>
    public int HighWaterMark { get; init; } = -1;

    /// <summary>Distance between centres for <see cref="LabelRemapper.ByCentroids(ClusterCentres, ClusterCentres, RemappingOptions?)"/>
    /// (default cosine, the library's default metric).</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>The default <see cref="OverlapThreshold"/>.</summary>
    public const double DefaultOverlapThreshold = 0.5;

    /// <summary>The defaults: overlap threshold 0.5, centroid threshold 0.95, smallest free IDs, cosine.</summary>
    public static RemappingOptions Default { get; } = new();

    /// <summary>The threshold of <paramref name="measure"/>: <see cref="OverlapThreshold"/> or <see cref="CentroidThreshold"/>.</summary>
    public double ThresholdFor(RemappingMeasure measure) => measure switch
    {
        RemappingMeasure.Overlap => OverlapThreshold,
        RemappingMeasure.Centroids => CentroidThreshold,
        _ => throw new ArgumentOutOfRangeException(nameof(measure), measure, "measure must be Overlap or Centroids."),
    };

    /// <summary>Throws naming the first invalid option (the message and ParamName use the property name).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A threshold outside [0, 1] (or NaN), an unknown policy or metric,
    /// or a high-water mark below -1.</exception>
    public void Validate()
    {
        if (!(OverlapThreshold >= 0 && OverlapThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(OverlapThreshold), OverlapThreshold,
                "OverlapThreshold must be in [0, 1] (Jaccard similarities are in [0, 1]).");
        if (!(CentroidThreshold >= 0 && CentroidThreshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(CentroidThreshold), CentroidThreshold,
                "CentroidThreshold must be in [0, 1] (centre similarities are in [0, 1]).");
        if (!Enum.IsDefined(Policy))
            throw new ArgumentOutOfRangeException(nameof(Policy), Policy, "Policy must be SmallestFree or NeverReuse.");
        if (HighWaterMark < -1)
            throw new ArgumentOutOfRangeException(nameof(HighWaterMark), HighWaterMark, "HighWaterMark must be >= -1 (-1: nothing issued yet).");
        if (!Enum.IsDefined(Metric))
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Metric must be Euclidean or Cosine.");
    }
}

/// <summary>
/// The outcome of one remap: which final ID each of today's clusters carries, and the evidence (every matched pair with
/// its score, kept or rejected), the IDs created and the IDs retired.
/// </summary>
/// <param name="Measure">The measure used.</param>
/// <param name="Threshold">The threshold a score had to exceed.</param>
/// <param name="Policy">How fresh IDs were chosen.</param>
/// <param name="FinalIdByLabel">Today's label -> final cluster ID, for every one of today's clusters (noise excluded).</param>
/// <param name="Matches">Every pair the assignment produced, by ascending new label; <see cref="ClusterMatch.Kept"/> tells which kept their old ID.</param>
/// <param name="OldIds">Yesterday's cluster IDs, ascending.</param>
/// <param name="KeptIds">Old IDs carried over to a new cluster, ascending.</param>
/// <param name="CreatedIds">Fresh IDs given to new clusters, ascending; none is an old ID.</param>
/// <param name="RetiredIds">Old IDs no longer live (their cluster matched nothing above the threshold), ascending.</param>
/// <param name="HighWaterMark">Largest ID ever issued or seen after this remap: persist it for the next day.</param>
public sealed record RemappingResult(
    RemappingMeasure Measure, double Threshold, IdReusePolicy Policy,
    IReadOnlyDictionary<int, int> FinalIdByLabel, IReadOnlyList<ClusterMatch> Matches,
    int[] OldIds, int[] KeptIds, int[] CreatedIds, int[] RetiredIds, int HighWaterMark)
{
    /// <summary>Fraction of today's clusters that kept an old ID.</summary>
    public double KeptFraction => FinalIdByLabel.Count == 0 ? 0 : (double)KeptIds.Length / FinalIdByLabel.Count;

    /// <summary>The final ID of today's label <paramref name="label"/>; -1 (noise) stays -1.</summary>
    /// <exception cref="ArgumentException">The label is none of today's clusters.</exception>
    public int FinalId(int label)
    {
        if (label == -1) return -1;
        if (FinalIdByLabel.TryGetValue(label, out int id)) return id;
        throw new ArgumentException($"label {label} is not one of today's clusters ({FinalIdByLabel.Count} known; -1 is noise).", nameof(label));
    }

    /// <summary>Today's labels rewritten as final IDs (a new array); noise (-1) stays -1.</summary>
    /// <exception cref="ArgumentException">A label is not one of today's clusters (its index is named).</exception>
    public int[] Apply(ReadOnlySpan<int> todaysLabels)
    {
        var result = new int[todaysLabels.Length];
        for (int k = 0; k < todaysLabels.Length; k++)
        {
            int label = todaysLabels[k];
            if (label == -1) { result[k] = -1; continue; }
            if (!FinalIdByLabel.TryGetValue(label, out int id))
                throw new ArgumentException(
                    $"todaysLabels[{k}] = {label} is not one of today's clusters this remap knows ({FinalIdByLabel.Count} of them; -1 is noise).",
                    nameof(todaysLabels));
            result[k] = id;
        }
        return result;
    }

    /// <summary>
    /// The match rate after this remap (<see cref="ClusteringMetrics.MatchRate(ContingencyTable)"/>, the one
    /// definition): of the items on both days that were in a cluster yesterday, the share whose final ID today (this
    /// result applied to <paramref name="today"/>'s labels) equals yesterday's ID. Yesterday's noise is left out;
    /// an item that is noise today is a miss. This is what the downstream model sees: the share of items whose ID
    /// feature still points at the same embedding row. Works for either measure.
    /// </summary>
    /// <param name="yesterday">Yesterday's items and final IDs (-1 noise), as given to the remapper.</param>
    /// <param name="today">Today's items and clustering labels (-1 noise), as given to the remapper.</param>
    /// <exception cref="ArgumentException">A label of today this remap does not know, no shared item, or no shared
    /// item in a cluster yesterday.</exception>
    public double MatchRate(Labeling yesterday, Labeling today)
    {
        ArgumentNullException.ThrowIfNull(today);
        return ClusteringMetrics.MatchRate(Labeling.Join(yesterday, new Labeling(today.ItemIds, Apply(today.Labels))));
    }

    /// <summary>
    /// This result with fresh IDs for more of today's clusters that the measure could not pair, e.g. DBSCAN noise
    /// points under the centroid measure (a singleton has no centre table row). The IDs are drawn as the remap draws
    /// its own: in ascending label order, never equal to an old ID (retired ones included) or an ID already issued,
    /// so the outcome is the remap's had those labels been unmatched columns of its assignment, when they are all
    /// above today's other labels.
    /// </summary>
    /// <param name="labels">Labels not yet in <see cref="FinalIdByLabel"/>, each &gt;= 0.</param>
    /// <exception cref="ArgumentException">A label already mapped, negative or given twice.</exception>
    public RemappingResult WithFreshIds(IEnumerable<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var sorted = labels.ToArray();
        Array.Sort(sorted);
        for (int k = 0; k < sorted.Length; k++)
        {
            if (sorted[k] < 0)
                throw new ArgumentException($"labels holds {sorted[k]}: labels are >= 0 (-1 noise gets its own label first).", nameof(labels));
            if (FinalIdByLabel.ContainsKey(sorted[k]) || (k > 0 && sorted[k] == sorted[k - 1]))
                throw new ArgumentException($"labels holds {sorted[k]}, which is already mapped or given twice.", nameof(labels));
        }
        var allocator = new ClusterIdAllocator(OldIds.Concat(FinalIdByLabel.Values), Policy, HighWaterMark);
        var final = new SortedDictionary<int, int>(FinalIdByLabel.ToDictionary());
        var created = new List<int>(CreatedIds);
        foreach (int label in sorted)
        {
            int id = allocator.Allocate();
            final[label] = id;
            created.Add(id);
        }
        created.Sort();
        return this with { FinalIdByLabel = final, CreatedIds = [.. created], HighWaterMark = allocator.HighWaterMark };
    }

    /// <summary>An allocator holding today's final IDs as live and this remap's high-water mark, to save for tomorrow.</summary>
    public ClusterIdAllocator ToAllocator() => new(FinalIdByLabel.Values, Policy, HighWaterMark);
}
