using LabelAssignment.Numerics;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Studies;

public class EpsRuleTests
{
    /// <summary>
    /// Points whose DBSCAN result is known at every eps by construction (euclidean, minSamples 3): five lines of 20
    /// points at spacing 1, 30 apart (line b at y = 30 b, x = 0..19); beside each line one satellite 5 above its point
    /// x = 10; 30 isolated points 100 apart on a row far below. The sweep's eps values stay clear of the exact
    /// distances (1, 2, 5, 25, 30, 100) so that rounding cannot flip a neighbour.
    /// eps 0.5: no point has a neighbour, all 135 are noise. 1.5: interior line points have 2 neighbours (3 with
    /// themselves: core, 18 x 5 = 90), endpoints are border points, so each line is a cluster of 20; satellites and the
    /// row are noise (35). 10 and 20: every line point is core and each satellite joins its line (21 members, noise
    /// 30); the next line is 25 from a satellite and 30 from the line. 40: the lines merge into one cluster of 105.
    /// 150: the row becomes a second cluster (its 28 interior points core), nothing is noise.
    /// The same counts come from scikit-learn 1.2's DBSCAN on these points.
    /// </summary>
    private static EmbeddingMatrix Lines()
    {
        var rows = new List<(float X, float Y)>();
        for (int b = 0; b < 5; b++)
            for (int x = 0; x < 20; x++) rows.Add((x, 30 * b));
        for (int b = 0; b < 5; b++) rows.Add((10, 30 * b + 5));
        for (int j = 0; j < 30; j++) rows.Add((1000 + 100 * j, -1000));
        return new EmbeddingMatrix(rows.SelectMany(r => new[] { r.X, r.Y }).ToArray(), rows.Count, 2);
    }

    private static readonly double[] Grid = [0.5, 1.5, 10, 20, 40, 150];

    private static EpsSweepResult Sweep() => EpsSweep.Run(Lines(), Grid, minSamples: 3, DistanceMetric.Euclidean);

    [Fact]
    public void The_sweep_gives_the_counts_known_by_construction()
    {
        var points = Sweep().Points;
        Assert.Equal(Grid, points.Select(p => p.Eps));
        Assert.All(points, p => Assert.Equal(135, p.Items));
        Assert.Equal([0, 5, 5, 5, 1, 2], points.Select(p => p.Clusters));
        Assert.Equal([0, 5, 5, 5, 1, 2], points.Select(p => p.ClustersOfMinSize));
        Assert.Equal([135, 35, 30, 30, 30, 0], points.Select(p => p.Noise));
        Assert.Equal([0, 90, 105, 105, 105, 133], points.Select(p => p.CorePoints));
        Assert.Equal([0, 20, 21, 21, 105, 105], points.Select(p => p.LargestCluster));
    }

    [Fact]
    public void Most_clusters_takes_the_peak_and_breaks_the_tie_by_less_noise()
    {
        // 5 clusters at eps 1.5, 10 and 20; 10 and 20 leave 30 noise points, 1.5 leaves 35: the first of the least-noise ones.
        var choice = EpsRule.Choose(Sweep(), EpsRuleKind.MostClusters);
        Assert.Equal(10, choice.Eps);
        Assert.Equal((5, 30), (choice.Chosen.Clusters, choice.Chosen.Noise));
        Assert.Contains("most clusters of at least 3 members", choice.Description);
    }

    [Theory]
    [InlineData(0.71, 0.5)]    // |1 - 0.71| = 0.29 beats |35/135 - 0.71| = 0.45
    [InlineData(0.25, 1.5)]    // 35/135 = 0.259
    [InlineData(0.2, 10)]      // 30/135 = 0.222 at 10, 20 and 40: the smallest eps
    [InlineData(0.0, 150)]
    public void Noise_share_takes_the_eps_closest_to_the_target(double target, double expectedEps)
    {
        var choice = EpsRule.Choose(Sweep(), EpsRuleKind.NoiseShare, target);
        Assert.Equal(expectedEps, choice.Eps);
    }

    [Fact]
    public void The_grid_runs_between_the_quantiles_of_the_core_distances()
    {
        // Core distances 1..101: numpy's linear quantile at 0.01 is 2, at 0.6 is 61; 4 values: 2, 21.6667, 41.3333, 61.
        var d = Enumerable.Range(1, 101).Select(i => (double)i).ToArray();
        Assert.Equal([2, 21.6667, 41.3333, 61], EpsSweep.Grid(d, count: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => EpsSweep.Grid(d, count: 4, fromQuantile: 0.7, toQuantile: 0.6));
        Assert.Throws<ArgumentException>(() => EpsSweep.Grid(new double[10], count: 4));
    }

    [Fact]
    public void Rule_names_parse_and_a_wrong_one_is_named()
    {
        Assert.Equal(EpsRuleKind.MostClusters, EpsRule.Parse("clusters"));
        Assert.Equal(EpsRuleKind.NoiseShare, EpsRule.Parse(" Noise "));
        var e = Assert.Throws<ArgumentException>(() => EpsRule.Parse("elbow"));
        Assert.Contains("epsRule='elbow'", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => EpsRule.Choose(Sweep(), EpsRuleKind.NoiseShare, 1.5));
    }
}
