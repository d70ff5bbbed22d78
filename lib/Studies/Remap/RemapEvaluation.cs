using LabelAssignment.Ids;
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
/// <param name="MatchRateAfter">The same share with today's final IDs (<see cref="RemappingResult.MatchRate(Labeling, Labeling)"/>).</param>
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
    /// The report of one remap. Items are matched by id (<see cref="Labeling.Join"/>); ARI and AMI compare
    /// yesterday's IDs with today's labels on the items both days share (noise, -1, is an ordinary label there, as in
    /// scikit-learn); the match rates are <see cref="ClusteringMetrics.MatchRate(ContingencyTable)"/>'s (yesterday's
    /// noise left out, today's noise a miss).
    /// </summary>
    /// <param name="experiment">A name for the row.</param>
    /// <param name="yesterday">Yesterday's items and final IDs (-1 noise), as given to the remapper.</param>
    /// <param name="today">Today's items and raw labels, as given to the remapper.</param>
    /// <param name="result">The remap.</param>
    /// <exception cref="ArgumentException">No shared item, or no shared item clustered yesterday.</exception>
    public static RemapReport Evaluate(string experiment, Labeling yesterday, Labeling today, RemappingResult result)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(result);
        var shared = Shared(yesterday, today);
        var table = ContingencyTable.Build(shared.YesterdayLabels, shared.TodayLabels);
        var scores = ClusteringMetrics.Compare(table);
        double before = ClusteringMetrics.MatchRate(table);
        double after = result.MatchRate(yesterday, today);
        var matchScores = result.Matches.Select(m => m.Score).Order().ToArray();
        double median = matchScores.Length == 0 ? double.NaN
            : matchScores.Length % 2 == 1 ? matchScores[matchScores.Length / 2]
            : (matchScores[matchScores.Length / 2 - 1] + matchScores[matchScores.Length / 2]) / 2;
        return new RemapReport(experiment, result.Measure, result.Threshold, shared.Count,
            scores.AdjustedRandIndex, scores.AdjustedMutualInformation, before, after,
            result.OldIds.Length, result.FinalIdByLabel.Count, result.KeptIds.Length, result.CreatedIds.Length, result.RetiredIds.Length,
            matchScores.Length == 0 ? double.NaN : matchScores[0], median, matchScores.Length == 0 ? double.NaN : matchScores[^1],
            Sweep(shared, result, [0.0])[0].MatchRate);
    }

    /// <summary>
    /// What the same optimal matching gives at each threshold, without solving it again: the assignment does not
    /// depend on the threshold, only which pairs keep their old ID does. The match rate is
    /// <see cref="ClusteringMetrics.MatchRate(ContingencyTable)"/>'s, of today's labels rewritten as the final IDs that
    /// threshold gives.
    /// </summary>
    /// <param name="yesterday">Yesterday's items and IDs (-1 noise), as given to the remapper.</param>
    /// <param name="today">Today's items and raw labels.</param>
    /// <param name="result">The remap whose matches are re-thresholded.</param>
    /// <param name="thresholds">Thresholds in [0, 1].</param>
    /// <exception cref="ArgumentException">A threshold outside [0, 1], no shared item, or no shared item clustered yesterday.</exception>
    public static ThresholdPoint[] SweepThresholds(Labeling yesterday, Labeling today, RemappingResult result, IReadOnlyList<double> thresholds)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(thresholds);
        for (int t = 0; t < thresholds.Count; t++)
            if (!(thresholds[t] >= 0 && thresholds[t] <= 1))
                throw new ArgumentOutOfRangeException(nameof(thresholds), thresholds[t], $"thresholds[{t}] must be in [0, 1].");
        return Sweep(Shared(yesterday, today), result, thresholds);
    }

    private static ThresholdPoint[] Sweep(JoinedLabelings shared, RemappingResult result, IReadOnlyList<double> thresholds)
    {
        int today = result.FinalIdByLabel.Count, yesterday = result.OldIds.Length;
        var todayLabels = shared.TodayLabels;
        var finalLabels = new int[shared.Count];
        var finalByLabel = new Dictionary<int, int>(result.Matches.Count);
        var points = new ThresholdPoint[thresholds.Count];
        for (int t = 0; t < thresholds.Count; t++)
        {
            finalByLabel.Clear();
            foreach (var m in result.Matches)
                if (m.Score > thresholds[t]) finalByLabel[m.NewLabel] = m.OldId;
            int kept = finalByLabel.Count;
            // Every other cluster gets a fresh ID, which equals no old ID: like noise (-1) it matches no item.
            for (int k = 0; k < finalLabels.Length; k++)
                finalLabels[k] = finalByLabel.GetValueOrDefault(todayLabels[k], Labeling.Noise);
            double rate = ClusteringMetrics.MatchRate(ContingencyTable.Build(shared.YesterdayLabels, finalLabels));
            points[t] = new ThresholdPoint(thresholds[t], kept, today - kept, yesterday - kept,
                today == 0 ? 0 : (double)kept / today, rate);
        }
        return points;
    }

    /// <summary>Evenly spaced thresholds from 0 to 1 inclusive (<paramref name="steps"/> intervals).</summary>
    public static double[] Grid(int steps = 50)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be >= 1.");
        return Enumerable.Range(0, steps + 1).Select(i => (double)i / steps).ToArray();
    }

    private static JoinedLabelings Shared(Labeling yesterday, Labeling today)
    {
        var shared = Labeling.Join(yesterday, today);
        if (shared.Count == 0)
            throw new ArgumentException("yesterday and today share no item: nothing to compare.", nameof(today));
        return shared;
    }
}
