using System.Globalization;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Studies;

/// <summary>What DBSCAN gives at one eps of a sweep.</summary>
/// <param name="Eps">The radius.</param>
/// <param name="Items">Rows clustered.</param>
/// <param name="Clusters">DBSCAN's clusters.</param>
/// <param name="ClustersOfMinSize">Clusters with at least <see cref="EpsSweepResult.MinSize"/> members (a border point
/// claimed by an earlier cluster can leave a later one smaller than minSamples).</param>
/// <param name="Noise">Rows labelled noise.</param>
/// <param name="CorePoints">Core points.</param>
/// <param name="LargestCluster">Members of the largest cluster (0 when there is none): near the items count, one
/// cluster has chained nearly everything together.</param>
public sealed record EpsSweepPoint(double Eps, int Items, int Clusters, int ClustersOfMinSize, int Noise, int CorePoints, int LargestCluster)
{
    /// <summary>Noise as a share of the rows.</summary>
    public double NoiseShare => Items == 0 ? 0 : (double)Noise / Items;

    /// <summary>The largest cluster as a share of the rows.</summary>
    public double LargestShare => Items == 0 ? 0 : (double)LargestCluster / Items;
}

/// <summary>A sweep: one <see cref="EpsSweepPoint"/> per eps, in ascending eps.</summary>
/// <param name="Points">The points, ascending in eps.</param>
/// <param name="MinSamples">DBSCAN minSamples of every fit.</param>
/// <param name="MinSize">The size from which a cluster counts in <see cref="EpsSweepPoint.ClustersOfMinSize"/> (minSamples).</param>
/// <param name="Metric">The distance.</param>
/// <param name="Seconds">Wall time of all the fits.</param>
public sealed record EpsSweepResult(IReadOnlyList<EpsSweepPoint> Points, int MinSamples, int MinSize, DistanceMetric Metric, double Seconds);

/// <summary>
/// DBSCAN's cluster and noise counts over a range of eps on one data set: the data behind <see cref="EpsRule"/>.
/// Each eps is its own <see cref="Dbscan.Fit"/> (a few hundred milliseconds at 7,000 x 512 on two cores).
/// </summary>
public static class EpsSweep
{
    /// <summary>
    /// <paramref name="count"/> eps values evenly spaced between two quantiles of the core distances (each row's
    /// distance to its (minSamples − 1)-th nearest other row, <see cref="NearestStudy.CoreDistances"/>): at the
    /// q-quantile a share q of the rows are core points. The default range, from 1% to 60% core points, spans
    /// "nearly everything is noise" to "one cluster chains most rows" on CIFAR-100 ResNet18 embeddings; values are
    /// rounded to 4 decimals (duplicates after rounding are dropped).
    /// </summary>
    public static double[] Grid(IReadOnlyList<double> coreDistances, int count = 20, double fromQuantile = 0.01, double toQuantile = 0.6)
    {
        ArgumentNullException.ThrowIfNull(coreDistances);
        if (coreDistances.Count == 0)
            throw new ArgumentException("coreDistances is empty.", nameof(coreDistances));
        if (count < 2 || count > 200)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be in [2, 200].");
        if (!(fromQuantile >= 0 && fromQuantile < toQuantile && toQuantile <= 1))
            throw new ArgumentOutOfRangeException(nameof(fromQuantile), fromQuantile,
                $"need 0 <= fromQuantile < toQuantile <= 1; got {fromQuantile} and {toQuantile}.");
        double lo = NearestStudy.Quantile(coreDistances, fromQuantile), hi = NearestStudy.Quantile(coreDistances, toQuantile);
        // eps must be > 0 for DBSCAN; a duplicated row has core distance 0.
        lo = Math.Max(lo, hi * 1e-3);
        if (!(hi > 0))
            throw new ArgumentException($"the core distances up to the {toQuantile:P0} quantile are 0 (duplicated rows): no eps range to sweep.", nameof(coreDistances));
        return Enumerable.Range(0, count).Select(i => Math.Round(lo + (hi - lo) * i / (count - 1), 4))
            .Where(e => e > 0).Distinct().ToArray();
    }

    /// <summary>DBSCAN at each eps of <paramref name="epsValues"/> (sorted ascending in the result).</summary>
    /// <param name="x">The rows to cluster.</param>
    /// <param name="epsValues">At least one eps, each finite and &gt; 0.</param>
    /// <param name="minSamples">DBSCAN minSamples (also the size from which a cluster counts).</param>
    /// <param name="metric">The distance.</param>
    /// <param name="progress">One report per eps done (stage "eps sweep").</param>
    public static EpsSweepResult Run(EmbeddingMatrix x, IReadOnlyList<double> epsValues, int minSamples,
        DistanceMetric metric = DistanceMetric.Cosine, IProgress<WorkProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(epsValues);
        if (epsValues.Count == 0)
            throw new ArgumentException("epsValues is empty: give at least one eps.", nameof(epsValues));
        var sorted = epsValues.Distinct().Order().ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var points = new EpsSweepPoint[sorted.Length];
        for (int e = 0; e < sorted.Length; e++)
        {
            var fit = Dbscan.Fit(x, new DbscanOptions { Eps = sorted[e], MinSamples = minSamples, Metric = metric });
            var sizes = new int[fit.ClusterCount];
            foreach (int l in fit.Labels)
                if (l >= 0) sizes[l]++;
            points[e] = new EpsSweepPoint(sorted[e], x.Count, fit.ClusterCount, sizes.Count(s => s >= minSamples),
                fit.NoiseCount, fit.CoreSampleIndices.Length, sizes.Length == 0 ? 0 : sizes.Max());
            progress?.Report(new WorkProgress("eps sweep", e + 1, sorted.Length,
                string.Create(CultureInfo.InvariantCulture, $"eps {sorted[e]}")));
        }
        return new EpsSweepResult(points, minSamples, minSamples, metric, clock.Elapsed.TotalSeconds);
    }
}

/// <summary>Which rule picks eps from a sweep.</summary>
public enum EpsRuleKind
{
    /// <summary>The eps with the most clusters of at least minSamples members; ties go to the one with less noise, then to the smaller eps.</summary>
    MostClusters,

    /// <summary>The eps whose noise share is closest to a target (the article's 71%); ties go to the smaller eps.</summary>
    NoiseShare,
}

/// <summary>The eps a rule chose, with the sweep it chose from and the rule in words.</summary>
/// <param name="Chosen">The sweep point chosen.</param>
/// <param name="Rule">The rule.</param>
/// <param name="Description">The rule in one sentence (what a notebook prints).</param>
public sealed record EpsChoice(EpsSweepPoint Chosen, EpsRuleKind Rule, string Description)
{
    /// <summary>The chosen eps.</summary>
    public double Eps => Chosen.Eps;
}

/// <summary>
/// Picks DBSCAN's eps from an <see cref="EpsSweepResult"/>. As eps grows from 0, DBSCAN goes from "everything is
/// noise" through many small dense clusters to one cluster that chains nearly everything together; the number of
/// clusters rises, peaks and falls. <see cref="EpsRuleKind.MostClusters"/> takes the peak (the eps that resolves
/// the most groups before they merge); <see cref="EpsRuleKind.NoiseShare"/> takes the eps that leaves a target share
/// of the rows as noise (the article's run at eps 0.1 on BLIP-2: 71%).
/// </summary>
public static class EpsRule
{
    /// <summary>The article's DBSCAN on BLIP-2 embeddings of 7,000 items (eps 0.1, min_samples 3): its noise share.</summary>
    public const double ArticleNoiseShare = 0.71;

    /// <summary>The article's cluster count at that eps.</summary>
    public const int ArticleClusters = 148;

    /// <summary>Applies <paramref name="rule"/> to <paramref name="sweep"/>.</summary>
    /// <param name="sweep">A sweep with at least one point.</param>
    /// <param name="rule">The rule.</param>
    /// <param name="targetNoiseShare">For <see cref="EpsRuleKind.NoiseShare"/>: the share in [0, 1] to match.</param>
    public static EpsChoice Choose(EpsSweepResult sweep, EpsRuleKind rule, double targetNoiseShare = ArticleNoiseShare)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        if (sweep.Points.Count == 0)
            throw new ArgumentException("the sweep has no points.", nameof(sweep));
        var inv = CultureInfo.InvariantCulture;
        switch (rule)
        {
            case EpsRuleKind.MostClusters:
            {
                var best = sweep.Points.MaxBy(p => (p.ClustersOfMinSize, -p.Noise))!;
                return new EpsChoice(best, rule, string.Create(inv,
                    $"the eps of the sweep with the most clusters of at least {sweep.MinSize} members (ties: the one with less noise, then the smaller eps)"));
            }
            case EpsRuleKind.NoiseShare:
            {
                if (!(targetNoiseShare >= 0 && targetNoiseShare <= 1))
                    throw new ArgumentOutOfRangeException(nameof(targetNoiseShare), targetNoiseShare, "targetNoiseShare must be in [0, 1].");
                var best = sweep.Points.MinBy(p => (Math.Abs(p.NoiseShare - targetNoiseShare), p.Eps))!;
                return new EpsChoice(best, rule, string.Create(inv,
                    $"the eps of the sweep whose noise share is closest to {targetNoiseShare:P0} (ties: the smaller eps)"));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(rule), rule, "rule must be MostClusters or NoiseShare.");
        }
    }

    /// <summary>Parses a rule name as a notebook parameter gives it: <c>clusters</c> or <c>noise</c> (or the enum names).</summary>
    public static EpsRuleKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "clusters" or "mostclusters" => EpsRuleKind.MostClusters,
            "noise" or "noiseshare" => EpsRuleKind.NoiseShare,
            _ => throw new ArgumentException($"epsRule='{name}': expected clusters (the most clusters of at least minSamples members) or noise (the noise share closest to targetNoise).", nameof(name)),
        };
    }
}
