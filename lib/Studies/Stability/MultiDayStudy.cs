using System.Diagnostics;
using System.Numerics.Tensors;
using LabelAssignment.Clustering;
using LabelAssignment.Ids;
using LabelAssignment.Metrics;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Remapping;

namespace LabelAssignment.Studies;

/// <summary>A way of producing each day's stable cluster IDs.</summary>
public enum StabilityStrategy
{
    /// <summary>A fresh KMeans each day (seed <c>Seed + day</c>), its labels used as IDs: the baseline.</summary>
    RawRetrain,

    /// <summary>The fresh KMeans remapped onto yesterday's IDs by sample overlap (Hungarian on Jaccard, the article).</summary>
    RetrainOverlap,

    /// <summary>The fresh KMeans remapped onto yesterday's IDs by centroid distance (the article).</summary>
    RetrainCentroid,

    /// <summary>KMeans warm-started from yesterday's centres (cluster i starts as yesterday's i-th ID), then the
    /// overlap remap as a safety net for clusters that moved.</summary>
    WarmStart,

    /// <summary>Day 0's centres frozen: each item goes to the nearest; a cluster is split off only when a cluster's
    /// mean cost grows past <see cref="MultiDayOptions.FrozenCostGrowth"/>.</summary>
    FrozenCentres,

    /// <summary>Notebook 3's online rule started from day 0's clustering: an arriving item joins the nearest centre
    /// within eps or opens a new cluster; an item keeps its ID for as long as it stays.</summary>
    Online,
}

/// <summary>How the embedding model changes on <see cref="MultiDayOptions.ChangeDays"/>.</summary>
public enum ModelChangeKind
{
    /// <summary>No change: every day uses the first embeddings.</summary>
    None,

    /// <summary>A real change: on each change day the study switches between <see cref="MultiDayInput.Embeddings"/>
    /// and <see cref="MultiDayInput.ChangedEmbeddings"/> (e.g. ResNet18 at 224 and at 128 pixels of the same images).</summary>
    Real,

    /// <summary>A synthetic drift: on each change day every vector is rotated by <see cref="MultiDayOptions.DriftAngle"/>
    /// (a random rotation) and gets Gaussian noise (<see cref="MultiDayOptions.DriftNoise"/>); drifts accumulate.</summary>
    Synthetic,
}

/// <summary>Settings of <see cref="MultiDayStudy.Run"/>: <c>new MultiDayOptions { Days = 7, K = 100 }</c>.</summary>
public sealed record MultiDayOptions
{
    /// <summary>Days simulated, day 0 included; at least 2.</summary>
    public int Days { get; init; } = 7;

    /// <summary>Clusters of every KMeans fit.</summary>
    public int K { get; init; } = 100;

    /// <summary>KMeans restarts of each fresh fit (the warm start runs one: its start is not random).</summary>
    public int NInit { get; init; } = 2;

    /// <summary>Seed of the item plan, the fresh fits (<c>Seed + day</c>) and the drift.</summary>
    public int Seed { get; init; }

    /// <summary>Items leaving each day, as a share of day 0's item count, in [0, 1).</summary>
    public double LeaveFraction { get; init; } = 0.1;

    /// <summary>Items arriving each day (never seen before), as a share of day 0's item count, in [0, 1]. Day 0
    /// holds <c>floor(n / (1 + ArriveFraction (Days - 1)))</c> of the n items so the pool lasts.</summary>
    public double ArriveFraction { get; init; } = 0.1;

    /// <summary>How the model changes on <see cref="ChangeDays"/>.</summary>
    public ModelChangeKind ModelChange { get; init; } = ModelChangeKind.Real;

    /// <summary>Days (in [1, Days)) on which the model changes; ignored when <see cref="ModelChange"/> is None.</summary>
    public int[] ChangeDays { get; init; } = [4];

    /// <summary>Synthetic drift: the angle in radians by which every vector is rotated (in random planes).</summary>
    public double DriftAngle { get; init; } = 0.1;

    /// <summary>Synthetic drift: Gaussian noise per coordinate, as a share of the rows' root-mean-square coordinate.</summary>
    public double DriftNoise { get; init; } = 0.1;

    /// <summary>A sample-overlap pair keeps its ID when its Jaccard similarity is above this (retrain + overlap, and
    /// the warm start's safety net).</summary>
    public double OverlapThreshold { get; init; } = RemappingOptions.DefaultOverlapThreshold;

    /// <summary>A centroid pair keeps its ID when its centre similarity is above this (the article's 0.95).</summary>
    public double CentroidThreshold { get; init; } = CentroidMatcher.ArticleThreshold;

    /// <summary>An ID kept from yesterday "changed meaning" when the Jaccard similarity of its members on the two days
    /// (over the items both days hold) is below this.</summary>
    public double MeaningJaccard { get; init; } = 0.5;

    /// <summary>Frozen centres: a cluster whose mean squared distance to its centre exceeds this multiple of its day-0
    /// value is split (2-means; the far half gets a new ID and centre). Infinity (default): never.</summary>
    public double FrozenCostGrowth { get; init; } = double.PositiveInfinity;

    /// <summary>Online rule: join a centre within this distance; 0 (default): the 90th percentile of day 0's
    /// item-to-centre distances.</summary>
    public double OnlineEps { get; init; }

    /// <summary>Distance of every fit and assignment (default cosine).</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>The strategies run, in this order (default all six).</summary>
    public StabilityStrategy[] Strategies { get; init; } = Enum.GetValues<StabilityStrategy>();

    /// <summary>Overlap thresholds at which retrain + overlap is re-run to show the threshold's effect (empty: none).</summary>
    public double[] SweepThresholds { get; init; } = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    /// <summary>Throws naming the first setting out of range (ParamName and message use the property name).</summary>
    public void Validate()
    {
        if (Days < 2) throw new ArgumentOutOfRangeException(nameof(Days), Days, $"Days must be >= 2; got {Days}.");
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, $"K must be >= 1; got {K}.");
        if (NInit < 1) throw new ArgumentOutOfRangeException(nameof(NInit), NInit, $"NInit must be >= 1; got {NInit}.");
        if (!(LeaveFraction >= 0 && LeaveFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(LeaveFraction), LeaveFraction, $"LeaveFraction must be in [0, 1); got {LeaveFraction}.");
        if (!(ArriveFraction >= 0 && ArriveFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(ArriveFraction), ArriveFraction, $"ArriveFraction must be in [0, 1]; got {ArriveFraction}.");
        if (!Enum.IsDefined(ModelChange))
            throw new ArgumentOutOfRangeException(nameof(ModelChange), ModelChange, "ModelChange must be None, Real or Synthetic.");
        ArgumentNullException.ThrowIfNull(ChangeDays, nameof(ChangeDays));
        foreach (int day in ChangeDays)
            if (ModelChange != ModelChangeKind.None && (day < 1 || day >= Days))
                throw new ArgumentOutOfRangeException(nameof(ChangeDays), day, $"ChangeDays must lie in [1, Days={Days}); got {day}.");
        if (!(DriftAngle >= 0 && DriftAngle <= Math.PI))
            throw new ArgumentOutOfRangeException(nameof(DriftAngle), DriftAngle, $"DriftAngle must be in [0, pi] radians; got {DriftAngle}.");
        if (!(DriftNoise >= 0 && double.IsFinite(DriftNoise)))
            throw new ArgumentOutOfRangeException(nameof(DriftNoise), DriftNoise, $"DriftNoise must be a finite number >= 0; got {DriftNoise}.");
        foreach (var (name, value) in new[] { (nameof(OverlapThreshold), OverlapThreshold), (nameof(CentroidThreshold), CentroidThreshold), (nameof(MeaningJaccard), MeaningJaccard) })
            if (!(value >= 0 && value <= 1))
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1]; got {value}.");
        if (!(FrozenCostGrowth > 1))
            throw new ArgumentOutOfRangeException(nameof(FrozenCostGrowth), FrozenCostGrowth, $"FrozenCostGrowth must be > 1 (infinity: never split); got {FrozenCostGrowth}.");
        if (!(OnlineEps >= 0 && double.IsFinite(OnlineEps)))
            throw new ArgumentOutOfRangeException(nameof(OnlineEps), OnlineEps, $"OnlineEps must be a finite number >= 0 (0: automatic); got {OnlineEps}.");
        if (!Enum.IsDefined(Metric))
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Metric must be Cosine or Euclidean.");
        ArgumentNullException.ThrowIfNull(Strategies, nameof(Strategies));
        if (Strategies.Length == 0 || Strategies.Distinct().Count() != Strategies.Length || !Strategies.All(Enum.IsDefined))
            throw new ArgumentException("Strategies must name at least one strategy, each once.", nameof(Strategies));
        ArgumentNullException.ThrowIfNull(SweepThresholds, nameof(SweepThresholds));
        foreach (double t in SweepThresholds)
            if (!(t >= 0 && t <= 1))
                throw new ArgumentOutOfRangeException(nameof(SweepThresholds), t, $"SweepThresholds must lie in [0, 1]; got {t}.");
    }
}

/// <summary>What the study clusters: the pool of items, once per embedding model.</summary>
/// <param name="Embeddings">n x d vectors of the first model.</param>
/// <param name="ItemIds">The n item ids.</param>
/// <param name="FineLabels">Class of each item (CIFAR-100 fine), or null.</param>
/// <param name="CoarseLabels">Superclass of each item (CIFAR-100 coarse), or null.</param>
/// <param name="ChangedEmbeddings">The same n items embedded by the changed model (same dimension), for
/// <see cref="ModelChangeKind.Real"/>; null otherwise.</param>
public sealed record MultiDayInput(EmbeddingMatrix Embeddings, long[] ItemIds, int[]? FineLabels = null, int[]? CoarseLabels = null,
    EmbeddingMatrix? ChangedEmbeddings = null);

/// <summary>One simulated day.</summary>
/// <param name="Day">0, 1, ...</param>
/// <param name="Rows">Rows of the pool present that day, ascending.</param>
/// <param name="Left">Items of yesterday gone today.</param>
/// <param name="Arrived">Items new today.</param>
/// <param name="Model">Which embeddings the day uses: 0 the first model, 1 the changed one (real change), or the
/// number of synthetic drifts applied so far.</param>
public sealed record DayPlan(int Day, int[] Rows, int Left, int Arrived, int Model);

/// <summary>One strategy on one day.</summary>
/// <param name="Strategy">The strategy.</param>
/// <param name="Day">The day.</param>
/// <param name="Items">Items clustered that day.</param>
/// <param name="Clusters">IDs in use.</param>
/// <param name="MatchRate">The match rate against yesterday's IDs (<see cref="ClusteringMetrics.MatchRate(JoinedLabelings)"/>); NaN on day 0.</param>
/// <param name="Ceiling">The best match rate any one-to-one relabelling of the day's fresh KMeans could reach against
/// this strategy's yesterday (<see cref="MultiDayStudy.Ceiling"/>); NaN on day 0. It bounds the retrain strategies only:
/// warm start, frozen centres and the online rule do not relabel a fresh fit, so their match rate can exceed it.</param>
/// <param name="Survival">Of day 0's items still present, the share carrying their day-0 ID.</param>
/// <param name="ChangedMeaning">IDs kept from yesterday whose members changed (<see cref="MultiDayStudy.ChangedMeaning"/>).</param>
/// <param name="Created">IDs in use today and not yesterday.</param>
/// <param name="Retired">IDs in use yesterday and not today.</param>
/// <param name="InertiaRatio">Inertia of the strategy's clusters over that of the day's fresh KMeans (1: as good).</param>
/// <param name="AriFine">ARI against the fine classes (NaN without labels).</param>
/// <param name="AriCoarse">ARI against the coarse classes (NaN without labels).</param>
/// <param name="Seconds">Time the strategy took that day (the shared fresh fit counted once, in raw retrain).</param>
public sealed record StrategyDay(StabilityStrategy Strategy, int Day, int Items, int Clusters, double MatchRate, double Ceiling,
    double Survival, int ChangedMeaning, int Created, int Retired, double InertiaRatio, double AriFine, double AriCoarse, double Seconds);

/// <summary>A strategy over the whole run.</summary>
/// <param name="Strategy">The strategy.</param>
/// <param name="MeanMatchRate">Mean match rate over days 1..D-1.</param>
/// <param name="MeanCeiling">Mean ceiling over days 1..D-1.</param>
/// <param name="FinalSurvival">Survival on the last day.</param>
/// <param name="ChangedMeaning">Changed-meaning IDs summed over the days.</param>
/// <param name="Created">IDs created, summed over days 1..D-1.</param>
/// <param name="Retired">IDs retired, summed over days 1..D-1.</param>
/// <param name="MeanInertiaRatio">Mean inertia ratio over days 1..D-1 (the quality cost).</param>
/// <param name="MeanAriFine">Mean ARI against the fine classes over all days (NaN without labels).</param>
/// <param name="MeanAriCoarse">Mean ARI against the coarse classes over all days (NaN without labels).</param>
/// <param name="Seconds">Total time.</param>
public sealed record StrategySummary(StabilityStrategy Strategy, double MeanMatchRate, double MeanCeiling, double FinalSurvival,
    int ChangedMeaning, int Created, int Retired, double MeanInertiaRatio, double MeanAriFine, double MeanAriCoarse, double Seconds);

/// <summary>Retrain + overlap re-run at one threshold.</summary>
/// <param name="Threshold">The overlap threshold.</param>
/// <param name="MeanMatchRate">Mean match rate over days 1..D-1.</param>
/// <param name="FinalSurvival">Survival on the last day.</param>
/// <param name="ChangedMeaning">Changed-meaning IDs summed over the days.</param>
/// <param name="Created">IDs created, summed over the days.</param>
public sealed record ThresholdEffect(double Threshold, double MeanMatchRate, double FinalSurvival, int ChangedMeaning, int Created);

/// <summary>The outcome of <see cref="MultiDayStudy.Run"/>.</summary>
/// <param name="Options">The settings used.</param>
/// <param name="Plan">The days.</param>
/// <param name="Measures">Every strategy on every day, by strategy (in options order) then day.</param>
/// <param name="Summary">One row per strategy.</param>
/// <param name="ThresholdSweep">Retrain + overlap at each of <see cref="MultiDayOptions.SweepThresholds"/>.</param>
/// <param name="Labelings">Each strategy's IDs on each day (index: day).</param>
/// <param name="OnlineEps">The online rule's eps (as given, or chosen from day 0).</param>
public sealed record MultiDayResult(MultiDayOptions Options, IReadOnlyList<DayPlan> Plan, IReadOnlyList<StrategyDay> Measures,
    IReadOnlyList<StrategySummary> Summary, IReadOnlyList<ThresholdEffect> ThresholdSweep,
    IReadOnlyDictionary<StabilityStrategy, IReadOnlyList<Labeling>> Labelings, double OnlineEps);

/// <summary>
/// Simulates D days over one embedding set (items leave and arrive, the model changes on chosen days) and measures,
/// per strategy and day, how stable the IDs are and what that costs in cluster quality (issue 11).
/// </summary>
public static class MultiDayStudy
{
    private const string Stage = "multi-day study";

    /// <summary>
    /// Which items each day holds: day 0 a random <c>floor(n / (1 + ArriveFraction (Days - 1)))</c> of the pool; each
    /// later day <c>round(LeaveFraction x N0)</c> random items of yesterday leave and the next
    /// <c>round(ArriveFraction x N0)</c> never-seen items of a seeded order arrive. Model: 0 until the first change day;
    /// under a real change it toggles 0/1 at each change day, under a synthetic one it counts the drifts.
    /// </summary>
    /// <exception cref="ArgumentException">The pool is smaller than K items on day 0.</exception>
    public static IReadOnlyList<DayPlan> PlanDays(int poolSize, MultiDayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n0 = (int)Math.Floor(poolSize / (1 + options.ArriveFraction * (options.Days - 1)));
        if (n0 < options.K)
            throw new ArgumentException($"day 0 would hold {n0} of the {poolSize} items, fewer than K={options.K}.", nameof(poolSize));
        int leave = (int)Math.Round(options.LeaveFraction * n0, MidpointRounding.AwayFromZero);
        int arrive = (int)Math.Round(options.ArriveFraction * n0, MidpointRounding.AwayFromZero);
        var order = ItemChurn.Sample(poolSize, poolSize, options.Seed);
        var present = order[..n0].ToList();
        int next = n0, model = 0;
        var random = new Random(options.Seed + 1);
        var plan = new List<DayPlan> { new(0, present.Order().ToArray(), 0, 0, 0) };
        for (int day = 1; day < options.Days; day++)
        {
            // Leavers: a seeded sample of yesterday's items (positions into the current list).
            var leaving = new HashSet<int>(ItemChurn.Sample(present.Count, Math.Min(leave, present.Count - 1), random.Next()).Select(p => present[p]));
            present.RemoveAll(leaving.Contains);
            int came = Math.Min(arrive, poolSize - next);
            present.AddRange(order[next..(next + came)]);
            next += came;
            if (options.ModelChange != ModelChangeKind.None && options.ChangeDays.Contains(day))
                model = options.ModelChange == ModelChangeKind.Real ? 1 - model : model + 1;
            plan.Add(new DayPlan(day, present.Order().ToArray(), leaving.Count, came, model));
        }
        return plan;
    }

    /// <summary>
    /// A synthetic model drift: every row rotated by exactly <paramref name="angle"/> radians (the coordinates are
    /// paired at random and each pair's plane turned by the angle, one random sense per pair; with an odd dimension
    /// one coordinate stays), then Gaussian noise of standard deviation <paramref name="noise"/> x the rows' RMS coordinate.
    /// </summary>
    public static EmbeddingMatrix Drift(EmbeddingMatrix x, double angle, double noise, int seed)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Count, d = x.Dimension;
        var random = new Random(seed);
        var perm = ItemChurn.Sample(d, d, random.Next());
        var sign = Enumerable.Range(0, d / 2).Select(_ => random.Next(2) == 0 ? -1.0 : 1.0).ToArray();
        double rms = Math.Sqrt(x.Data.Sum(v => (double)v * v) / Math.Max(1, x.Data.Length));
        var data = (float[])x.Data.Clone();
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        for (int i = 0; i < n; i++)
        {
            var row = data.AsSpan(i * d, d);
            for (int p = 0; p < d / 2; p++)
            {
                int a = perm[2 * p], b = perm[2 * p + 1];
                double u = row[a], v = row[b], s = sin * sign[p];
                row[a] = (float)(cos * u - s * v);
                row[b] = (float)(s * u + cos * v);
            }
            if (noise > 0)
                for (int t = 0; t < d; t++)
                    row[t] += (float)(noise * rms * Gauss(random));
        }
        return new EmbeddingMatrix(data, n, d);
    }

    /// <summary>
    /// The ceiling of a day: the best match rate any one-to-one relabelling of <paramref name="fresh"/> can reach
    /// against <paramref name="yesterday"/> (Hungarian on the raw overlap counts, no threshold), with the match rate's
    /// denominator: the shared items that were in a cluster yesterday.
    /// </summary>
    /// <exception cref="ArgumentException">No shared item was in a cluster yesterday.</exception>
    public static double Ceiling(Labeling yesterday, Labeling fresh)
    {
        var overlap = ClusterOverlap.Compute(yesterday, fresh);
        long clustered = overlap.OldSizes.Sum(s => (long)s);
        if (clustered == 0)
            throw new ArgumentException("no shared item was in a cluster yesterday: the ceiling is undefined.", nameof(yesterday));
        int rows = overlap.OldClusterIds.Length, cols = overlap.NewClusterIds.Length;
        if (rows == 0 || cols == 0) return 0;
        var counts = new double[rows * cols];
        foreach (var e in overlap.Entries) counts[e.OldIndex * cols + e.NewIndex] = e.Intersection;
        var best = LinearAssignment.Solve(counts, rows, cols, maximize: true);
        return best.TotalCost / clustered;
    }

    /// <summary>
    /// IDs that changed meaning: IDs in use on both days whose members, over the items both days hold, have a Jaccard
    /// similarity below <paramref name="jaccard"/> (the embedding row of that ID now learns another cluster). An ID
    /// with no shared member on either day is not counted (0/0: no evidence).
    /// </summary>
    public static int ChangedMeaning(Labeling yesterday, Labeling today, double jaccard)
    {
        var overlap = ClusterOverlap.Compute(yesterday, today);
        int changed = 0;
        for (int o = 0; o < overlap.OldClusterIds.Length; o++)
        {
            int id = overlap.OldClusterIds[o], n = Array.BinarySearch(overlap.NewClusterIds, id);
            // An ID none of whose members is shared (all left, all new) gives no evidence either way: 0/0, not counted.
            if (n < 0 || overlap.OldSizes[o] + overlap.NewSizes[n] == 0) continue;
            if (overlap.Jaccard(id, id) < jaccard) changed++;
        }
        return changed;
    }

    /// <summary>IDs in use today and not yesterday, and the other way round.</summary>
    public static (int Created, int Retired) CreatedAndRetired(Labeling yesterday, Labeling today)
    {
        ArgumentNullException.ThrowIfNull(yesterday);
        ArgumentNullException.ThrowIfNull(today);
        var before = new HashSet<int>(yesterday.ClusterIds.ToArray());
        var after = new HashSet<int>(today.ClusterIds.ToArray());
        return (after.Count(id => !before.Contains(id)), before.Count(id => !after.Contains(id)));
    }

    /// <summary>
    /// Runs every strategy of <paramref name="options"/> over the planned days and measures them.
    /// </summary>
    /// <param name="input">The pool (and its changed-model embeddings for a real change).</param>
    /// <param name="options">Days, churn, model change, strategies, thresholds.</param>
    /// <param name="progress">Stage "multi-day study": one report per day.</param>
    /// <param name="cancellationToken">Checked between days and strategies.</param>
    /// <exception cref="ArgumentException">A real change without changed embeddings (or of another shape), labels of
    /// another length, or a pool too small.</exception>
    public static MultiDayResult Run(MultiDayInput input, MultiDayOptions options, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n = input.Embeddings.Count;
        if (input.ItemIds.Length != n)
            throw new ArgumentException($"ItemIds has {input.ItemIds.Length} entries but Embeddings has {n} rows.", nameof(input));
        foreach (var (name, labels) in new[] { ("FineLabels", input.FineLabels), ("CoarseLabels", input.CoarseLabels) })
            if (labels is not null && labels.Length != n)
                throw new ArgumentException($"{name} has {labels.Length} entries but Embeddings has {n} rows.", nameof(input));
        if (options.ModelChange == ModelChangeKind.Real && options.ChangeDays.Length > 0)
        {
            if (input.ChangedEmbeddings is not { } changed)
                throw new ArgumentException("ModelChange = Real needs ChangedEmbeddings (the same items embedded by the other model).", nameof(input));
            if (changed.Count != n || changed.Dimension != input.Embeddings.Dimension)
                throw new ArgumentException(
                    $"ChangedEmbeddings is {changed.Count} x {changed.Dimension} but Embeddings is {n} x {input.Embeddings.Dimension}: the same items, the same dimension.", nameof(input));
        }

        var plan = PlanDays(n, options);
        var versions = new Dictionary<int, EmbeddingMatrix> { [0] = input.Embeddings };
        EmbeddingMatrix Version(int model)
        {
            if (versions.TryGetValue(model, out var x)) return x;
            x = options.ModelChange == ModelChangeKind.Real ? input.ChangedEmbeddings!
                : Drift(Version(model - 1), options.DriftAngle, options.DriftNoise, options.Seed + 1000 + model);
            versions[model] = x;
            return x;
        }

        var runs = options.Strategies.ToDictionary(s => s, s => new StrategyState());
        var fresh = new List<(Labeling Labels, KMeansResult Fit)>();
        var dayData = new List<EmbeddingMatrix>();
        double eps = options.OnlineEps;
        NearestCentroidAssigner? online = null;
        var frozen = new FrozenState();

        for (int day = 0; day < plan.Count; day++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = plan[day];
            var x = Version(p.Model).SelectRows(p.Rows);
            var ids = Array.ConvertAll(p.Rows, r => input.ItemIds[r]);
            dayData.Add(x);
            var clock = Stopwatch.StartNew();
            var fit = KMeans.Fit(x, Fresh(options, day), cancellationToken: cancellationToken);
            double freshSeconds = clock.Elapsed.TotalSeconds;
            var freshLabels = new Labeling(ids, fit.Labels);
            fresh.Add((freshLabels, fit));

            foreach (var strategy in options.Strategies)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var state = runs[strategy];
                clock.Restart();
                Labeling today;
                if (day == 0)
                {
                    today = freshLabels;
                    state.Centres = ClusterCentres.FromKMeans(fit);
                    if (strategy == StabilityStrategy.FrozenCentres) frozen.Start(x, fit, options);
                    if (strategy == StabilityStrategy.Online)
                    {
                        if (eps == 0) eps = AutoEps(x, fit, options.Metric);
                        var tables = ClusterTables.Initialise(ids, x, fit.Labels, metric: options.Metric);
                        online = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = eps });
                    }
                }
                else
                {
                    var yesterday = state.Labelings[^1];
                    today = strategy switch
                    {
                        StabilityStrategy.RawRetrain => freshLabels,
                        StabilityStrategy.RetrainOverlap => Overlap(state, yesterday, freshLabels, fit, options.OverlapThreshold),
                        StabilityStrategy.RetrainCentroid => Centroid(state, freshLabels, fit, options),
                        StabilityStrategy.WarmStart => Warm(state, yesterday, ids, x, options, day, cancellationToken),
                        StabilityStrategy.FrozenCentres => new Labeling(ids, frozen.Assign(x, options, day)),
                        StabilityStrategy.Online => OnlineDay(online!, ids, x),
                        _ => throw new InvalidOperationException(),
                    };
                }
                double seconds = clock.Elapsed.TotalSeconds + (strategy == StabilityStrategy.RawRetrain ? freshSeconds : 0);
                state.Labelings.Add(today);
                state.Measures.Add(Measure(strategy, day, state.Labelings, freshLabels, fit.Inertia, x, input, p.Rows, options, seconds));
            }
            progress?.Report(new WorkProgress(Stage, day + 1, plan.Count, $"day {day} of {plan.Count - 1}"));
        }

        var sweep = options.SweepThresholds.Select(t =>
        {
            var state = new StrategyState { Centres = ClusterCentres.FromKMeans(fresh[0].Fit) };
            state.Labelings.Add(fresh[0].Labels);
            int changedMeaning = 0;
            var rates = new List<double>();
            for (int day = 1; day < fresh.Count; day++)
            {
                var today = Overlap(state, state.Labelings[^1], fresh[day].Labels, fresh[day].Fit, t);
                rates.Add(ClusteringMetrics.MatchRate(Labeling.Join(state.Labelings[^1], today)));
                changedMeaning += ChangedMeaning(state.Labelings[^1], today, options.MeaningJaccard);
                state.Labelings.Add(today);
            }
            int created = 0;
            for (int day = 1; day < state.Labelings.Count; day++) created += CreatedAndRetired(state.Labelings[day - 1], state.Labelings[day]).Created;
            return new ThresholdEffect(t, rates.Average(), Survival(state.Labelings[0], state.Labelings[^1]), changedMeaning, created);
        }).ToArray();

        var measures = options.Strategies.SelectMany(s => runs[s].Measures).ToArray();
        var summary = options.Strategies.Select(s =>
        {
            var m = runs[s].Measures;
            var later = m.Skip(1).ToArray();
            return new StrategySummary(s, later.Average(r => r.MatchRate), later.Average(r => r.Ceiling), m[^1].Survival,
                later.Sum(r => r.ChangedMeaning), later.Sum(r => r.Created), later.Sum(r => r.Retired), later.Average(r => r.InertiaRatio),
                m.Average(r => r.AriFine), m.Average(r => r.AriCoarse), m.Sum(r => r.Seconds));
        }).ToArray();
        return new MultiDayResult(options, plan, measures, summary, sweep,
            options.Strategies.ToDictionary(s => s, s => (IReadOnlyList<Labeling>)runs[s].Labelings.ToArray()), eps);
    }

    /// <summary>The options of day <paramref name="day"/>'s fresh KMeans: K, NInit, metric, seed <c>Seed + day</c>.</summary>
    public static KMeansOptions Fresh(MultiDayOptions options, int day)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new KMeansOptions { K = options.K, NInit = options.NInit, Seed = options.Seed + day, Metric = options.Metric };
    }

    private sealed class StrategyState
    {
        public List<Labeling> Labelings { get; } = [];
        public List<StrategyDay> Measures { get; } = [];
        public ClusterCentres? Centres { get; set; }
        public int HighWaterMark { get; set; } = -1;
    }

    private static Labeling Overlap(StrategyState state, Labeling yesterday, Labeling today, KMeansResult fit, double threshold)
    {
        var r = LabelRemapper.ByOverlap(yesterday, today, new RemappingOptions { OverlapThreshold = threshold });
        state.Centres = Keyed(fit.Centres, r);
        return new Labeling(today.ItemIds, r.Apply(today.Labels));
    }

    private static Labeling Centroid(StrategyState state, Labeling today, KMeansResult fit, MultiDayOptions options)
    {
        var r = LabelRemapper.ByCentroids(state.Centres!, ClusterCentres.FromKMeans(fit),
            new RemappingOptions { CentroidThreshold = options.CentroidThreshold, Metric = options.Metric });
        state.Centres = Keyed(fit.Centres, r);
        return new Labeling(today.ItemIds, r.Apply(today.Labels));
    }

    private static Labeling Warm(StrategyState state, Labeling yesterday, long[] ids, EmbeddingMatrix x, MultiDayOptions options,
        int day, CancellationToken cancellationToken)
    {
        // Yesterday's centres in ID order: warm cluster j starts as yesterday's j-th ID.
        var prev = state.Centres!;
        var order = prev.ClusterIds.ToArray().Order().Take(options.K).ToArray();
        var start = prev.Centres.SelectRows(order.Select(prev.RowOf).ToArray());
        var fit = KMeans.Fit(x, Fresh(options, day) with { InitialCentres = start }, cancellationToken: cancellationToken);
        return Overlap(state, yesterday, new Labeling(ids, fit.Labels), fit, options.OverlapThreshold);
    }

    private static Labeling OnlineDay(NearestCentroidAssigner online, long[] ids, EmbeddingMatrix x)
    {
        var tables = online.Tables;
        var arrivals = Enumerable.Range(0, ids.Length).Where(i => !tables.ContainsItem(ids[i])).ToArray();
        if (arrivals.Length > 0)
            online.AssignBatch(arrivals.Select(i => ids[i]).ToArray(), x.SelectRows(arrivals));
        return new Labeling(ids, Array.ConvertAll(ids, tables.ClusterOf));
    }

    // Today's centres keyed by their final IDs.
    private static ClusterCentres Keyed(EmbeddingMatrix centres, RemappingResult r) =>
        new(centres, Enumerable.Range(0, centres.Count).Select(r.FinalId).ToArray());

    private static double AutoEps(EmbeddingMatrix x, KMeansResult fit, DistanceMetric metric)
    {
        var distances = new double[x.Count];
        for (int i = 0; i < x.Count; i++)
        {
            var row = x.Row(i);
            var c = fit.Centres.Row(fit.Labels[i]);
            distances[i] = metric == DistanceMetric.Cosine
                ? 1 - TensorPrimitives.CosineSimilarity(row, c)
                : TensorPrimitives.Distance(row, c);
        }
        Array.Sort(distances);
        return Math.Max(1e-6, distances[(int)(0.9 * (distances.Length - 1))]);
    }

    private static StrategyDay Measure(StabilityStrategy strategy, int day, List<Labeling> labelings, Labeling fresh, double freshInertia,
        EmbeddingMatrix x, MultiDayInput input, int[] rows, MultiDayOptions options, double seconds)
    {
        var today = labelings[^1];
        double matchRate = double.NaN, ceiling = double.NaN;
        int changed = 0, created = 0, retired = 0;
        if (day > 0)
        {
            var yesterday = labelings[^2];
            matchRate = ClusteringMetrics.MatchRate(Labeling.Join(yesterday, today));
            ceiling = Ceiling(yesterday, fresh);
            changed = ChangedMeaning(yesterday, today, options.MeaningJaccard);
            (created, retired) = CreatedAndRetired(yesterday, today);
        }
        var labels = today.Labels.ToArray();
        double ari(int[]? truth) => truth is null ? double.NaN
            : ClusteringMetrics.AdjustedRandIndex(Array.ConvertAll(rows, r => truth[r]), labels);
        return new StrategyDay(strategy, day, today.Count, today.ClusterIds.Length, matchRate, ceiling,
            Survival(labelings[0], today), changed, created, retired,
            Inertia(x, labels, options.Metric) / freshInertia, ari(input.FineLabels), ari(input.CoarseLabels), seconds);
    }

    private static double Survival(Labeling day0, Labeling today)
    {
        var shared = Labeling.Join(day0, today);
        return shared.Count == 0 ? double.NaN : ClusteringMetrics.MatchRate(shared);
    }

    /// <summary>
    /// KMeans' inertia of a partition: Σ ||x - c||² with c the members' mean (unit rows and the normalised mean under
    /// cosine, as spherical KMeans measures it).
    /// </summary>
    public static double Inertia(EmbeddingMatrix x, int[] labels, DistanceMetric metric)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        int d = x.Dimension;
        var rows = Prepared(x, metric);
        var sums = new Dictionary<int, double[]>();
        for (int i = 0; i < x.Count; i++)
        {
            if (!sums.TryGetValue(labels[i], out var s)) sums[labels[i]] = s = new double[d];
            var row = rows.AsSpan(i * d, d);
            for (int t = 0; t < d; t++) s[t] += row[t];
        }
        var centres = new Dictionary<int, float[]>();
        foreach (var (label, s) in sums)
        {
            double scale = metric == DistanceMetric.Cosine ? Math.Sqrt(s.Sum(v => v * v)) : labels.Count(l => l == label);
            centres[label] = s.Select(v => (float)(scale > 0 ? v / scale : 0)).ToArray();
        }
        double total = 0;
        for (int i = 0; i < x.Count; i++)
        {
            double e = TensorPrimitives.Distance(rows.AsSpan(i * d, d), centres[labels[i]]);
            total += e * e;
        }
        return total;
    }

    private static float[] Prepared(EmbeddingMatrix x, DistanceMetric metric)
    {
        var rows = (float[])x.Data.Clone();
        if (metric == DistanceMetric.Cosine)
            for (int i = 0; i < x.Count; i++)
            {
                var row = rows.AsSpan(i * x.Dimension, x.Dimension);
                float norm = TensorPrimitives.Norm(row);
                if (norm > 0) TensorPrimitives.Divide(row, norm, row);
            }
        return rows;
    }

    private static double Gauss(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Frozen centres: day 0's centres, plus the halves split off when a cluster's cost grew too much.</summary>
    private sealed class FrozenState
    {
        private readonly List<float[]> _centres = [];
        private readonly List<int> _ids = [];
        private readonly List<double> _baseline = [];   // day-0 mean squared distance to the centre

        public void Start(EmbeddingMatrix x, KMeansResult fit, MultiDayOptions options)
        {
            var rows = Prepared(x, options.Metric);
            int d = x.Dimension;
            for (int j = 0; j < fit.Centres.Count; j++)
            {
                _centres.Add(fit.Centres.Row(j).ToArray());
                _ids.Add(j);
            }
            var (sum, count) = (new double[_ids.Count], new int[_ids.Count]);
            for (int i = 0; i < x.Count; i++)
            {
                double e = TensorPrimitives.Distance(rows.AsSpan(i * d, d), _centres[fit.Labels[i]]);
                sum[fit.Labels[i]] += e * e;
                count[fit.Labels[i]]++;
            }
            for (int j = 0; j < _ids.Count; j++) _baseline.Add(count[j] == 0 ? 0 : sum[j] / count[j]);
        }

        public int[] Assign(EmbeddingMatrix x, MultiDayOptions options, int day)
        {
            var rows = Prepared(x, options.Metric);
            var (labels, cost) = Nearest(rows, x.Count, x.Dimension);
            if (double.IsPositiveInfinity(options.FrozenCostGrowth)) return labels;
            int d = x.Dimension, before = _ids.Count;
            for (int j = 0; j < before; j++)
            {
                var members = Enumerable.Range(0, x.Count).Where(i => labels[i] == _ids[j]).ToArray();
                if (members.Length < 2 || _baseline[j] <= 0) continue;
                double mean = members.Average(i => cost[i]);
                if (mean <= options.FrozenCostGrowth * _baseline[j]) continue;
                var split = KMeans.Fit(new EmbeddingMatrix(members.SelectMany(i => rows.AsSpan(i * d, d).ToArray()).ToArray(), members.Length, d),
                    new KMeansOptions { K = 2, NInit = 1, Seed = options.Seed + day, Metric = options.Metric });
                // The half whose centre is farther from the frozen centre becomes a new cluster.
                int far = TensorPrimitives.Distance(split.Centres.Row(0), _centres[j]) >= TensorPrimitives.Distance(split.Centres.Row(1), _centres[j]) ? 0 : 1;
                _centres.Add(split.Centres.Row(far).ToArray());
                _ids.Add(_ids.Max() + 1);
                var half = members.Where((_, k) => split.Labels[k] == far).ToArray();
                _baseline.Add(half.Average(i =>
                {
                    double e = TensorPrimitives.Distance(rows.AsSpan(i * d, d), _centres[^1]);
                    return e * e;
                }));
            }
            return _ids.Count == before ? labels : Nearest(rows, x.Count, d).Labels;
        }

        private (int[] Labels, double[] Cost) Nearest(float[] rows, int n, int d)
        {
            var labels = new int[n];
            var cost = new double[n];
            Parallel.For(0, n, i =>
            {
                var row = rows.AsSpan(i * d, d);
                int best = 0;
                float bestD = float.PositiveInfinity;
                for (int j = 0; j < _centres.Count; j++)
                {
                    float e = TensorPrimitives.Distance(row, _centres[j]);
                    if (e < bestD) { bestD = e; best = j; }
                }
                labels[i] = _ids[best];
                cost[i] = (double)bestD * bestD;
            });
            return (labels, cost);
        }
    }
}
