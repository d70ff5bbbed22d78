using LabelAssignment.Metrics;
using LabelAssignment.Remapping;

namespace LabelAssignment.Studies;

/// <summary>
/// How one remap did, on the items both days share: agreement of the two clusterings, and how many items keep
/// yesterday's ID before remapping (today's raw labels) and after (today's final IDs).
/// </summary>
/// <param name="Experiment">Name of the experiment (e.g. "same items, another seed").</param>
/// <param name="Measure">The measure the remap used.</param>
/// <param name="Threshold">The score a matched pair had to exceed to keep its old ID.</param>
/// <param name="SharedItems">Items present on both days.</param>
/// <param name="AdjustedRandIndex">ARI of yesterday's IDs against today's labels on the shared items (renaming does not change it).</param>
/// <param name="AdjustedMutualInformation">AMI of the same two labelings.</param>
/// <param name="MatchRateBefore">Share of shared items (clustered yesterday) whose raw label today equals yesterday's ID.</param>
/// <param name="MatchRateAfter">The same share with today's final IDs (<see cref="RemappingResult.MatchRate(int[], int[], int[], int[])"/>).</param>
/// <param name="YesterdayClusters">Yesterday's clusters.</param>
/// <param name="TodayClusters">Today's clusters.</param>
/// <param name="Kept">Today's clusters that kept an old ID.</param>
/// <param name="Created">Today's clusters that got a fresh ID.</param>
/// <param name="Retired">Old IDs no longer live.</param>
/// <param name="ScoreMin">Lowest score of a matched pair.</param>
/// <param name="ScoreMedian">Median score of the matched pairs.</param>
/// <param name="ScoreMax">Highest score of a matched pair.</param>
/// <param name="MatchRateAllKept">The match rate had every matched pair with a score above 0 kept its ID (threshold 0):
/// the most this matching can give.</param>
public sealed record RemapReport(
    string Experiment, RemappingMeasure Measure, double Threshold, int SharedItems,
    double AdjustedRandIndex, double AdjustedMutualInformation, double MatchRateBefore, double MatchRateAfter,
    int YesterdayClusters, int TodayClusters, int Kept, int Created, int Retired,
    double ScoreMin, double ScoreMedian, double ScoreMax, double MatchRateAllKept);

/// <summary>One threshold of a sweep: what the same matching would keep, create, retire and preserve.</summary>
/// <param name="Threshold">The threshold a score must exceed.</param>
/// <param name="Kept">Today's clusters that keep an old ID.</param>
/// <param name="Created">Today's clusters that get a fresh ID.</param>
/// <param name="Retired">Old IDs no longer live.</param>
/// <param name="KeptFraction">Kept / today's clusters.</param>
/// <param name="MatchRate">Share of shared items (clustered yesterday) whose final ID equals yesterday's.</param>
public sealed record ThresholdPoint(double Threshold, int Kept, int Created, int Retired, double KeptFraction, double MatchRate);

/// <summary>Scores a <see cref="RemappingResult"/> against the two days' labelings (the notebook's table and sweep).</summary>
public static class RemapEvaluation
{
    /// <summary>
    /// The report of one remap. Items are matched by id; ARI and AMI compare yesterday's IDs with today's labels on
    /// the items both days share (noise, -1, is an ordinary label there, as in scikit-learn).
    /// </summary>
    /// <param name="experiment">A name for the row.</param>
    /// <param name="oldItemIds">Yesterday's item ids (distinct).</param>
    /// <param name="oldIds">Yesterday's final IDs per item (-1 noise), as given to the remapper.</param>
    /// <param name="newItemIds">Today's item ids (distinct).</param>
    /// <param name="newLabels">Today's raw labels per item, as given to the remapper.</param>
    /// <param name="result">The remap.</param>
    /// <exception cref="ArgumentException">Mismatched lengths, repeated ids, or no shared item clustered yesterday.</exception>
    public static RemapReport Evaluate(string experiment, int[] oldItemIds, int[] oldIds, int[] newItemIds, int[] newLabels, RemappingResult result)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(result);
        var shared = Shared(oldItemIds, oldIds, newItemIds, newLabels);
        var scores = ClusteringMetrics.Compare(shared.Old, shared.New);
        int clustered = 0, same = 0;
        for (int k = 0; k < shared.Old.Length; k++)
        {
            if (shared.Old[k] < 0) continue;
            clustered++;
            if (shared.New[k] == shared.Old[k]) same++;
        }
        if (clustered == 0)
            throw new ArgumentException("no item of today was in a cluster yesterday: the match rate is undefined.", nameof(newItemIds));
        double after = result.MatchRate(oldItemIds, oldIds, newItemIds, newLabels);
        var matchScores = result.Matches.Select(m => m.Score).Order().ToArray();
        double median = matchScores.Length == 0 ? double.NaN
            : matchScores.Length % 2 == 1 ? matchScores[matchScores.Length / 2]
            : (matchScores[matchScores.Length / 2 - 1] + matchScores[matchScores.Length / 2]) / 2;
        return new RemapReport(experiment, result.Measure, result.Threshold, shared.Old.Length,
            scores.AdjustedRandIndex, scores.AdjustedMutualInformation, (double)same / clustered, after,
            result.OldIds.Length, result.FinalIdByLabel.Count, result.KeptIds.Length, result.CreatedIds.Length, result.RetiredIds.Length,
            matchScores.Length == 0 ? double.NaN : matchScores[0], median, matchScores.Length == 0 ? double.NaN : matchScores[^1],
            SweepThresholds(oldItemIds, oldIds, newItemIds, newLabels, result, [0.0])[0].MatchRate);
    }

    /// <summary>
    /// What the same optimal matching gives at each threshold, without solving it again: the assignment does not
    /// depend on the threshold, only which pairs keep their old ID does. A fresh ID never equals an old ID, so an item
    /// keeps yesterday's ID exactly when its new cluster kept the old ID of its yesterday's cluster.
    /// </summary>
    /// <param name="oldItemIds">Yesterday's item ids.</param>
    /// <param name="oldIds">Yesterday's IDs per item (-1 noise), as given to the remapper.</param>
    /// <param name="newItemIds">Today's item ids.</param>
    /// <param name="newLabels">Today's raw labels per item.</param>
    /// <param name="result">The remap whose matches are re-thresholded.</param>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <exception cref="ArgumentException">Bad lengths, a threshold outside [0, 1], or no shared item clustered yesterday.</exception>
    public static ThresholdPoint[] SweepThresholds(int[] oldItemIds, int[] oldIds, int[] newItemIds, int[] newLabels,
        RemappingResult result, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(thresholds);
        for (int t = 0; t < thresholds.Count; t++)
            if (!(thresholds[t] >= 0 && thresholds[t] <= 1))
                throw new ArgumentOutOfRangeException(nameof(thresholds), thresholds[t], $"thresholds[{t}] must be in [0, 1].");
        var shared = Shared(oldItemIds, oldIds, newItemIds, newLabels);
        var together = new Dictionary<(int Old, int New), int>();
        int clustered = 0;
        for (int k = 0; k < shared.Old.Length; k++)
        {
            if (shared.Old[k] < 0) continue;
            clustered++;
            var key = (shared.Old[k], shared.New[k]);
            together[key] = together.GetValueOrDefault(key) + 1;
        }
        if (clustered == 0)
            throw new ArgumentException("no item of today was in a cluster yesterday: the match rate is undefined.", nameof(newItemIds));
        int today = result.FinalIdByLabel.Count, yesterday = result.OldIds.Length;
        var points = new ThresholdPoint[thresholds.Count];
        for (int t = 0; t < thresholds.Count; t++)
        {
            int kept = 0, same = 0;
            foreach (var m in result.Matches)
            {
                if (!(m.Score > thresholds[t])) continue;
                kept++;
                same += together.GetValueOrDefault((m.OldId, m.NewLabel));
            }
            points[t] = new ThresholdPoint(thresholds[t], kept, today - kept, yesterday - kept,
                today == 0 ? 0 : (double)kept / today, (double)same / clustered);
        }
        return points;
    }

    /// <summary>Evenly spaced thresholds from 0 to 1 inclusive (<paramref name="steps"/> intervals).</summary>
    public static double[] Grid(int steps = 50)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be >= 1.");
        return Enumerable.Range(0, steps + 1).Select(i => (double)i / steps).ToArray();
    }

    private static (int[] Old, int[] New) Shared(int[] oldItemIds, int[] oldIds, int[] newItemIds, int[] newLabels)
    {
        ArgumentNullException.ThrowIfNull(oldItemIds);
        ArgumentNullException.ThrowIfNull(oldIds);
        ArgumentNullException.ThrowIfNull(newItemIds);
        ArgumentNullException.ThrowIfNull(newLabels);
        if (oldItemIds.Length != oldIds.Length)
            throw new ArgumentException($"oldIds has {oldIds.Length} labels but oldItemIds has {oldItemIds.Length} items.", nameof(oldIds));
        if (newItemIds.Length != newLabels.Length)
            throw new ArgumentException($"newLabels has {newLabels.Length} labels but newItemIds has {newItemIds.Length} items.", nameof(newLabels));
        var yesterday = new Dictionary<int, int>(oldItemIds.Length);
        for (int k = 0; k < oldItemIds.Length; k++)
            if (!yesterday.TryAdd(oldItemIds[k], oldIds[k]))
                throw new ArgumentException($"oldItemIds holds item id {oldItemIds[k]} twice (again at index {k}).", nameof(oldItemIds));
        var seen = new HashSet<int>(newItemIds.Length);
        var o = new List<int>(newItemIds.Length);
        var n = new List<int>(newItemIds.Length);
        for (int k = 0; k < newItemIds.Length; k++)
        {
            if (!seen.Add(newItemIds[k]))
                throw new ArgumentException($"newItemIds holds item id {newItemIds[k]} twice (again at index {k}).", nameof(newItemIds));
            if (!yesterday.TryGetValue(newItemIds[k], out int before)) continue;
            o.Add(before);
            n.Add(newLabels[k]);
        }
        if (o.Count == 0)
            throw new ArgumentException("oldItemIds and newItemIds share no item: nothing to compare.", nameof(newItemIds));
        return (o.ToArray(), n.ToArray());
    }
}
