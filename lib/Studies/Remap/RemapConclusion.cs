using System.Globalization;
using System.Text;
using LabelAssignment.Clustering;
using LabelAssignment.Remapping;

namespace LabelAssignment.Studies;

/// <summary>
/// Writes the notebook's conclusion from measured <see cref="RemapReport"/>s: every sentence states a measured value
/// or a comparison the values decide (which is higher, whether remapping raised the match rate), so the text cannot
/// claim what a run did not show.
/// </summary>
public static class RemapConclusion
{
    /// <summary>Differences of match rate below this (half a percentage point) are reported as "about the same".</summary>
    public const double Tie = 0.005;

    /// <summary>
    /// A markdown bullet list: per experiment (in order of first appearance), the agreement of the two clusterings, the
    /// match rate before and after remapping by each measure, the IDs kept, created and retired, and the range of match
    /// scores; then, when there are two experiments, how the second's match rates compare with the first's.
    /// </summary>
    /// <param name="reports">One report per experiment and measure (an experiment may have one or both measures).</param>
    /// <exception cref="ArgumentException">No report.</exception>
    public static string Write(IReadOnlyList<RemapReport> reports)
    {
        ArgumentNullException.ThrowIfNull(reports);
        if (reports.Count == 0)
            throw new ArgumentException("reports is empty: there is nothing to conclude from.", nameof(reports));
        var experiments = reports.Select(r => r.Experiment).Distinct().ToArray();
        var text = new StringBuilder();
        foreach (string e in experiments)
        {
            var rows = reports.Where(r => r.Experiment == e).ToArray();
            var first = rows[0];
            text.Append(Inv($"- **{e}** ({first.SharedItems} items on both days): the two clusterings agree {Agreement(first.AdjustedRandIndex)} "))
                .Append(Inv($"(ARI {first.AdjustedRandIndex:0.000}, AMI {first.AdjustedMutualInformation:0.000}; remapping renames clusters, so it changes neither).\n"));

            // Match rate: before, after, and the comparisons the values decide.
            text.Append(Inv($"  - Match rate: today's raw KMeans labels equal yesterday's ID for {Pct(first.MatchRateBefore)} of the items; after remapping, "))
                .Append(string.Join(" and ", rows.Select(r => Inv($"{Pct(r.MatchRateAfter)} by {Name(r.Measure)}"))))
                .Append(". ");
            var notRaised = rows.Where(r => !(r.MatchRateAfter > r.MatchRateBefore + Tie)).ToArray();
            if (notRaised.Length == 0)
                text.Append(rows.Length == 1 ? "Remapping raised the match rate. " : "Both remappings raised the match rate. ");
            else
            {
                var lowered = notRaised.Where(r => r.MatchRateAfter < r.MatchRateBefore - Tie).ToArray();
                var flat = notRaised.Except(lowered).ToArray();
                if (lowered.Length > 0)
                    text.Append("Remapping by ").Append(string.Join(" and by ", lowered.Select(r => Name(r.Measure))))
                        .Append(" lowered it: raw labels equal old IDs by chance, while remapping gives an old ID only to a cluster whose match clears the threshold. ");
                if (flat.Length > 0)
                    text.Append("Remapping by ").Append(string.Join(" and by ", flat.Select(r => Name(r.Measure))))
                        .Append(" did not raise the match rate. ");
            }
            if (rows.Length >= 2)
            {
                var (a, b) = (rows[0], rows[1]);
                double diff = a.MatchRateAfter - b.MatchRateAfter;
                text.Append(Math.Abs(diff) < Tie
                    ? "The two measures kept about the same share of items. "
                    : Inv($"{Capital(Name(diff > 0 ? a.Measure : b.Measure))} kept {Math.Abs(diff) * 100:0.0} percentage points more items on their ID. "));
            }
            var best = rows.MaxBy(r => r.MatchRateAfter)!;
            if (best.MatchRateAfter < 1)
                text.Append(Inv($"The other {Pct(1 - best.MatchRateAfter)} of the items (at best) either moved to a cluster not matched to theirs or are in a cluster that got a fresh ID. "));
            text.Append('\n');

            // IDs kept, created, retired, and what the threshold cost.
            text.Append("  - IDs: ").Append(Capital(string.Join("; ", rows.Select(r =>
                    Inv($"{Name(r.Measure)} kept {r.Kept} of {r.TodayClusters} IDs, created {r.Created} and retired {r.Retired}")))))
                .Append(". ");
            var costly = rows.Where(r => r.MatchRateAllKept > r.MatchRateAfter + Tie).ToArray();
            if (costly.Length > 0)
                text.Append("Had every matched pair kept its ID (threshold 0), the match rate would have been ")
                    .Append(string.Join(" and ", costly.Select(r => Inv($"{Pct(r.MatchRateAllKept)} by {Name(r.Measure)}"))))
                    .Append(": the threshold traded that much match rate for fresh IDs on weakly matched clusters. ");
            text.Append('\n');

            text.Append("  - Scores: ").Append(Capital(string.Join("; ", rows.Select(r =>
                    Inv($"matched pairs scored {r.ScoreMin:0.000} to {r.ScoreMax:0.000} (median {r.ScoreMedian:0.000}) by {Score(r.Measure)} against the threshold {r.Threshold:0.###}")))))
                .Append(".\n");
        }
        if (experiments.Length >= 2)
        {
            string e0 = experiments[0], e1 = experiments[1];
            var parts = new List<string>();
            foreach (var r1 in reports.Where(r => r.Experiment == e1))
            {
                var r0 = reports.FirstOrDefault(r => r.Experiment == e0 && r.Measure == r1.Measure);
                if (r0 is null) continue;
                double diff = r1.MatchRateAfter - r0.MatchRateAfter;
                string how = Math.Abs(diff) < Tie ? "about the same as" : diff < 0 ? "lower than" : "higher than";
                parts.Add(Inv($"by {Name(r1.Measure)} {Pct(r1.MatchRateAfter)}, {how} {Pct(r0.MatchRateAfter)}"));
            }
            if (parts.Count > 0)
                text.Append(Inv($"- **{e1}** against **{e0}**: the match rate after remapping was ")).Append(string.Join("; ", parts)).Append(".\n");
        }
        return text.ToString();
    }

    static string Agreement(double ari) => ari switch
    {
        >= 0.9 => "almost completely",
        >= 0.6 => "largely",
        >= 0.3 => "only in part",
        _ => "little",
    };

    static string Name(RemappingMeasure m) => m == RemappingMeasure.Overlap ? "sample overlap" : "centroid distance";

    static string Score(RemappingMeasure m) => m == RemappingMeasure.Overlap ? "Jaccard overlap" : "centre similarity";

    static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    static string Pct(double x) => (x * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
