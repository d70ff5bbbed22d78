using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Remapping;

/// <summary>
/// One day's cluster centres keyed by cluster ID: row r of <see cref="Centres"/> is the centre of cluster
/// <see cref="ClusterIds"/>[r]. Look a centre up by its ID (<see cref="RowOf"/>), never by position: after a remap the
/// IDs are yesterday's IDs and fresh ones, not 0..k-1.
/// </summary>
public sealed class ClusterCentres
{
    private readonly int[] _clusterIds;
    private readonly Dictionary<int, int> _rowOf;

    /// <summary>Validates the IDs and copies the centres.</summary>
    /// <param name="centres">One row per cluster, at least one.</param>
    /// <param name="clusterIds">The cluster ID of each row: distinct, &gt;= 0 (noise has no centre).</param>
    /// <exception cref="ArgumentException">No rows, a count of IDs other than the rows', or an ID twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative ID.</exception>
    public ClusterCentres(EmbeddingMatrix centres, ReadOnlySpan<int> clusterIds)
    {
        ArgumentNullException.ThrowIfNull(centres);
        if (centres.Count == 0)
            throw new ArgumentException("centres has no rows: need at least one cluster centre.", nameof(centres));
        if (clusterIds.Length != centres.Count)
            throw new ArgumentException(
                $"clusterIds has {clusterIds.Length} ids but centres has {centres.Count} rows: one id per centre.", nameof(clusterIds));
        _rowOf = new Dictionary<int, int>(clusterIds.Length);
        for (int r = 0; r < clusterIds.Length; r++)
        {
            if (clusterIds[r] < 0)
                throw new ArgumentOutOfRangeException(nameof(clusterIds), clusterIds[r],
                    $"clusterIds[{r}] = {clusterIds[r]}: cluster IDs must be >= 0 (noise has no centre).");
            if (!_rowOf.TryAdd(clusterIds[r], r))
                throw new ArgumentException(
                    $"clusterIds holds cluster ID {clusterIds[r]} twice (at index {_rowOf[clusterIds[r]]} and {r}): one centre per cluster.",
                    nameof(clusterIds));
        }
        _clusterIds = clusterIds.ToArray();
        Centres = centres.SelectRows(Enumerable.Range(0, centres.Count).ToArray());
    }

    /// <summary>The centres of a KMeans fit, keyed by its labels: KMeans' label l is row l of its centres.</summary>
    public static ClusterCentres FromKMeans(KMeansResult fit)
    {
        ArgumentNullException.ThrowIfNull(fit);
        return new ClusterCentres(fit.Centres, Enumerable.Range(0, fit.Centres.Count).ToArray());
    }

    /// <summary>The centres, one row per cluster (a copy of what was given).</summary>
    public EmbeddingMatrix Centres { get; }

    /// <summary>The cluster ID of each row.</summary>
    public ReadOnlySpan<int> ClusterIds => _clusterIds;

    /// <summary>Number of clusters.</summary>
    public int Count => _clusterIds.Length;

    /// <summary>Whether cluster <paramref name="clusterId"/> has a centre here.</summary>
    public bool Contains(int clusterId) => _rowOf.ContainsKey(clusterId);

    /// <summary>The row of <see cref="Centres"/> that holds cluster <paramref name="clusterId"/>'s centre.</summary>
    /// <exception cref="ArgumentException">No centre has that ID.</exception>
    public int RowOf(int clusterId) => _rowOf.TryGetValue(clusterId, out int r) ? r
        : throw new ArgumentException($"clusterId {clusterId} has no centre here ({Count} clusters).", nameof(clusterId));

    /// <summary>The centre of cluster <paramref name="clusterId"/>.</summary>
    /// <exception cref="ArgumentException">No centre has that ID.</exception>
    public ReadOnlySpan<float> Centre(int clusterId) => Centres.Row(RowOf(clusterId));
}
