using System.Globalization;
using LabelAssignment.Numerics;
using Microsoft.Data.Analysis;
using LabelAssignment.Online;

namespace LabelAssignment.Studies;

/// <summary>One assigner's failure shares across an eps sweep, one value per eps (the notebook's charts).</summary>
/// <param name="Assigner">Which assigner.</param>
/// <param name="Missed">Of the new items the re-run puts into an old cluster, the share sent to a new cluster (failure 1);
/// NaN (a gap in a chart) at an eps where no new item belongs to an old cluster, since there is nothing to miss.</param>
/// <param name="WronglyNew">Of all new items, the share wrongly given a new cluster (failure 1 over everything streamed).</param>
/// <param name="WronglyMerged">Of all new items, the share wrongly merged into an old cluster.</param>
/// <param name="Same">Of all new items, the share given the re-run's answer.</param>
public sealed record AssignerSweepSeries(AssignerKind Assigner, double[] Missed, double[] WronglyNew, double[] WronglyMerged, double[] Same)
{
    /// <summary>The assigner's display name (a chart's legend).</summary>
    public string Name => Assigner.DisplayName();
}

/// <summary>The sweep as series against eps.</summary>
/// <param name="Eps">The eps values, in sweep order.</param>
/// <param name="Assigners">One series set per assigner.</param>
/// <param name="InitialOutside">Initial clusters whose centre lies outside the cluster (failure 2), per eps.</param>
/// <param name="RerunOutside">Re-run clusters whose centre lies outside, per eps.</param>
/// <param name="InitialClusters">Initial clusters, per eps.</param>
/// <param name="BeyondEps">Share of clustered initial items farther than eps from their own centre, per eps.</param>
public sealed record NearestSweepSeries(double[] Eps, IReadOnlyList<AssignerSweepSeries> Assigners, double[] InitialOutside,
    double[] RerunOutside, double[] InitialClusters, double[] BeyondEps)
{
    /// <summary>The series of <paramref name="kind"/>; throws when the sweep did not run it.</summary>
    public AssignerSweepSeries Of(AssignerKind kind) => Assigners.FirstOrDefault(a => a.Assigner == kind)
        ?? throw new ArgumentException($"the sweep has no {kind} series (it has: {string.Join(", ", Assigners.Select(a => a.Assigner))}).", nameof(kind));
}

/// <summary>
/// The computed half of the notebook <c>3.nearest</c>: the distance look that picks eps, the diagnostics as tables,
/// the sweep as series, and a conclusion written from the measured values (each sentence says only what they show).
/// </summary>
public static class NearestStudy
{
    /// <summary>
    /// For each row, the distance to its (<paramref name="minSamples"/> − 1)-th nearest other row: a row is a DBSCAN
    /// core point at eps exactly when this is &lt;= eps (minSamples counts the row itself, as scikit-learn does), so
    /// its distribution shows which eps makes which share of the items core points. 0 for minSamples = 1.
    /// Brute force over all pairs: meant for the few thousand rows a notebook looks at.
    /// </summary>
    /// <param name="x">n x d embeddings, n &gt;= minSamples; under cosine no zero row.</param>
    /// <param name="minSamples">DBSCAN minSamples, &gt;= 1.</param>
    /// <param name="metric">Cosine (1 − cos) or euclidean.</param>
    public static double[] CoreDistances(EmbeddingMatrix x, int minSamples, DistanceMetric metric = DistanceMetric.Cosine)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (minSamples < 1)
            throw new ArgumentOutOfRangeException(nameof(minSamples), minSamples, "minSamples must be >= 1.");
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Cosine or Euclidean.");
        int n = x.Count, d = x.Dimension, k = minSamples - 1;
        if (n < minSamples)
            throw new ArgumentException($"x has {n} rows; minSamples={minSamples} needs at least that many.", nameof(x));
        EmbeddingMatrix.ValidateRows(x.Data, n, d, metric, nameof(x));
        var result = new double[n];
        if (k == 0) return result;
        var norms = new double[n];
        for (int i = 0; i < n; i++) norms[i] = DistanceKernels.Norm(x.Row(i));
        Parallel.For(0, n, i =>
        {
            var a = x.Row(i);
            var dist = new double[n - 1];
            int m = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                var b = x.Row(j);
                dist[m++] = DistanceKernels.Distance(metric, a, norms[i], b, norms[j]);
            }
            Array.Sort(dist);
            result[i] = dist[k - 1];
        });
        return result;
    }

    /// <summary>The value at quantile <paramref name="q"/> (linear interpolation, numpy's default) of <paramref name="values"/>.</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new ArgumentException("values is empty.", nameof(values));
        if (!(q >= 0 && q <= 1))
            throw new ArgumentOutOfRangeException(nameof(q), q, "q must be in [0, 1].");
        var s = values.Order().ToArray();
        double pos = q * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }

    /// <summary>Share of <paramref name="values"/> at or below <paramref name="threshold"/> (e.g. of core distances: the core-point share at that eps).</summary>
    public static double ShareAtMost(IReadOnlyList<double> values, double threshold)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count == 0 ? 0 : (double)values.Count(v => v <= threshold) / values.Count;
    }

    /// <summary>
    /// eps values from <paramref name="from"/> to <paramref name="to"/> (inclusive) in steps of <paramref name="step"/>,
    /// rounded to 6 decimals so they print cleanly.
    /// </summary>
    public static double[] EpsGrid(double from, double to, double step)
    {
        if (!double.IsFinite(from) || from <= 0)
            throw new ArgumentOutOfRangeException(nameof(from), from, "from must be a finite eps > 0.");
        if (!double.IsFinite(to) || to < from)
            throw new ArgumentOutOfRangeException(nameof(to), to, $"to must be finite and >= from ({from}).");
        if (!double.IsFinite(step) || step <= 0)
            throw new ArgumentOutOfRangeException(nameof(step), step, "step must be a finite number > 0.");
        int count = (int)Math.Floor((to - from) / step + 1e-9) + 1;
        if (count > 200)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"the grid from {from} to {to} by {step} has {count} values; at most 200.");
        return Enumerable.Range(0, count).Select(i => Math.Round(from + i * step, 6)).ToArray();
    }

    /// <summary>
    /// The diagnostics of one evaluation as a table, one row per assigner: what it did (joined, opened) and how it
    /// agrees with the re-run (same, missed, wrongly merged; counts and shares in percent).
    /// </summary>
    public static DataFrame DiagnosticsTable(OnlineEvaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        int rows = evaluation.Assigners.Count;
        var name = new StringDataFrameColumn("assigner", rows);
        var joined = new Int32DataFrameColumn("joined a cluster", rows);
        var opened = new Int32DataFrameColumn("opened a new ID", rows);
        var same = new DoubleDataFrameColumn("same as re-run %", rows);
        var missed = new Int32DataFrameColumn("missed", rows);
        var missedShare = new DoubleDataFrameColumn("missed % of truth-in-old", rows);
        var wronglyNew = new DoubleDataFrameColumn("wrongly new %", rows);
        var merged = new DoubleDataFrameColumn("wrongly merged %", rows);
        var centres = new Int32DataFrameColumn("centres at end", rows);
        for (int i = 0; i < rows; i++)
        {
            var a = evaluation.Assigners[i];
            var r = evaluation.Runs[i];
            name[i] = r.Name;
            joined[i] = r.Joined;
            opened[i] = r.Created;
            same[i] = Percent(a.SameShare);
            missed[i] = a.Missed;
            missedShare[i] = Percent(a.MissedShareOfTruthInOld);
            wronglyNew[i] = Percent(a.MissedShare);
            merged[i] = Percent(a.WronglyMergedShare);
            centres[i] = r.CentresAtEnd;
        }
        return new DataFrame(name, joined, opened, same, missed, missedShare, wronglyNew, merged, centres);
    }

    /// <summary>Failure 2 per cluster of the initial clustering, largest clusters first, as a table.</summary>
    public static DataFrame CentreTable(OnlineEvaluation evaluation, int maxRows = 20)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        if (maxRows < 1)
            throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "maxRows must be >= 1.");
        var list = evaluation.InitialClusterCentres.OrderByDescending(c => c.Size).ThenBy(c => c.ClusterId).Take(maxRows).ToArray();
        var id = new Int32DataFrameColumn("cluster_id", list.Length);
        var size = new Int32DataFrameColumn("size", list.Length);
        var core = new Int32DataFrameColumn("core points", list.Length);
        var near = new DoubleDataFrameColumn("centre to nearest core", list.Length);
        var outside = new BooleanDataFrameColumn("centre outside", list.Length);
        var far = new DoubleDataFrameColumn("farthest member", list.Length);
        var beyond = new DoubleDataFrameColumn("members beyond eps %", list.Length);
        for (int i = 0; i < list.Length; i++)
        {
            var c = list[i];
            id[i] = c.ClusterId;
            size[i] = c.Size;
            core[i] = c.CorePoints;
            near[i] = Math.Round(c.CentreToNearestCore, 4);
            outside[i] = c.CentreOutside;
            far[i] = Math.Round(c.MaxMemberDistance, 4);
            beyond[i] = Percent(c.Size == 0 ? 0 : (double)c.MembersBeyondEps / c.Size);
        }
        return new DataFrame(id, size, core, near, outside, far, beyond);
    }

    /// <summary>The sweep as one table row per eps and assigner.</summary>
    public static DataFrame SweepTable(IReadOnlyList<OnlineEvaluation> sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var rows = sweep.SelectMany(e => e.Assigners.Select((a, i) => (e, a, r: e.Runs[i]))).ToArray();
        var eps = new DoubleDataFrameColumn("eps", rows.Length);
        var name = new StringDataFrameColumn("assigner", rows.Length);
        var clusters = new Int32DataFrameColumn("initial clusters", rows.Length);
        var noise = new Int32DataFrameColumn("initial noise", rows.Length);
        var same = new DoubleDataFrameColumn("same %", rows.Length);
        var missed = new DoubleDataFrameColumn("missed % of truth-in-old", rows.Length);
        var wronglyNew = new DoubleDataFrameColumn("wrongly new %", rows.Length);
        var merged = new DoubleDataFrameColumn("wrongly merged %", rows.Length);
        var outside = new Int32DataFrameColumn("outside centres", rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var (e, a, _) = rows[i];
            eps[i] = e.Eps;
            name[i] = a.Assigner;
            clusters[i] = e.InitialClusters;
            noise[i] = e.InitialNoise;
            same[i] = Percent(a.SameShare);
            missed[i] = Percent(a.MissedShareOfTruthInOld);
            wronglyNew[i] = Percent(a.MissedShare);
            merged[i] = Percent(a.WronglyMergedShare);
            outside[i] = e.InitialCentres.OutsideCount;
        }
        return new DataFrame(eps, name, clusters, noise, same, missed, wronglyNew, merged, outside);
    }

    /// <summary>The sweep as series for the charts (assigners in the evaluations' order).</summary>
    public static NearestSweepSeries Series(IReadOnlyList<OnlineEvaluation> sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        if (sweep.Count == 0)
            throw new ArgumentException("sweep is empty: give at least one evaluation.", nameof(sweep));
        var kinds = sweep[0].Runs.Select(r => r.Assigner).ToArray();
        for (int i = 1; i < sweep.Count; i++)
            if (!sweep[i].Runs.Select(r => r.Assigner).SequenceEqual(kinds))
                throw new ArgumentException($"sweep[{i}] has other assigners than sweep[0].", nameof(sweep));
        var series = kinds.Select((n, k) => new AssignerSweepSeries(n,
            sweep.Select(e => e.Assigners[k].TruthInOldCluster == 0 ? double.NaN : e.Assigners[k].MissedShareOfTruthInOld).ToArray(),
            sweep.Select(e => e.Assigners[k].MissedShare).ToArray(),
            sweep.Select(e => e.Assigners[k].WronglyMergedShare).ToArray(),
            sweep.Select(e => e.Assigners[k].SameShare).ToArray())).ToArray();
        return new NearestSweepSeries(sweep.Select(e => e.Eps).ToArray(), series,
            sweep.Select(e => (double)e.InitialCentres.OutsideCount).ToArray(),
            sweep.Select(e => (double)e.RerunCentres.OutsideCount).ToArray(),
            sweep.Select(e => (double)e.InitialClusters).ToArray(),
            sweep.Select(e => e.InitialCentres.MembersBeyondEpsShare).ToArray());
    }

    /// <summary>
    /// The notebook's conclusion as markdown bullet points, written from the measured values: each sentence is
    /// chosen by what the numbers show (which assigner did better, whether a failure occurred at all, how large
    /// the sample behind a share is), so the text never claims what the run did not show.
    /// </summary>
    /// <param name="main">The evaluation at the notebook's eps.</param>
    /// <param name="sweep">The eps sweep (may be empty).</param>
    /// <param name="nearestKind">The article's assigner in the evaluations.</param>
    /// <param name="corePointKind">The core-point assigner.</param>
    public static IReadOnlyList<string> Conclusions(OnlineEvaluation main, IReadOnlyList<OnlineEvaluation> sweep,
        AssignerKind nearestKind = AssignerKind.NearestCentroid, AssignerKind corePointKind = AssignerKind.CorePoint)
    {
        ArgumentNullException.ThrowIfNull(main);
        ArgumentNullException.ThrowIfNull(sweep);
        var nc = Find(main, nearestKind, nameof(main));
        var cp = Find(main, corePointKind, nameof(main));
        string nearest = nearestKind.DisplayName(), corePoint = corePointKind.DisplayName();
        var lines = new List<string>();
        string eps = F(main.Eps);
        string P(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture) + "%";

        // The setting, so no sentence is read out of context.
        lines.Add($"At eps = {eps} (minSamples = {main.MinSamples}, {main.Metric.ToString().ToLowerInvariant()}), DBSCAN on the " +
            $"{main.InitItems} initial items found {main.InitialClusters} cluster(s) and {main.InitialNoise} noise point(s); " +
            $"{main.NewItems} items were streamed, and the re-run on all {main.InitItems + main.NewItems} places " +
            $"{nc.TruthInOldCluster} of them in an old cluster.");

        // Failure 1.
        if (nc.TruthInOldCluster == 0)
            lines.Add("No streamed item belongs to an old cluster by the re-run, so failure 1 (a missed item) cannot show at this eps.");
        else
        {
            string cmp = nc.Missed > cp.Missed ? $"{corePoint} missed fewer"
                : nc.Missed < cp.Missed ? $"{nearest} missed fewer"
                : "both missed the same number";
            lines.Add($"Failure 1 (missed): of the {nc.TruthInOldCluster} streamed items that belong to an old cluster, " +
                $"{nearest} sent {nc.Missed} ({P(nc.MissedShareOfTruthInOld)}) to a new cluster and {corePoint} {cp.Missed} " +
                $"({P(cp.MissedShareOfTruthInOld)}): {cmp}.");
            if (nc.TruthInOldCluster < 30)
                lines.Add($"Only {nc.TruthInOldCluster} streamed items belong to an old cluster, so these shares rest on few items; treat them as rough.");
        }
        var geometry = main.InitialCentres;
        if (geometry.ClusteredItems > 0)
            lines.Add(geometry.MembersBeyondEps > 0
                ? $"{P(geometry.MembersBeyondEpsShare)} of the clustered initial items lie farther than eps from their own cluster's centre: " +
                  "that is the region the nearest-centre rule cannot reach (the first picture, measured)."
                : "Every clustered initial item lies within eps of its own centre, so the nearest-centre rule's reach covers the clusters at this eps.");

        // Agreement and the other error.
        string better = nc.Same > cp.Same ? nearest : cp.Same > nc.Same ? corePoint : null!;
        lines.Add($"Agreement with the re-run: {nearest} {P(nc.SameShare)}, {corePoint} {P(cp.SameShare)}" +
            (better is null ? " (equal)." : $"; {better} agrees more often.") +
            $" Wrongly merged into an old cluster: {nearest} {P(nc.WronglyMergedShare)}, {corePoint} {P(cp.WronglyMergedShare)}.");
        var first = main.Has(AssignerKind.NearestCentroidFirstWithinEps) ? main.Agreement(AssignerKind.NearestCentroidFirstWithinEps) : null;
        if (first is not null && first.Same != nc.Same)
            lines.Add($"The article's own loop (first centre within eps in table order, not the nearest) agrees on {P(first.SameShare)} " +
                $"against {P(nc.SameShare)} for the nearest centre: the order of the centre table changes answers.");

        // Failure 2.
        if (geometry.OutsideCount > 0)
            lines.Add($"Failure 2 (centre outside): {geometry.OutsideCount} of {geometry.Clusters} initial clusters have no core point " +
                $"within eps of their centre; they hold {P(geometry.ItemsInOutsideClustersShare)} of the initial items.");
        else if (geometry.Clusters > 0)
            lines.Add($"Failure 2 (centre outside) did not occur at eps = {eps}: every one of the {geometry.Clusters} initial clusters " +
                "has a core point within eps of its centre.");

        // The sweep.
        if (sweep.Count > 1)
        {
            var s = Series(sweep);
            var ncS = s.Assigners.FirstOrDefault(a => a.Assigner == nearestKind);
            var cpS = s.Assigners.FirstOrDefault(a => a.Assigner == corePointKind);
            string range = $"{F(s.Eps.Min())} to {F(s.Eps.Max())}";
            if (ncS is not null && cpS is not null)
            {
                var withTruth = sweep.Select((e, i) => (e, i)).Where(p => Find(p.e, nearestKind, nameof(sweep)).TruthInOldCluster > 0).Select(p => p.i).ToArray();
                if (withTruth.Length == 0)
                    lines.Add($"Across eps {range}, no streamed item belonged to an old cluster at any eps, so the sweep says nothing about failure 1.");
                else
                {
                    int cpNoWorse = withTruth.Count(i => cpS.Missed[i] <= ncS.Missed[i]);
                    int cpBetter = withTruth.Count(i => cpS.Missed[i] < ncS.Missed[i]);
                    int worst = withTruth.MaxBy(i => ncS.Missed[i]);
                    var cpWorse = withTruth.Where(i => cpS.Missed[i] > ncS.Missed[i]).Select(i => F(s.Eps[i])).ToArray();
                    lines.Add($"Across eps {range} ({withTruth.Length} value(s) where some streamed item belongs to an old cluster), " +
                        $"{corePoint} missed no more than {nearest} at {cpNoWorse} and strictly fewer at {cpBetter}" +
                        (cpWorse.Length > 0 ? $"; it missed more at eps = {string.Join(", ", cpWorse)}" : "") +
                        $"; {nearest} missed most at eps = {F(s.Eps[worst])} ({P(ncS.Missed[worst])} against {P(cpS.Missed[worst])}).");
                }
            }
            int outsideAt = s.InitialOutside.Count(v => v > 0);
            lines.Add(outsideAt == 0
                ? $"No initial cluster had its centre outside at any eps from {range}: on these embeddings failure 2 is a risk the method carries, not one this run observed."
                : $"Centres outside their cluster appeared at {outsideAt} of {s.Eps.Length} eps values (at most {s.InitialOutside.Max():0} clusters at once).");
        }
        lines.Add($"All of this is one ordering of {main.InitItems + main.NewItems} items, measured against a DBSCAN re-run whose clusters were " +
            $"mapped to the old IDs ({main.Mapping}); another sample or order moves the shares.");
        return lines;
    }

    static AssignmentDiagnostics Find(OnlineEvaluation e, AssignerKind kind, string parameter) =>
        e.Has(kind) ? e.Agreement(kind)
        : throw new ArgumentException($"the evaluation has no {kind} run (it has: {string.Join(", ", e.Runs.Select(r => r.Assigner))}).", parameter);

    static double Percent(double share) => Math.Round(100 * share, 2);

    static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
