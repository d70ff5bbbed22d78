using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Studies;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// The multi-day study (issue 11) on X: one run of <see cref="MultiDayStudy.Run"/> with a synthetic drift (X has no
/// second model), one record per strategy and day with the time that strategy took that day (the day's fresh KMeans
/// is counted in raw retraining), plus the whole run. Options: --days (7), --k (100), --change-days (4).
/// </summary>
public sealed class MultiDayCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "multiday";

    /// <inheritdoc/>
    public string Description => "MultiDayStudy.Run on X, time per strategy and day (--days 7, --k 100, --change-days 4; synthetic drift)";

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int days = int.Parse(context.Option("days", "7"), CultureInfo.InvariantCulture);
        int k = int.Parse(context.Option("k", "100"), CultureInfo.InvariantCulture);
        int[] changeDays = context.Option("change-days", "4").Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        var options = new MultiDayOptions { Days = days, K = k, ModelChange = ModelChangeKind.Synthetic, ChangeDays = changeDays };
        var ids = Enumerable.Range(0, context.X.Count).Select(i => (long)i).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = MultiDayStudy.Run(new MultiDayInput(context.X, ids), options);
        double total = clock.Elapsed.TotalSeconds;
        var parameters = new JsonObject { ["n"] = context.X.Count, ["k"] = k, ["days"] = days };
        foreach (var m in result.Measures)
            context.Record($"multiday/{m.Strategy}/day={m.Day}", Name, parameters.DeepClone().AsObject(),
                new Timing(m.Seconds, m.Seconds, 1, [m.Seconds], null),
                new JsonObject { ["match_rate"] = double.IsNaN(m.MatchRate) ? null : Math.Round(m.MatchRate, 6), ["inertia_ratio"] = Math.Round(m.InertiaRatio, 6) });
        context.Record("multiday/total", Name, parameters, new Timing(total, total, 1, [total], null), new JsonObject { ["strategies"] = result.Summary.Count });
    }
}
