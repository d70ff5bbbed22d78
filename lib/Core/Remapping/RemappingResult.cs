using LabelAssignment.Ids;
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

/// <summary>Options of <see cref="LabelRemapper"/>.</summary>
public sealed record RemappingOptions
{
    /// <summary>A matched pair keeps the old ID when its score is strictly above this (the article: 0.95).</summary>
    public double Threshold { get; init; } = CentroidMatcher.ArticleThreshold;

    /// <summary>How fresh IDs are chosen (default: the smallest IDs no old or kept cluster holds, the article's rule).</summary>
    public IdReusePolicy Policy { get; init; } = IdReusePolicy.SmallestFree;

    /// <summary>Largest ID ever issued before (persist <see cref="RemappingResult.HighWaterMark"/>); -1 for none.
    /// Under <see cref="IdReusePolicy.NeverReuse"/> fresh IDs are above it.</summary>
    public int HighWaterMark { get; init; } = -1;

    /// <summary>Distance between centres for <see cref="LabelRemapper.ByCentroids(Numerics.EmbeddingMatrix, int[], Numerics.EmbeddingMatrix, int[], RemappingOptions?)"/>.</summary>
    public Numerics.DistanceMetric Metric { get; init; } = Numerics.DistanceMetric.Euclidean;

    /// <summary>The defaults: threshold 0.95, smallest free IDs, euclidean.</summary>
    public static RemappingOptions Default { get; } = new();

    /// <summary>Throws naming the first invalid option.</summary>
    public RemappingOptions Validate()
    {
        if (!(Threshold >= 0 && Threshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "Threshold must be in [0, 1] (scores are similarities in [0, 1]).");
        if (!Enum.IsDefined(Policy))
            throw new ArgumentOutOfRangeException(nameof(Policy), Policy, "Policy must be SmallestFree or NeverReuse.");
        if (HighWaterMark < -1)
            throw new ArgumentOutOfRangeException(nameof(HighWaterMark), HighWaterMark, "HighWaterMark must be >= -1 (-1: nothing issued yet).");
        if (!Enum.IsDefined(Metric))
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Metric must be Euclidean or Cosine.");
        return this;
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
    /// Match rate at item level: of the items present on both days that were in a cluster yesterday, the fraction whose
    /// final ID today (this result applied to <paramref name="newLabels"/>) equals yesterday's ID. This is what the
    /// downstream model sees: the share of items whose ID feature still points at the same embedding row. Works for
    /// either measure.
    /// </summary>
    /// <param name="oldItemIds">Yesterday's item ids.</param>
    /// <param name="oldLabels">Yesterday's final IDs per item (-1 noise).</param>
    /// <param name="newItemIds">Today's item ids.</param>
    /// <param name="newLabels">Today's clustering labels per item (-1 noise), as passed to the remapper.</param>
    /// <exception cref="ArgumentException">Mismatched lengths, or no item is shared and clustered yesterday.</exception>
    public double MatchRate(ReadOnlySpan<long> oldItemIds, ReadOnlySpan<int> oldLabels, ReadOnlySpan<long> newItemIds, ReadOnlySpan<int> newLabels)
    {
        if (oldItemIds.Length != oldLabels.Length)
            throw new ArgumentException($"oldLabels has {oldLabels.Length} labels but oldItemIds has {oldItemIds.Length} items.", nameof(oldLabels));
        if (newItemIds.Length != newLabels.Length)
            throw new ArgumentException($"newLabels has {newLabels.Length} labels but newItemIds has {newItemIds.Length} items.", nameof(newLabels));
        var yesterday = new Dictionary<long, int>(oldItemIds.Length);
        for (int k = 0; k < oldItemIds.Length; k++)
            if (oldLabels[k] >= 0) yesterday[oldItemIds[k]] = oldLabels[k];
        var final = Apply(newLabels);
        int shared = 0, same = 0;
        for (int k = 0; k < newItemIds.Length; k++)
        {
            if (!yesterday.TryGetValue(newItemIds[k], out int before)) continue;
            shared++;
            if (final[k] == before) same++;
        }
        if (shared == 0)
            throw new ArgumentException("no item of today was in a cluster yesterday: the match rate is undefined.", nameof(newItemIds));
        return (double)same / shared;
    }

    /// <summary>The same with int item ids.</summary>
    public double MatchRate(int[] oldItemIds, int[] oldLabels, int[] newItemIds, int[] newLabels)
    {
        ArgumentNullException.ThrowIfNull(oldItemIds);
        ArgumentNullException.ThrowIfNull(newItemIds);
        return MatchRate(Array.ConvertAll(oldItemIds, x => (long)x), oldLabels, Array.ConvertAll(newItemIds, x => (long)x), newLabels);
    }

    /// <summary>An allocator holding today's final IDs as live and this remap's high-water mark, to save for tomorrow.</summary>
    public ClusterIdAllocator ToAllocator() => new(FinalIdByLabel.Values, Policy, HighWaterMark);
}
