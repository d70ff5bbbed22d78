using System.Globalization;
using System.Text;

namespace LabelAssignment.Studies;

/// <summary>
/// Writes the multi-day study's conclusion from a <see cref="MultiDayResult"/>: every sentence states measured values
/// or a comparison they decide (which strategy is highest, whether a change day lowered a strategy's match rate).
/// </summary>
public static class MultiDayConclusion
{
    /// <summary>A drop of the match rate on a change day larger than this (ten percentage points below the strategy's
    /// mean on the other days) is reported as the change breaking the strategy.</summary>
    public const double Break = 0.10;

    /// <summary>A markdown bullet list: stability winner, its quality cost, survival, meaning changes, and what the
    /// model change did to each strategy.</summary>
    public static string Write(MultiDayResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var s = result.Summary;
        var text = new StringBuilder();
        // The online rule never moves an item and opens a cluster for every outsider: its match rate is 1 by
        // construction and its cluster count grows past K, so it is reported on its own, not ranked with the others.
        var online = s.FirstOrDefault(r => r.Strategy == StabilityStrategy.Online);
        var ranked = s.Where(r => r != online).ToArray();
        if (ranked.Length == 0) ranked = s.ToArray();
        var byMatch = ranked.OrderByDescending(r => r.MeanMatchRate).ToArray();
        var best = byMatch[0];
        text.Append(Inv($"- **Stability:** over days 1 to {result.Plan.Count - 1}, {Name(best.Strategy)} kept the most items on yesterday's ID "))
            .Append(Inv($"(mean match rate {Pct(best.MeanMatchRate)}); then "))
            .Append(string.Join(", ", byMatch.Skip(1).Select(r => Inv($"{Name(r.Strategy)} {Pct(r.MeanMatchRate)}"))))
            .Append(".\n");
        text.Append(Inv($"- **Quality cost:** {Possessive(best.Strategy)} clusters had {best.MeanInertiaRatio:0.000} times the inertia of a fresh KMeans of the same items"));
        var cheapest = ranked.Where(r => r.Strategy != StabilityStrategy.RawRetrain).MinBy(r => r.MeanInertiaRatio) ?? best;
        var dearest = ranked.MaxBy(r => r.MeanInertiaRatio)!;
        text.Append(Inv($"; the lowest ratio among the stabilising strategies was {Possessive(cheapest.Strategy)} ({cheapest.MeanInertiaRatio:0.000}), the highest {Possessive(dearest.Strategy)} ({dearest.MeanInertiaRatio:0.000})"));
        var raw = s.FirstOrDefault(r => r.Strategy == StabilityStrategy.RawRetrain);
        if (!double.IsNaN(best.MeanAriFine))
        {
            text.Append(Inv($". Against the classes, ARI (fine / coarse) was {best.MeanAriFine:0.000} / {best.MeanAriCoarse:0.000} for {Name(best.Strategy)}"));
            if (raw is not null && raw != best)
                text.Append(Inv($" and {raw.MeanAriFine:0.000} / {raw.MeanAriCoarse:0.000} for raw retraining"));
        }
        text.Append(".\n");
        if (online is not null && online != best)
        {
            var last = result.Measures.Where(m => m.Strategy == StabilityStrategy.Online).MaxBy(m => m.Day);
            text.Append(Inv($"- **The online rule** keeps every item where it is, so its match rate ({Pct(online.MeanMatchRate)}) is 1 by construction; "))
                .Append(Inv($"it opened {online.Created} clusters over the run"))
                .Append(last is null ? "" : Inv($" and ended with {last.Clusters} clusters against K = {result.Options.K}"))
                .Append(Inv($", so its inertia ratio ({online.MeanInertiaRatio:0.000}) compares more clusters with K's and is no gain in quality.\n"));
        }
        var survival = s.OrderByDescending(r => r.FinalSurvival).ToArray();
        text.Append(Inv($"- **Survival:** on the last day, {Pct(survival[0].FinalSurvival)} of day 0's remaining items still carried their day-0 ID under {Name(survival[0].Strategy)}, "))
            .Append(Inv($"{Pct(survival[^1].FinalSurvival)} under {Name(survival[^1].Strategy)}.\n"));
        text.Append(Inv($"- **IDs whose meaning changed** (kept, members' Jaccard below {result.Options.MeaningJaccard:0.##}): "))
            .Append(string.Join(", ", s.Select(r => Inv($"{Name(r.Strategy)} {r.ChangedMeaning}"))))
            .Append(Inv($"; IDs created over the run: ")).Append(string.Join(", ", s.Select(r => Inv($"{Name(r.Strategy)} {r.Created}")))).Append(".\n");
        var changeDays = result.Plan.Where(p => p.Day > 0 && p.Model != result.Plan[p.Day - 1].Model).Select(p => p.Day).ToArray();
        if (changeDays.Length == 0)
            text.Append("- **Model change:** none in this run.\n");
        else
        {
            var broken = new List<string>();
            var held = new List<string>();
            foreach (var r in s)
            {
                var days = result.Measures.Where(m => m.Strategy == r.Strategy && m.Day > 0).ToArray();
                var other = days.Where(m => !changeDays.Contains(m.Day)).ToArray();
                if (other.Length == 0) continue;
                double baseline = other.Average(m => m.MatchRate);
                double onChange = days.Where(m => changeDays.Contains(m.Day)).Average(m => m.MatchRate);
                (baseline - onChange > Break ? broken : held).Add(Inv($"{Name(r.Strategy)} {Pct(onChange)} against {Pct(baseline)} on other days"));
            }
            text.Append(Inv($"- **Model change** (day {string.Join(", ", changeDays)}): "));
            if (broken.Count > 0) text.Append("it broke ").Append(string.Join("; ", broken)).Append(held.Count > 0 ? ". It did not break " : ".");
            else text.Append("no strategy's match rate fell by more than ten points: ");
            text.Append(string.Join("; ", held)).Append(".\n");
        }
        return text.ToString();
    }

    /// <summary>A strategy's name for the reader.</summary>
    public static string Name(StabilityStrategy strategy) => strategy switch
    {
        StabilityStrategy.RawRetrain => "raw retraining",
        StabilityStrategy.RetrainOverlap => "retrain + overlap remap",
        StabilityStrategy.RetrainCentroid => "retrain + centroid remap",
        StabilityStrategy.WarmStart => "warm start",
        StabilityStrategy.FrozenCentres => "frozen centres",
        StabilityStrategy.Online => "the online rule",
        _ => strategy.ToString(),
    };

    static string Possessive(StabilityStrategy strategy) => Name(strategy) is var n && n.EndsWith('s') ? n + "'" : n + "'s";

    static string Pct(double x) => (x * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
