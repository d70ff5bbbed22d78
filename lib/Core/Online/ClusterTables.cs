using System.Runtime.Intrinsics;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.Ids;

namespace LabelAssignment.Online;

/// <summary>
/// The state of online assignment (section 3 of the article): the label table (item_id, embeddings, cluster_id),
/// the centre table (cluster_id, cluster_center) with a member count per cluster, the DBSCAN core points of the
/// initial clustering, and the <see cref="ClusterIdAllocator"/> that issues every fresh ID.
/// The real state is kept in flat growing arrays; the studies layer builds DataFrame views of them on demand. Centres are float64 running means (the article recomputes a float64 mean; a
/// running mean in float64 gives the same value in O(d) per update).
/// </summary>
/// <remarks>
/// <para>Only the assigners change the tables, and only through <see cref="IOnlineAssigner.Assign"/> and
/// <see cref="IOnlineAssigner.AssignBatch"/> (their <c>Predict</c> calls read them). The tables keep the
/// <see cref="CentreIndex"/> the assigners search current as centres move and open; <see cref="ClusterTablesStore"/>
/// saves and loads them.</para>
/// <para><b>Concurrency.</b> The tables own a reader-writer lock, so any number of assigners over the same tables
/// may be called from any threads: predictions (and <see cref="ClusterTablesStore.Save"/>, <see cref="Clone()"/>,
/// <see cref="SameStateAs"/>, <see cref="ItemEmbeddings"/>, <see cref="ContainsItem"/>, <see cref="ClusterOf"/>,
/// <see cref="ContainsCluster"/>, <see cref="MemberCount"/>) read in parallel; each <c>Assign</c> or
/// <c>AssignBatch</c> commits alone, the whole batch under one write lock, so no reader sees part of a batch and
/// commits take effect in the order they took the lock (the label table's row order). The members that return spans
/// (<see cref="ItemIds"/>, <see cref="ItemClusterIds"/>, <see cref="ClusterIds"/>, <see cref="CoreRows"/>,
/// <see cref="ItemEmbedding"/>, <see cref="Centre"/>) are not synchronised: a span is valid until the next commit,
/// so while commits may run on other threads read a <see cref="Clone()"/> (a consistent snapshot) instead.</para>
/// </remarks>
public sealed class ClusterTables
{
    // Label table.
    private long[] _itemIds;
    private float[] _embeddings;     // _itemCount x Dimension
    private int[] _itemClusters;
    private int _itemCount;
    private readonly Dictionary<long, int> _rowOfItem;

    // Centre table, in table order (initial clusters sorted by ID, then new clusters as they appear).
    private int[] _centreIds;
    private double[] _centres;       // _centreCount x Dimension, the truth
    private CentreIndex _index;      // what the assigners search: float32 and int8 copies, norms
    private long[] _counts;
    private int _centreCount;
    private readonly Dictionary<int, int> _rowOfCluster;

    private int[] _coreRows;         // item rows that were DBSCAN core points at initialisation

    // The within-eps list index over the centres, built on first use once the table is large (and again when it has
    // doubled); maintained on every move and open. Lazily built under a read lock too, so through a gate.
    private CentreLists? _lists;
    private readonly object _listsGate = new();
    private int _version;

    // Readers (predictions, snapshots) share it; a commit (a whole Assign/AssignBatch) holds it alone. Recursion is
    // allowed so that a progress callback inside a batch may still read the tables.
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.SupportsRecursion);

    private ClusterTables(int dimension, DistanceMetric metric, ClusterIdAllocator allocator, int itemCapacity, int centreCapacity)
    {
        Dimension = dimension;
        Metric = metric;
        Allocator = allocator;
        itemCapacity = Math.Max(itemCapacity, 4);
        centreCapacity = Math.Max(centreCapacity, 4);
        _itemIds = new long[itemCapacity];
        _embeddings = new float[(long)itemCapacity * dimension];
        _itemClusters = new int[itemCapacity];
        _rowOfItem = new Dictionary<long, int>(itemCapacity);
        _centreIds = new int[centreCapacity];
        _centres = new double[(long)centreCapacity * dimension];
        _index = new CentreIndex(dimension, centreCapacity, staged: true); // the full scan stops early on centres beyond eps
        _counts = new long[centreCapacity];
        _rowOfCluster = new Dictionary<int, int>(centreCapacity);
        _coreRows = [];
    }

    /// <summary>Embedding dimension of every item and centre.</summary>
    public int Dimension { get; }

    /// <summary>The metric the initial clustering used; every distance here uses it.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>Issues every fresh cluster ID (noise points at initialisation, new clusters online).</summary>
    internal ClusterIdAllocator Allocator { get; }

    /// <summary>The ID reuse policy of the allocator.</summary>
    public IdReusePolicy IdPolicy => Allocator.Policy;

    /// <summary>Largest cluster ID ever issued or seen (the allocator's high-water mark).</summary>
    public int HighWaterMark => Allocator.HighWaterMark;

    /// <summary>Rows of the label table.</summary>
    public int ItemCount => _itemCount;

    /// <summary>Rows of the centre table (live clusters, noise singletons included).</summary>
    public int ClusterCount => _centreCount;

    /// <summary>Item IDs in label-table order.</summary>
    public ReadOnlySpan<long> ItemIds => _itemIds.AsSpan(0, _itemCount);

    /// <summary>Cluster ID of each label-table row.</summary>
    public ReadOnlySpan<int> ItemClusterIds => _itemClusters.AsSpan(0, _itemCount);

    /// <summary>Cluster IDs in centre-table order.</summary>
    public ReadOnlySpan<int> ClusterIds => _centreIds.AsSpan(0, _centreCount);

    /// <summary>Label-table rows that were DBSCAN core points at initialisation (the CorePoint assigner's index).</summary>
    public ReadOnlySpan<int> CoreRows => _coreRows;

    /// <summary>Embedding of label-table row <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> ItemEmbedding(int row)
    {
        if ((uint)row >= (uint)_itemCount)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {_itemCount}).");
        return _embeddings.AsSpan(row * Dimension, Dimension);
    }

    /// <summary>A copy of all item embeddings (ItemCount x Dimension).</summary>
    public EmbeddingMatrix ItemEmbeddings()
    {
        using var _ = ReadLock();
        return new(_embeddings.AsSpan(0, _itemCount * Dimension).ToArray(), _itemCount, Dimension);
    }

    /// <summary>Whether an item with this ID is in the label table.</summary>
    public bool ContainsItem(long itemId)
    {
        using var _ = ReadLock();
        return _rowOfItem.ContainsKey(itemId);
    }

    /// <summary>The cluster ID of an item in the label table; throws when the item is unknown (there is no "none" ID).</summary>
    public int ClusterOf(long itemId)
    {
        using var _ = ReadLock();
        return _rowOfItem.TryGetValue(itemId, out int row)
            ? _itemClusters[row]
            : throw new KeyNotFoundException($"item_id {itemId} is not in the label table.");
    }

    /// <summary>Whether a live cluster holds this ID.</summary>
    public bool ContainsCluster(int clusterId)
    {
        using var _ = ReadLock();
        return _rowOfCluster.ContainsKey(clusterId);
    }

    /// <summary>The centre (float64 running mean) of a live cluster (not synchronised: valid until the next commit).</summary>
    public ReadOnlySpan<double> Centre(int clusterId)
    {
        using var _ = ReadLock();
        return _centres.AsSpan(CentreRow(clusterId) * Dimension, Dimension);
    }

    /// <summary>How many items a live cluster holds.</summary>
    public long MemberCount(int clusterId)
    {
        using var _ = ReadLock();
        return _counts[CentreRow(clusterId)];
    }

    /// <summary>Shared access for reading (predictions, snapshots); dispose to release.</summary>
    internal TablesLock ReadLock() => new(_lock, write: false);

    /// <summary>Exclusive access for one commit (a whole Assign or AssignBatch); dispose to release.</summary>
    internal TablesLock WriteLock() => new(_lock, write: true);

    /// <summary>A held lock of the tables; a struct, so taking one allocates nothing.</summary>
    internal readonly ref struct TablesLock
    {
        private readonly ReaderWriterLockSlim _held;
        private readonly bool _write;

        internal TablesLock(ReaderWriterLockSlim held, bool write)
        {
            if (write) held.EnterWriteLock();
            else held.EnterReadLock();
            _held = held;
            _write = write;
        }

        public void Dispose()
        {
            if (_write) _held.ExitWriteLock();
            else _held.ExitReadLock();
        }
    }

    private int CentreRow(int clusterId) =>
        _rowOfCluster.TryGetValue(clusterId, out int row)
            ? row
            : throw new KeyNotFoundException($"cluster_id {clusterId} is not a live cluster.");

    // ---------------------------------------------------------------- initialisation

    /// <summary>
    /// Builds the tables from an initial clustering (the article's step 1): every label &gt;= 0 is kept as the
    /// cluster ID, every noise point (-1) gets a fresh ID from the allocator, in row order, that collides with no
    /// cluster; centres are member means, in ID order.
    /// </summary>
    /// <param name="itemIds">One distinct ID per row of <paramref name="embeddings"/>.</param>
    /// <param name="embeddings">n x d, finite; non-zero rows under cosine.</param>
    /// <param name="labels">n labels, -1 for noise (e.g. DBSCAN's).</param>
    /// <param name="coreSampleIndices">Rows that are core points of their cluster (DBSCAN's); empty when unknown (then the CorePoint assigner has no index).</param>
    /// <param name="metric">The metric of the clustering.</param>
    /// <param name="idPolicy">How fresh IDs are chosen (the article: smallest free).</param>
    public static ClusterTables Initialise(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings, IReadOnlyList<int> labels,
        IReadOnlyList<int>? coreSampleIndices = null, DistanceMetric metric = DistanceMetric.Cosine,
        IdReusePolicy idPolicy = IdReusePolicy.SmallestFree)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(labels);
        if (!Enum.IsDefined(metric))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Cosine or Euclidean.");
        int n = embeddings.Count, d = embeddings.Dimension;
        if (n == 0)
            throw new ArgumentException("embeddings has no rows: initialisation needs at least one item.", nameof(embeddings));
        if (itemIds.Count != n)
            throw new ArgumentException($"itemIds has {itemIds.Count} entries but embeddings has {n} rows.", nameof(itemIds));
        if (labels.Count != n)
            throw new ArgumentException($"labels has {labels.Count} entries but embeddings has {n} rows.", nameof(labels));
        EmbeddingMatrix.ValidateRows(embeddings.Data, n, d, metric, nameof(embeddings));
        var seen = new HashSet<long>(n);
        for (int i = 0; i < n; i++)
            if (!seen.Add(itemIds[i]))
                throw new ArgumentException($"itemIds holds item_id {itemIds[i]} twice (again at index {i}): item IDs must be distinct.", nameof(itemIds));
        for (int i = 0; i < n; i++)
            if (labels[i] < -1)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]}: labels must be >= -1 (-1 = noise).");
        var core = coreSampleIndices?.ToArray() ?? [];
        var coreSeen = new HashSet<int>();
        foreach (int c in core)
        {
            if ((uint)c >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(coreSampleIndices), c, $"core sample index must be in [0, {n}).");
            if (labels[c] < 0)
                throw new ArgumentException($"core sample {c} has label -1: a core point always belongs to a cluster.", nameof(coreSampleIndices));
            if (!coreSeen.Add(c))
                throw new ArgumentException($"core sample index {c} appears twice.", nameof(coreSampleIndices));
        }
        Array.Sort(core);

        var allocator = new ClusterIdAllocator(labels.Where(l => l >= 0), idPolicy);
        var ids = new int[n];
        for (int i = 0; i < n; i++)
            ids[i] = labels[i] >= 0 ? labels[i] : allocator.Allocate();

        int distinct = ids.Distinct().Count();
        // Room for a quarter more before the first doubling: online streams are usually small next to the initial set.
        var t = new ClusterTables(d, metric, allocator, n + n / 4 + 1024, distinct + distinct / 4 + 1024);
        for (int i = 0; i < n; i++)
            t.AppendItem(itemIds[i], embeddings.Data.AsSpan(i * d, d), ids[i]);

        // Centres = member means (float64), in cluster-ID order as the article's groupby builds them.
        var order = ids.Distinct().Order().ToArray();
        foreach (int id in order)
            t.AppendCentreRow(id, 0);
        for (int i = 0; i < n; i++)
        {
            int row = t._rowOfCluster[ids[i]];
            t._counts[row]++;
            var c = t._centres.AsSpan(row * d, d);
            var x = embeddings.Data.AsSpan(i * d, d);
            for (int k = 0; k < d; k++) c[k] += x[k];
        }
        for (int row = 0; row < t._centreCount; row++)
        {
            var c = t._centres.AsSpan(row * d, d);
            double inv = 1.0 / t._counts[row];
            for (int k = 0; k < d; k++) c[k] *= inv;
            t.RefreshCentre(row);
        }
        t._coreRows = core;
        return t;
    }

    /// <summary>
    /// Builds the tables from a DBSCAN result (the article's initialisation): clusters keep DBSCAN's labels as IDs,
    /// noise points get fresh IDs, and the core points become the CorePoint assigner's index.
    /// </summary>
    /// <param name="itemIds">One distinct ID per row.</param>
    /// <param name="embeddings">The rows DBSCAN clustered.</param>
    /// <param name="dbscan">Its result.</param>
    /// <param name="options">Its options (the metric is taken from here).</param>
    /// <param name="idPolicy">How fresh IDs are chosen.</param>
    public static ClusterTables Initialise(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings, DbscanResult dbscan,
        DbscanOptions options, IdReusePolicy idPolicy = IdReusePolicy.SmallestFree)
    {
        ArgumentNullException.ThrowIfNull(dbscan);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Initialise(itemIds, embeddings, dbscan.Labels, dbscan.CoreSampleIndices, options.Metric, idPolicy);
    }

    // ---------------------------------------------------------------- validation (never mutates)

    /// <summary>Wraps one embedding as a 1-row matrix after checking its length.</summary>
    internal EmbeddingMatrix SingleRow(ReadOnlySpan<float> embedding)
    {
        if (embedding.Length != Dimension)
            throw new ArgumentException($"embedding has dimension {embedding.Length}; the tables hold dimension {Dimension}.", nameof(embedding));
        return new EmbeddingMatrix(embedding.ToArray(), 1, Dimension);
    }

    /// <summary>Checks a batch against the tables without changing anything; throws on the first problem.</summary>
    internal void ValidateBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count == 0 && itemIds.Count == 0)
            throw new ArgumentException("the batch is empty: pass at least one item.", nameof(embeddings));
        if (itemIds.Count != embeddings.Count)
            throw new ArgumentException($"itemIds has {itemIds.Count} entries but embeddings has {embeddings.Count} rows.", nameof(itemIds));
        if (embeddings.Dimension != Dimension)
            throw new ArgumentException($"embeddings have dimension {embeddings.Dimension}; the tables hold dimension {Dimension}.", nameof(embeddings));
        EmbeddingMatrix.ValidateRows(embeddings.Data, embeddings.Count, Dimension, Metric, nameof(embeddings));
        var seen = new HashSet<long>(itemIds.Count);
        for (int i = 0; i < itemIds.Count; i++)
        {
            long id = itemIds[i];
            if (_rowOfItem.ContainsKey(id))
                throw new ArgumentException($"item_id {id} (batch index {i}) is already in the label table: item IDs must be distinct.", nameof(itemIds));
            if (!seen.Add(id))
                throw new ArgumentException($"item_id {id} appears twice in the batch (again at index {i}): item IDs must be distinct.", nameof(itemIds));
        }
    }

    // ---------------------------------------------------------------- mutation (internal: the assigners' Assign and the store call these)

    /// <summary>The index of the centres, in centre-table order (rows [0, ClusterCount) are current).</summary>
    internal CentreIndex Index => _index;

    internal double CentreNorm(int row) => _index.Norms[row];

    internal ReadOnlySpan<double> CentreRowSpan(int row) => _centres.AsSpan(row * Dimension, Dimension);

    internal int ClusterIdAtRow(int row) => _centreIds[row];

    internal long CountAtRow(int row) => _counts[row];

    /// <summary>Centre count from which the nearest-centroid assigner searches through <see cref="CentreLists"/> instead
    /// of scanning every centre: the bench case <c>withineps</c> measured the lists 3.4-4.8x the full batched scan at
    /// 2 x 10^4 centres x 512 and 13-17x at 10^5 (exact, the same decisions); below, the full scan reads a table that
    /// fits in cache and building the lists (k-means over the centres, once per doubling of the table) is not
    /// repaid.</summary>
    internal const int DefaultListThreshold = 20_000;

    /// <summary>The list threshold of these tables (tests lower it to exercise the lists on small tables).</summary>
    internal int ListThreshold
    {
        get => _listThreshold;
        set
        {
            _listThreshold = value;
            if (_centreCount < value) _lists = null; // off: nothing keeps lists current that no search reads
        }
    }

    private int _listThreshold = DefaultListThreshold;

    /// <summary>The list index when the table is at least <see cref="ListThreshold"/> centres, else null. Call under
    /// the read or the write lock.</summary>
    internal CentreLists? Lists()
    {
        if (_centreCount < ListThreshold) return null;
        var lists = Volatile.Read(ref _lists);
        if (lists is not null && _centreCount < 2 * lists.BuiltAt) return lists;
        lock (_listsGate)
        {
            lists = _lists;
            if (lists is null || _centreCount >= 2 * lists.BuiltAt)
            {
                lists = CentreLists.Build(_index.Rows, _centres, _index.Norms, _centreCount, Dimension, Metric, seed: 20261201);
                Volatile.Write(ref _lists, lists);
            }
            return lists;
        }
    }

    internal int RowOfCluster(int clusterId) => _rowOfCluster[clusterId];

    /// <summary>
    /// Room for <paramref name="items"/> more label-table rows, grown once (a batch knows how many it adds; growing
    /// by doubling as it goes would copy the table, and touch fresh memory, once per doubling).
    /// </summary>
    internal void ReserveItems(int items)
    {
        long need = (long)_itemCount + items;
        if (need <= _itemIds.Length) return;
        GrowItems((int)Math.Min(int.MaxValue, Math.Max(need, 2L * _itemIds.Length)));
    }

    /// <summary>Room for exactly <paramref name="items"/> more label-table rows and <paramref name="centres"/> more
    /// centres where there is less (the bench at 10^6 centres: doubling a 9 GB table would not fit next to it).</summary>
    internal void ReserveExactly(int items, int centres)
    {
        if ((long)_itemCount + items > _itemIds.Length) GrowItems(checked(_itemCount + items));
        if ((long)_centreCount + centres > _centreIds.Length) GrowCentres(checked(_centreCount + centres));
    }

    private void GrowCentres(int cap)
    {
        Array.Resize(ref _centreIds, cap);
        Array.Resize(ref _counts, cap);
        Array.Resize(ref _centres, checked(cap * Dimension));
        _index.Resize(cap);
    }

    private void GrowItems(int cap)
    {
        Array.Resize(ref _itemIds, cap);
        Array.Resize(ref _itemClusters, cap);
        var grown = GC.AllocateUninitializedArray<float>(checked(cap * Dimension));
        _embeddings.AsSpan(0, _itemCount * Dimension).CopyTo(grown);
        _embeddings = grown;
        _rowOfItem.EnsureCapacity(cap);
    }

    internal void AppendItem(long itemId, ReadOnlySpan<float> x, int clusterId)
    {
        if (_itemCount == _itemIds.Length) GrowItems(checked(_itemIds.Length * 2));
        _itemIds[_itemCount] = itemId;
        _itemClusters[_itemCount] = clusterId;
        x.CopyTo(_embeddings.AsSpan(_itemCount * Dimension, Dimension));
        _rowOfItem.Add(itemId, _itemCount);
        _itemCount++;
        _version++;
    }

    private int AppendCentreRow(int clusterId, long count)
    {
        if (_centreCount == _centreIds.Length) GrowCentres(checked(_centreIds.Length * 2));
        int row = _centreCount++;
        _centreIds[row] = clusterId;
        _counts[row] = count;
        _rowOfCluster.Add(clusterId, row);
        _version++;
        return row;
    }

    private void RefreshCentre(int row)
    {
        var centre = _centres.AsSpan(row * Dimension, Dimension);
        if (_deferred is null) { _index.Set(row, centre); return; }
        _deferred.Add(row);
        _index.SetDeferringQuantized(row, centre);
    }

    /// <summary>Rows whose int8 copy waits for <see cref="FlushQuantized"/> (null: none is deferred).</summary>
    private HashSet<int>? _deferred;

    /// <summary>
    /// From now until <see cref="FlushQuantized"/>, a centre that moves or opens refreshes its float32 row and norm
    /// at once but its int8 copy only at the flush, once per row and in parallel: repacking a row's int8 values
    /// writes one word into each of its d/4 panel lines, the largest part of a commit. Only for a batch chunk's
    /// commits (the caller holds the write lock), which screen the rows changed since the chunk's snapshot from
    /// bounds, never from their int8 copy.
    /// </summary>
    internal void DeferQuantized() => _deferred ??= [];

    /// <summary>Brings the int8 copy of every deferred row up to date and stops deferring.</summary>
    internal void FlushQuantized()
    {
        if (_deferred is null) return;
        var rows = _deferred.ToArray();
        _deferred = null;
        if (rows.Length > 0) _index.SetQuantized(rows, _centres);
    }

    /// <summary>Adds the item to the label table and moves the centre of the cluster at <paramref name="row"/> (running
    /// mean, c ← c + (x - c)/n, element by element as the scalar loop would: vectors change no value).</summary>
    internal void JoinCluster(long itemId, ReadOnlySpan<float> x, int row)
    {
        AppendItem(itemId, x, _centreIds[row]);
        long n = ++_counts[row];
        var c = _centres.AsSpan(row * Dimension, Dimension);
        double inv = 1.0 / n;
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vinv = Vector512.Create(inv);
            for (; k + 16 <= c.Length; k += 16)
            {
                var (x0, x1) = Vector512.Widen(Vector512.Create(x.Slice(k, 16)));
                var c0 = Vector512.Create(c.Slice(k, 8));
                var c1 = Vector512.Create(c.Slice(k + 8, 8));
                (c0 + (x0 - c0) * vinv).CopyTo(c.Slice(k, 8));
                (c1 + (x1 - c1) * vinv).CopyTo(c.Slice(k + 8, 8));
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vinv = Vector256.Create(inv);
            for (; k + 8 <= c.Length; k += 8)
            {
                var (x0, x1) = Vector256.Widen(Vector256.Create(x.Slice(k, 8)));
                var c0 = Vector256.Create(c.Slice(k, 4));
                var c1 = Vector256.Create(c.Slice(k + 4, 4));
                (c0 + (x0 - c0) * vinv).CopyTo(c.Slice(k, 4));
                (c1 + (x1 - c1) * vinv).CopyTo(c.Slice(k + 4, 4));
            }
        }
        for (; k < c.Length; k++) c[k] += (x[k] - c[k]) * inv;
        RefreshCentre(row);
        _lists?.Moved(row, _centres, _index.Norms);
    }

    /// <summary>Opens a new cluster with a fresh ID holding only this item (its centre is the item); returns the centre row.
    /// <paramref name="list"/>: the list index's list for it, when the caller knows the item's nearest (-1: found here).</summary>
    internal int OpenCluster(long itemId, ReadOnlySpan<float> x, int list = -1)
    {
        int id = Allocator.Allocate();
        int row = AppendCentreRow(id, 1);
        var c = _centres.AsSpan(row * Dimension, Dimension);
        for (int k = 0; k < c.Length; k++) c[k] = x[k];
        RefreshCentre(row);
        _lists?.Add(row, _centres, _index.Norms, list);
        AppendItem(itemId, x, id);
        return row;
    }

    // ---------------------------------------------------------------- what the store reads and writes

    internal ClusterIdAllocator AllocatorForStore => Allocator;
    internal ReadOnlySpan<float> EmbeddingValues => _embeddings.AsSpan(0, _itemCount * Dimension);
    internal ReadOnlySpan<double> CentreValues => _centres.AsSpan(0, _centreCount * Dimension);
    internal ReadOnlySpan<long> Counts => _counts.AsSpan(0, _centreCount);

    /// <summary>Empty tables with room for the given rows (the store fills them).</summary>
    internal static ClusterTables Empty(int dimension, DistanceMetric metric, ClusterIdAllocator allocator, int items, int clusters) =>
        new(dimension, metric, allocator, items + items / 4 + 1024, clusters + clusters / 4 + 1024);

    /// <summary>Appends a centre-table row with its saved centre and count; returns the row.</summary>
    internal int AppendCentre(int clusterId, long count, ReadOnlySpan<double> centre)
    {
        int row = AppendCentreRow(clusterId, count);
        centre.CopyTo(_centres.AsSpan(row * Dimension, Dimension));
        RefreshCentre(row);
        return row;
    }

    internal void SetCoreRows(int[] rows) => _coreRows = rows;

    // ---------------------------------------------------------------- copies and comparison

    /// <summary>An independent deep copy (e.g. to run two assigners from the same initialisation); a consistent
    /// snapshot even while commits run on other threads.</summary>
    public ClusterTables Clone() => Clone(-1, -1);

    /// <summary>
    /// <see cref="Clone()"/> with room for exactly the rows given (-1: the same capacity as these tables): the bench
    /// copies tables of 10^6 centres with room for one run's items, since growing a table copies it (doubling it
    /// would not fit next to the original).
    /// </summary>
    internal ClusterTables Clone(int itemCapacity, int centreCapacity)
    {
        using var _ = ReadLock();
        itemCapacity = itemCapacity < 0 ? _itemIds.Length : Math.Max(itemCapacity, _itemCount);
        centreCapacity = centreCapacity < 0 ? _centreIds.Length : Math.Max(centreCapacity, _centreCount);
        var t = new ClusterTables(Dimension, Metric, Allocator.Clone(), itemCapacity, centreCapacity);
        _itemIds.AsSpan(0, _itemCount).CopyTo(t._itemIds);
        _itemClusters.AsSpan(0, _itemCount).CopyTo(t._itemClusters);
        _embeddings.AsSpan(0, _itemCount * Dimension).CopyTo(t._embeddings);
        foreach (var kv in _rowOfItem) t._rowOfItem.Add(kv.Key, kv.Value);
        t._itemCount = _itemCount;
        _centreIds.AsSpan(0, _centreCount).CopyTo(t._centreIds);
        _centres.AsSpan(0, _centreCount * Dimension).CopyTo(t._centres);
        t._index = _index.Clone(_centreCount, t._centreIds.Length);
        _counts.AsSpan(0, _centreCount).CopyTo(t._counts);
        foreach (var kv in _rowOfCluster) t._rowOfCluster.Add(kv.Key, kv.Value);
        t._centreCount = _centreCount;
        t._coreRows = (int[])_coreRows.Clone();
        t._lists = _lists?.Clone();
        t._listThreshold = ListThreshold;
        return t;
    }

    /// <summary>
    /// True when both hold exactly the same tables (every item, embedding bit, cluster ID, centre bit and count,
    /// in the same order), the same core points and the same allocator state. Safe while commits run: it compares a
    /// snapshot of <paramref name="other"/> under this table's read lock (one lock at a time, so no lock-order deadlock).
    /// </summary>
    public bool SameStateAs(ClusterTables other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!ReferenceEquals(other, this))
            other = other.Clone();
        using var _ = ReadLock();
        return Dimension == other.Dimension && Metric == other.Metric
            && _itemCount == other._itemCount && _centreCount == other._centreCount
            && ItemIds.SequenceEqual(other.ItemIds) && ItemClusterIds.SequenceEqual(other.ItemClusterIds)
            && _embeddings.AsSpan(0, _itemCount * Dimension).SequenceEqual(other._embeddings.AsSpan(0, other._itemCount * Dimension))
            && ClusterIds.SequenceEqual(other.ClusterIds)
            && _centres.AsSpan(0, _centreCount * Dimension).SequenceEqual(other._centres.AsSpan(0, other._centreCount * Dimension))
            && _counts.AsSpan(0, _centreCount).SequenceEqual(other._counts.AsSpan(0, other._centreCount))
            && _coreRows.AsSpan().SequenceEqual(other._coreRows)
            && Allocator.Policy == other.Allocator.Policy && Allocator.HighWaterMark == other.Allocator.HighWaterMark
            && Allocator.LiveIds.Order().SequenceEqual(other.Allocator.LiveIds.Order());
    }
}
