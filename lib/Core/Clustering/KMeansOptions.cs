using LabelAssignment.Numerics;

namespace LabelAssignment.Clustering;

/// <summary>
/// Settings for <see cref="KMeans.Fit"/>. Defaults follow scikit-learn 1.2.1's <c>KMeans</c>
/// (k-means++ seeding, Lloyd iterations, n_init=10, max_iter=300, tol=1e-4).
/// </summary>
public sealed record KMeansOptions
{
    /// <summary>Number of clusters (scikit-learn's n_clusters); at least 1 and at most the number of items.</summary>
    public int K { get; init; } = 8;

    /// <summary>Independent k-means++ restarts; the one with the lowest inertia is kept (scikit-learn's n_init).</summary>
    public int NInit { get; init; } = 10;

    /// <summary>Most Lloyd iterations per restart (scikit-learn's max_iter).</summary>
    public int MaxIterations { get; init; } = 300;

    /// <summary>
    /// Convergence tolerance, relative to the data: a restart stops when the summed squared centre shift is at most
    /// <c>Tolerance</c> times the mean per-feature variance of the data (scikit-learn's rule for tol).
    /// Zero stops only when the labels no longer change.
    /// </summary>
    public double Tolerance { get; init; } = 1e-4;

    /// <summary>
    /// Seed of every random choice: the same seed gives the same result for any thread count. Any int; a seed
    /// s >= 0 gives the streams that the former <c>ulong</c> seed s gave.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>
    /// <see cref="DistanceMetric.Cosine"/> (the default, the library's one default metric): spherical k-means, rows
    /// and centres scaled to unit length so the squared euclidean distance used is 2 - 2 cos; zero rows are
    /// rejected. <see cref="DistanceMetric.Euclidean"/>: scikit-learn's k-means on the rows as given.
    /// </summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>Most threads used (-1: all cores). Results do not depend on it.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>
    /// Warm start: m centres (1 &lt;= m &lt;= K, the data's dimension, finite; copied when fitting), e.g. yesterday's
    /// <see cref="KMeansResult.Centres"/>. They become centres 0..m-1 in the order given, so cluster i starts as the
    /// given centre i; the other K - m are seeded by greedy k-means++ against them (faiss's rule), from each restart's
    /// stream. With m = K the start has no random part, so one restart is run whatever <see cref="NInit"/> says.
    /// Null (the default): k-means++ from scratch.
    /// </summary>
    public EmbeddingMatrix? InitialCentres { get; init; }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range (ParamName and message
    /// use the property name); <see cref="ArgumentException"/> for non-finite <see cref="InitialCentres"/>.
    /// </summary>
    public void Validate()
    {
        if (K < 1)
            throw new ArgumentOutOfRangeException(nameof(K), K, $"K (n_clusters) must be >= 1; got {K}.");
        if (NInit < 1)
            throw new ArgumentOutOfRangeException(nameof(NInit), NInit, $"NInit (n_init) must be >= 1; got {NInit}.");
        if (MaxIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, $"MaxIterations (max_iter) must be >= 1; got {MaxIterations}.");
        if (!(Tolerance >= 0) || double.IsInfinity(Tolerance))
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, $"Tolerance (tol) must be a finite number >= 0; got {Tolerance}.");
        if (!Enum.IsDefined(Metric))
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, $"Metric must be Cosine or Euclidean; got {(int)Metric}.");
        if (MaxDegreeOfParallelism is 0 or < -1)
            throw new ArgumentOutOfRangeException(nameof(MaxDegreeOfParallelism), MaxDegreeOfParallelism,
                $"MaxDegreeOfParallelism must be -1 (all cores) or >= 1; got {MaxDegreeOfParallelism}.");
        if (InitialCentres is { } initial)
        {
            if (initial.Count < 1 || initial.Count > K)
                throw new ArgumentOutOfRangeException(nameof(InitialCentres), initial.Count,
                    $"InitialCentres must hold between 1 and K={K} centres; got {initial.Count}.");
            initial.EnsureFinite(nameof(InitialCentres));
        }
    }
}

/// <summary>
/// A fitted clustering.
/// </summary>
/// <param name="Labels">Cluster of each item, in [0, K); length = number of items.</param>
/// <param name="Centres">K x d centres (unit length when the metric is cosine).</param>
/// <param name="Inertia">Sum over items of the squared euclidean distance to their centre (of the unit rows when the metric is cosine; lowest over restarts).</param>
/// <param name="Iterations">Lloyd iterations run by the kept restart.</param>
/// <param name="Converged">Whether the kept restart stopped by the tolerance (or unchanged labels) before MaxIterations.</param>
/// <param name="BestRestart">Index of the kept restart, in [0, NInit).</param>
/// <param name="RestartInertias">Final inertia of every restart, in order.</param>
public sealed record KMeansResult(
    int[] Labels,
    LabelAssignment.Numerics.EmbeddingMatrix Centres,
    double Inertia,
    int Iterations,
    bool Converged,
    int BestRestart,
    double[] RestartInertias);
