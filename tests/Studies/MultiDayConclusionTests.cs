using LabelAssignment.Ids;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Studies;

public class MultiDayConclusionTests
{
    private static StrategyDay Day(StabilityStrategy s, int day, double match, double inertia) =>
        new(s, day, 10, 2, day == 0 ? double.NaN : match, day == 0 ? double.NaN : 1, 1, 0, 0, 0, inertia, double.NaN, double.NaN, 0);

    [Fact]
    public void States_the_winner_its_cost_and_which_strategy_the_model_change_broke()
    {
        // Three days, the model changes on day 2. Frozen: 0.9 then 0.5 on the change day (a 40-point drop);
        // raw: 0.1 both days (no drop). Summary rows computed by hand from those.
        var plan = new[] { new DayPlan(0, [0], 0, 0, 0), new DayPlan(1, [0], 0, 0, 0), new DayPlan(2, [0], 0, 0, 1) };
        var measures = new[]
        {
            Day(StabilityStrategy.RawRetrain, 0, 0, 1), Day(StabilityStrategy.RawRetrain, 1, 0.1, 1), Day(StabilityStrategy.RawRetrain, 2, 0.1, 1),
            Day(StabilityStrategy.FrozenCentres, 0, 0, 1), Day(StabilityStrategy.FrozenCentres, 1, 0.9, 1.2), Day(StabilityStrategy.FrozenCentres, 2, 0.5, 1.4),
        };
        var summary = new[]
        {
            new StrategySummary(StabilityStrategy.RawRetrain, 0.1, 1, 0.1, 3, 4, 4, 1.0, double.NaN, double.NaN, 0),
            new StrategySummary(StabilityStrategy.FrozenCentres, 0.7, 1, 0.8, 0, 0, 0, 1.3, double.NaN, double.NaN, 0),
        };
        var result = new MultiDayResult(new MultiDayOptions { Days = 3, ChangeDays = [2] }, plan, measures, summary, [],
            new Dictionary<StabilityStrategy, IReadOnlyList<Labeling>>(), 0.1);
        string text = MultiDayConclusion.Write(result);
        Assert.Contains("frozen centres kept the most items on yesterday's ID (mean match rate 70.0%); then raw retraining 10.0%", text);
        Assert.Contains("clusters had 1.300 times the inertia of a fresh KMeans", text);
        Assert.Contains("80.0% of day 0's remaining items still carried their day-0 ID under frozen centres, 10.0% under raw retraining", text);
        Assert.Contains("raw retraining 3, frozen centres 0; IDs created over the run: raw retraining 4, frozen centres 0", text);
        Assert.Contains("(day 2): it broke frozen centres 50.0% against 90.0% on other days. It did not break raw retraining 10.0% against 10.0% on other days.", text);
    }

    [Fact]
    public void The_online_rule_is_reported_apart_and_never_named_the_winner()
    {
        // The online rule's match rate is 1 by construction and it ends with 7 clusters for K = 2: frozen centres
        // (0.9) must be the winner, and the online rule gets its own sentence with its cluster count.
        var plan = new[] { new DayPlan(0, [0], 0, 0, 0), new DayPlan(1, [0], 0, 0, 0) };
        var measures = new[]
        {
            Day(StabilityStrategy.FrozenCentres, 0, 0, 1), Day(StabilityStrategy.FrozenCentres, 1, 0.9, 1.1),
            Day(StabilityStrategy.Online, 0, 0, 1), Day(StabilityStrategy.Online, 1, 1.0, 0.8) with { Clusters = 7 },
        };
        var summary = new[]
        {
            new StrategySummary(StabilityStrategy.FrozenCentres, 0.9, 1, 0.9, 0, 0, 0, 1.1, double.NaN, double.NaN, 0),
            new StrategySummary(StabilityStrategy.Online, 1.0, 1, 1.0, 0, 5, 0, 0.8, double.NaN, double.NaN, 0),
        };
        var result = new MultiDayResult(new MultiDayOptions { Days = 2, K = 2 }, plan, measures, summary, [],
            new Dictionary<StabilityStrategy, IReadOnlyList<Labeling>>(), 0.1);
        string text = MultiDayConclusion.Write(result);
        Assert.Contains("frozen centres kept the most items on yesterday's ID (mean match rate 90.0%)", text);
        Assert.Contains("frozen centres' clusters had 1.100 times the inertia", text);
        Assert.Contains("opened 5 clusters over the run and ended with 7 clusters against K = 2", text);
        Assert.DoesNotContain("the online rule kept the most items", text);
        Assert.DoesNotContain("centres's", text);
    }
}
