using LabelAssignment.Clustering;
using LabelAssignment.Ids;
using LabelAssignment.Numerics;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Studies;

public class MultiDayStudyTests
{
    private static Labeling L(long[] ids, int[] labels) => new(ids, labels);

    /// <summary>k tight blobs (spread 0.02) on random directions of 8-D space, n items, labels = blob.</summary>
    private static (EmbeddingMatrix X, long[] Ids, int[] Blob) Blobs(int k, int n, int seed)
    {
        var rng = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        const int d = 8;
        var centres = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, d).Select(_ => Gauss()).ToArray()).ToArray();
        var data = new float[n * d];
        var blob = new int[n];
        for (int i = 0; i < n; i++)
        {
            blob[i] = i % k;
            for (int t = 0; t < d; t++) data[i * d + t] = (float)(centres[blob[i]][t] + 0.02 * Gauss());
        }
        return (new EmbeddingMatrix(data, n, d), Enumerable.Range(0, n).Select(i => 1000L + i).ToArray(), blob);
    }

    [Fact]
    public void Ceiling_is_the_best_one_to_one_relabelling_by_hand()
    {
        // Yesterday 0:{1,2,3} 1:{4,5,6}; fresh 5:{1,2} 7:{3,4,5,6}. Pairs: (0,5)=2, (0,7)=1, (1,7)=3.
        // Best one-to-one: 0->5 and 1->7 keep 2 + 3 = 5 of the 6 items.
        var y = L([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]);
        var f = L([1, 2, 3, 4, 5, 6], [5, 5, 7, 7, 7, 7]);
        Assert.Equal(5.0 / 6, MultiDayStudy.Ceiling(y, f), 12);
        // Only shared items count: item 9 is new today, item 1 left.
        var g = L([2, 3, 4, 5, 6, 9], [5, 7, 7, 7, 7, 5]);
        Assert.Equal(4.0 / 5, MultiDayStudy.Ceiling(y, g), 12);   // 0->5 (1) + 1->7 (3) of 5 shared
    }

    [Fact]
    public void Changed_meaning_created_and_retired_by_hand()
    {
        // ID 0: {1,2,3} -> {1,2}: Jaccard 2/3. ID 1: {4,5,6} -> {3,4,5,6}... but 3 moved: {3,4,5,6} vs {4,5,6}: 3/4.
        // ID 2 yesterday {7}; today 7 is in the new ID 3.
        var y = L([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 1, 1, 1, 2]);
        var t = L([1, 2, 3, 4, 5, 6, 7], [0, 0, 1, 1, 1, 1, 3]);
        Assert.Equal(1, MultiDayStudy.ChangedMeaning(y, t, 0.7));    // 2/3 < 0.7 <= 3/4
        Assert.Equal(2, MultiDayStudy.ChangedMeaning(y, t, 0.8));
        Assert.Equal(0, MultiDayStudy.ChangedMeaning(y, t, 0.6));
        Assert.Equal((1, 1), MultiDayStudy.CreatedAndRetired(y, t));   // 3 created, 2 retired
        // ID 4's only member yesterday (8) left and today's (9) is new: no shared member, no evidence, not counted.
        var y2 = L([1, 8], [0, 4]);
        var t2 = L([1, 9], [0, 4]);
        Assert.Equal(0, MultiDayStudy.ChangedMeaning(y2, t2, 0.5));
    }

    [Fact]
    public void Inertia_of_a_partition_by_hand()
    {
        // Euclidean: {(0,0),(2,0)} mean (1,0) cost 2; {(5,5)} cost 0.
        var x = EmbeddingMatrix.FromRows([[0f, 0f], [2f, 0f], [5f, 5f]]);
        Assert.Equal(2.0, MultiDayStudy.Inertia(x, [4, 4, 9], DistanceMetric.Euclidean), 6);
        // Cosine: unit rows (1,0) and (0,1), normalised mean (s, s) with s = 1/sqrt 2: each ||.||² = 2 - 2s.
        var u = EmbeddingMatrix.FromRows([[3f, 0f], [0f, 2f]]);
        Assert.Equal(2 * (2 - 2 / Math.Sqrt(2)), MultiDayStudy.Inertia(u, [1, 1], DistanceMetric.Cosine), 6);
    }

    [Fact]
    public void The_plan_churns_the_stated_shares_and_toggles_a_real_model()
    {
        var options = new MultiDayOptions { Days = 4, K = 2, LeaveFraction = 0.1, ArriveFraction = 0.2, ChangeDays = [2], ModelChange = ModelChangeKind.Real };
        var plan = MultiDayStudy.PlanDays(160, options);
        // n0 = floor(160 / (1 + 0.2 x 3)) = 100; 10 leave and 20 arrive each day.
        Assert.Equal(100, plan[0].Rows.Length);
        Assert.Equal(new[] { 0, 0, 1, 1 }, plan.Select(p => p.Model).ToArray());
        var seen = new HashSet<int>(plan[0].Rows);
        for (int day = 1; day < 4; day++)
        {
            Assert.Equal(10, plan[day].Left);
            Assert.Equal(20, plan[day].Arrived);
            Assert.Equal(10, plan[day - 1].Rows.Except(plan[day].Rows).Count());
            var arrived = plan[day].Rows.Except(plan[day - 1].Rows).ToArray();
            Assert.Equal(20, arrived.Length);
            Assert.DoesNotContain(arrived, seen.Contains);   // arrivals are never-seen items
            seen.UnionWith(arrived);
        }
        var synthetic = MultiDayStudy.PlanDays(160, options with { ModelChange = ModelChangeKind.Synthetic, ChangeDays = [1, 3] });
        Assert.Equal(new[] { 0, 1, 1, 2 }, synthetic.Select(p => p.Model).ToArray());
    }

    [Fact]
    public void The_drift_turns_every_row_by_exactly_the_angle_and_keeps_its_norm()
    {
        var (x, _, _) = Blobs(3, 30, 4);
        var drifted = MultiDayStudy.Drift(x, 0.2, 0, seed: 5);
        for (int i = 0; i < x.Count; i++)
        {
            double dot = 0, a = 0, b = 0;
            for (int t = 0; t < x.Dimension; t++)
            {
                dot += x.Row(i)[t] * (double)drifted.Row(i)[t];
                a += x.Row(i)[t] * (double)x.Row(i)[t];
                b += drifted.Row(i)[t] * (double)drifted.Row(i)[t];
            }
            Assert.Equal(Math.Sqrt(a), Math.Sqrt(b), 4);
            Assert.Equal(Math.Cos(0.2), dot / Math.Sqrt(a * b), 5);
        }
    }

    [Fact]
    public void Raw_retrain_on_two_days_is_a_fresh_KMeans_and_its_survival_is_the_brute_force_share()
    {
        var (x, ids, _) = Blobs(4, 200, 1);
        var options = new MultiDayOptions
        {
            Days = 2, K = 4, NInit = 1, Seed = 3, ModelChange = ModelChangeKind.None,
            LeaveFraction = 0.2, ArriveFraction = 0.2, Strategies = [StabilityStrategy.RawRetrain], SweepThresholds = [],
        };
        var result = MultiDayStudy.Run(new MultiDayInput(x, ids), options);
        var labelings = result.Labelings[StabilityStrategy.RawRetrain];
        var plan = result.Plan;
        for (int day = 0; day < 2; day++)
        {
            var fit = KMeans.Fit(x.SelectRows(plan[day].Rows), new KMeansOptions { K = 4, NInit = 1, Seed = 3 + day });
            Assert.Equal(fit.Labels, labelings[day].Labels.ToArray());
        }
        // Survival by hand: day-0 items still there on day 1 whose label is the same number.
        int shared = 0, same = 0;
        for (int k = 0; k < labelings[1].Count; k++)
            if (labelings[0].TryGetLabel(labelings[1].ItemIds[k], out int before))
            {
                shared++;
                if (before == labelings[1].Labels[k]) same++;
            }
        var day1 = result.Measures.Single(m => m.Day == 1);
        Assert.Equal((double)same / shared, day1.Survival, 12);
        Assert.Equal((double)same / shared, day1.MatchRate, 12);   // two days: yesterday is day 0
        Assert.True(day1.Ceiling >= day1.MatchRate);
    }

    [Fact]
    public void Invariants_of_the_strategies_on_separated_blobs()
    {
        var (x, ids, blob) = Blobs(5, 400, 2);
        var options = new MultiDayOptions
        {
            Days = 4, K = 5, NInit = 2, Seed = 1, ModelChange = ModelChangeKind.Synthetic, ChangeDays = [2], DriftAngle = 0.05, DriftNoise = 0.01,
            Metric = DistanceMetric.Euclidean, SweepThresholds = [0, 0.5, 0.99],
        };
        var result = MultiDayStudy.Run(new MultiDayInput(x, ids, blob, blob), options);
        Assert.Equal(6 * 4, result.Measures.Count);
        var day0Ids = result.Labelings[StabilityStrategy.FrozenCentres][0].ClusterIds.ToArray();
        foreach (var m in result.Measures.Where(m => m.Day > 0))
        {
            // Frozen centres with an infinite cost parameter never create an ID.
            if (m.Strategy == StabilityStrategy.FrozenCentres)
            {
                Assert.Equal(0, m.Created);
                Assert.True(result.Labelings[m.Strategy][m.Day].ClusterIds.ToArray().ToHashSet().IsSubsetOf(day0Ids));
            }
            // Online: an item keeps its ID while it stays, so nothing shared ever changes ID.
            if (m.Strategy == StabilityStrategy.Online)
            {
                Assert.Equal(1.0, m.MatchRate);
                Assert.Equal(1.0, m.Survival);
                Assert.Equal(0, m.ChangedMeaning);
            }
            // Blobs this clear: every remapping strategy keeps every ID and matches the ceiling (1).
            if (m.Strategy is StabilityStrategy.RetrainOverlap or StabilityStrategy.WarmStart or StabilityStrategy.FrozenCentres)
            {
                Assert.Equal(1.0, m.MatchRate);
                Assert.Equal(1.0, m.Ceiling, 12);
                Assert.Equal(0, m.ChangedMeaning);
            }
            Assert.True(m.MatchRate <= m.Ceiling + 1e-12 || m.Strategy is StabilityStrategy.WarmStart or StabilityStrategy.FrozenCentres or StabilityStrategy.Online);
            // Blobs recovered by every strategy but the online rule (whose eps, day 0's 90th percentile, is below the drift).
            if (m.Strategy != StabilityStrategy.Online) Assert.Equal(1.0, m.AriFine, 6);
        }
        // Threshold sweep: 0.99 rejects nothing here either (blob Jaccard is 1), so all keep their IDs.
        Assert.All(result.ThresholdSweep, p => Assert.Equal(1.0, p.MeanMatchRate));
    }

    [Fact]
    public void Warm_start_and_frozen_centres_without_churn_or_change_keep_every_ID_at_the_fresh_fit_s_cost()
    {
        var (x, ids, _) = Blobs(5, 300, 7);
        var options = new MultiDayOptions
        {
            Days = 3, K = 5, NInit = 1, LeaveFraction = 0, ArriveFraction = 0, ModelChange = ModelChangeKind.None,
            Strategies = [StabilityStrategy.WarmStart, StabilityStrategy.FrozenCentres], SweepThresholds = [],
        };
        var result = MultiDayStudy.Run(new MultiDayInput(x, ids), options);
        Assert.All(result.Plan, p => Assert.Equal(300, p.Rows.Length));
        foreach (var m in result.Measures.Where(m => m.Day > 0))
        {
            Assert.Equal(1.0, m.MatchRate);
            Assert.Equal(0, m.Created);
            Assert.Equal(0, m.Retired);
            Assert.Equal(1.0, m.InertiaRatio, 3);   // the same blob partition as the fresh fit
        }
    }

    [Fact]
    public void Frozen_centres_split_the_one_cluster_whose_cost_grew_past_the_parameter()
    {
        // Day 0: 4 tight blobs. The changed model (day 1) is the same except that blob 0's members move 0.5 to
        // either side of its centre along one axis (two sub-blobs), so only blob 0's mean squared distance grows
        // (from about 8 x 0.02^2 to about 0.25): with FrozenCostGrowth 10 exactly that cluster splits in two, each
        // sub-blob in one piece, and every other cluster keeps its day-0 members and ID.
        var (x, ids, blob) = Blobs(4, 200, 11);
        var changed = new float[x.Data.Length];
        x.Data.CopyTo(changed, 0);
        for (int i = 0; i < x.Count; i++)
            if (blob[i] == 0) changed[i * x.Dimension] += (i / 4) % 2 == 0 ? 0.5f : -0.5f;
        var options = new MultiDayOptions
        {
            Days = 2, K = 4, NInit = 2, Seed = 3, LeaveFraction = 0, ArriveFraction = 0, ModelChange = ModelChangeKind.Real, ChangeDays = [1],
            Metric = DistanceMetric.Euclidean, FrozenCostGrowth = 10, Strategies = [StabilityStrategy.FrozenCentres], SweepThresholds = [],
        };
        var result = MultiDayStudy.Run(new MultiDayInput(x, ids, blob, blob, new EmbeddingMatrix(changed, x.Count, x.Dimension)), options);
        var day0 = result.Labelings[StabilityStrategy.FrozenCentres][0];
        var day1 = result.Labelings[StabilityStrategy.FrozenCentres][1];
        Assert.Equal(1, result.Measures.Single(m => m.Day == 1).Created);
        Assert.Equal(5, day1.ClusterIds.Length);
        int blob0Id = day0.Labels[0];
        for (int i = 0; i < x.Count; i++)
        {
            if (blob[i] != 0) { Assert.Equal(day0.Labels[i], day1.Labels[i]); continue; }
            // Same sub-blob, same ID; the two sub-blobs differ, and one of them keeps the frozen ID.
            int first = (i / 4) % 2 == 0 ? 0 : 4;
            Assert.Equal(day1.Labels[first], day1.Labels[i]);
        }
        Assert.NotEqual(day1.Labels[0], day1.Labels[4]);
        Assert.Contains(blob0Id, new[] { day1.Labels[0], day1.Labels[4] });

        // The same change with the default (never split): no new ID, blob 0 stays one cluster.
        var never = MultiDayStudy.Run(new MultiDayInput(x, ids, blob, blob, new EmbeddingMatrix(changed, x.Count, x.Dimension)),
            options with { FrozenCostGrowth = double.PositiveInfinity });
        Assert.Equal(0, never.Measures.Single(m => m.Day == 1).Created);
        Assert.Equal(4, never.Labelings[StabilityStrategy.FrozenCentres][1].ClusterIds.Length);
    }

    [Fact]
    public void The_online_rule_s_automatic_eps_is_the_90th_percentile_of_day_0_s_distances_to_the_centres()
    {
        var (x, ids, blob) = Blobs(3, 150, 5);
        var options = new MultiDayOptions
        {
            Days = 2, K = 3, NInit = 2, Seed = 2, LeaveFraction = 0, ArriveFraction = 0, ModelChange = ModelChangeKind.None,
            Metric = DistanceMetric.Euclidean, Strategies = [StabilityStrategy.Online], SweepThresholds = [],
        };
        var result = MultiDayStudy.Run(new MultiDayInput(x, ids, blob, blob), options);
        // Brute force: day 0's clustering (the blobs), each centre the mean of its members (Lloyd's fixed point), the
        // Euclidean distance of every item to its centre, sorted, at index floor(0.9 (n - 1)).
        var day0 = result.Labelings[StabilityStrategy.Online][0];
        int d = x.Dimension;
        var rowOf = ids.Select((id, r) => (id, r)).ToDictionary(p => p.id, p => p.r);
        var centres = day0.ClusterIds.ToArray().ToDictionary(c => c, c =>
        {
            var rows = Enumerable.Range(0, day0.Count).Where(i => day0.Labels[i] == c).Select(i => rowOf[day0.ItemIds[i]]).ToArray();
            return Enumerable.Range(0, d).Select(t => rows.Average(r => (double)x.Row(r)[t])).ToArray();
        });
        var dist = Enumerable.Range(0, day0.Count).Select(i =>
        {
            var row = x.Row(rowOf[day0.ItemIds[i]]).ToArray();
            var c = centres[day0.Labels[i]];
            return Math.Sqrt(Enumerable.Range(0, d).Sum(t => (row[t] - c[t]) * (row[t] - c[t])));
        }).Order().ToArray();
        Assert.Equal(dist[(int)(0.9 * (dist.Length - 1))], result.OnlineEps, 5);
        // Given explicitly, it is used as given.
        Assert.Equal(0.125, MultiDayStudy.Run(new MultiDayInput(x, ids, blob, blob), options with { OnlineEps = 0.125 }).OnlineEps);
    }

    [Fact]
    public void Bad_options_name_the_property()
    {
        Assert.Equal("Days", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiDayOptions { Days = 1 }.Validate()).ParamName);
        Assert.Equal("ChangeDays", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiDayOptions { Days = 3, ChangeDays = [3] }.Validate()).ParamName);
        Assert.Equal("LeaveFraction", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiDayOptions { LeaveFraction = 1 }.Validate()).ParamName);
        Assert.Equal("FrozenCostGrowth", Assert.Throws<ArgumentOutOfRangeException>(() => new MultiDayOptions { FrozenCostGrowth = 1 }.Validate()).ParamName);
        Assert.Equal("Strategies", Assert.Throws<ArgumentException>(() => new MultiDayOptions { Strategies = [] }.Validate()).ParamName);
        var (x, ids, _) = Blobs(2, 40, 1);
        var e = Assert.Throws<ArgumentException>(() => MultiDayStudy.Run(new MultiDayInput(x, ids), new MultiDayOptions { K = 2, Days = 3, ChangeDays = [1] }));
        Assert.Contains("ChangedEmbeddings", e.Message);
    }
}
