using LabelAssignment.Numerics;

namespace LabelAssignment.Clustering;

/// <summary>
/// Options of <see cref="Dbscan.Fit"/>, with scikit-learn's meaning and defaults: a point is a core point when at
/// least <see cref="MinSamples"/> points, itself included, lie within distance <see cref="Eps"/> of it. For example
/// <c>new DbscanOptions { Eps = 0.25, MinSamples = 5 }</c>.
/// </summary>
public sealed record DbscanOptions
{
    /// <summary>Neighbourhood radius, &gt; 0 (cosine: 1 - cos; euclidean: L2 distance); default 0.5 as scikit-learn.</summary>
    public double Eps { get; init; } = 0.5;

    /// <summary>Neighbours (counting the point itself) that make a core point, &gt;= 1; default 5 as scikit-learn.</summary>
    public int MinSamples { get; init; } = 5;

    /// <summary>Distance between embeddings; default <see cref="DistanceMetric.Cosine"/>, the library's default.</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (!(Eps > 0) || !double.IsFinite(Eps))
            throw new ArgumentOutOfRangeException(nameof(Eps), Eps, $"Eps={Eps} must be a finite number > 0.");
        if (MinSamples < 1)
            throw new ArgumentOutOfRangeException(nameof(MinSamples), MinSamples,
                $"MinSamples={MinSamples} must be >= 1 (it counts the point itself).");
        if (Metric is not (DistanceMetric.Cosine or DistanceMetric.Euclidean))
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, $"Metric={Metric} must be Cosine or Euclidean.");
    }
}

/// <summary>The outcome of <see cref="Dbscan.Fit"/>.</summary>
/// <param name="Labels">Length n: cluster 0, 1, ... or -1 for noise.</param>
/// <param name="CoreSampleIndices">Indices of the core points, ascending.</param>
/// <param name="ClusterCount">Number of clusters (labels run from 0 to ClusterCount - 1).</param>
public sealed record DbscanResult(int[] Labels, int[] CoreSampleIndices, int ClusterCount)
{
    /// <summary>Number of points labelled -1.</summary>
    public int NoiseCount => Labels.Count(l => l < 0);

    /// <summary>Whether point <paramref name="i"/> is a core point.</summary>
    public bool IsCore(int i)
    {
        if ((uint)i >= (uint)Labels.Length)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"point index must be in [0, {Labels.Length}).");
        return Array.BinarySearch(CoreSampleIndices, i) >= 0;
    }
}

/// <summary>
/// DBSCAN (Ester et al. 1996) with the exact labelling of scikit-learn 1.2's <c>DBSCAN</c>: clusters are numbered in
/// the order their first core point appears in row order, and a border point within eps of core points of two
/// clusters joins the cluster numbered first. The neighbourhoods come from <see cref="RadiusNeighbors"/> (a blocked
/// all-pairs product over the upper triangle, never the n x n matrix).
/// </summary>
public static class Dbscan
{
    /// <summary>Clusters the rows of <paramref name="x"/>.</summary>
    /// <param name="x">n x d embeddings, n &gt;= 1, finite; under cosine no row may be zero.</param>
    /// <param name="options">Eps, MinSamples, metric; validated first.</param>
    /// <param name="progress">The neighbourhood search's tiles done (stage "radius neighbours"), ending with Done == Total.</param>
    /// <param name="cancellationToken">Stops the neighbourhood search between blocks.</param>
    public static DbscanResult Fit(EmbeddingMatrix x, DbscanOptions options, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (x.Count == 0)
            throw new ArgumentException("x has 0 rows: DBSCAN needs at least one point.", nameof(x));
        RadiusNeighbors.ValidateInput(x, options.Metric, nameof(x));
        var graph = RadiusNeighbors.ComputeCore(x, options.Eps, options.Metric, RadiusNeighbors.DefaultBlock,
            progress, cancellationToken);
        return Label(graph, options.MinSamples);
    }

    /// <summary>sklearn's <c>dbscan_inner</c>: core points by neighbour count, then a depth-first expansion per cluster.</summary>
    internal static DbscanResult Label(NeighborGraph graph, int minSamples)
    {
        int n = graph.Count;
        var core = new bool[n];
        var coreList = new List<int>();
        for (int i = 0; i < n; i++)
        {
            // The neighbour lists leave the point itself out; sklearn counts it.
            if (graph.Degree(i) + 1 >= minSamples)
            {
                core[i] = true;
                coreList.Add(i);
            }
        }
        var labels = new int[n];
        Array.Fill(labels, -1);
        var stack = new Stack<int>();
        int cluster = 0;
        foreach (int seed in coreList)
        {
            if (labels[seed] != -1) continue;
            // A cluster is finished before the next seed is looked at, so a border point reachable from two clusters
            // keeps the label of the one whose first core point comes first in row order, as in sklearn.
            labels[seed] = cluster;
            stack.Push(seed);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                foreach (int q in graph.Neighbors(p))
                {
                    if (labels[q] != -1) continue;
                    labels[q] = cluster;
                    if (core[q]) stack.Push(q);
                }
            }
            cluster++;
        }
        return new DbscanResult(labels, [.. coreList], cluster);
    }
}
