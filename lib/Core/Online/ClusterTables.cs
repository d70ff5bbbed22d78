using System.Text.Json;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;
using LabelAssignment.IO;
using LabelAssignment.Ids;

namespace LabelAssignment.Online;

/// <summary>
/// The state of online assignment (section 3 of the article): the label table (item_id, embeddings, cluster_id),
/// the centre table (cluster_id, cluster_center) with a member count per cluster, the DBSCAN core points of the
/// initial clustering, and the <see cref="ClusterIdAllocator"/> that issues every fresh ID.
/// The real state is kept in flat growing arrays; the studies layer builds DataFrame views of them on demand. Centres are float64 running means (the article recomputes a float64 mean; a
/// running mean in float64 gives the same value in O(d) per update).
/// </summary>
public sealed class ClusterTables
{
    private const int FormatVersion = 1;

    // Label table.
    private long[] _itemIds;
    private float[] _embeddings;     // _itemCount x Dimension
    private int[] _itemClusters;
    private int _itemCount;
    private readonly Dictionary<long, int> _rowOfItem;

    // Centre table, in table order (initial clusters sorted by ID, then new clusters as they appear).
    private int[] _centreIds;
    private double[] _centres;       // _centreCount x Dimension, the truth
    private float[] _centresF;       // float32 copy for screening with Gemm
    private double[] _centreNorms;
    private QuantizedRows _quant;    // int8 copy for screening one item at a time
    private long[] _counts;
    private int _centreCount;
    private readonly Dictionary<int, int> _rowOfCluster;

    private int[] _coreRows;         // item rows that were DBSCAN core points at initialisation
    private int _version;

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
        _centresF = new float[(long)centreCapacity * dimension];
        _centreNorms = new double[centreCapacity];
        _quant = new QuantizedRows(dimension, centreCapacity);
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
    public EmbeddingMatrix ItemEmbeddings() =>
        new(_embeddings.AsSpan(0, _itemCount * Dimension).ToArray(), _itemCount, Dimension);

    /// <summary>Whether an item with this ID is in the label table.</summary>
    public bool ContainsItem(long itemId) => _rowOfItem.ContainsKey(itemId);

    /// <summary>The cluster ID of an item in the label table; throws when the item is unknown (there is no "none" ID).</summary>
    public int ClusterOf(long itemId) =>
        _rowOfItem.TryGetValue(itemId, out int row)
            ? _itemClusters[row]
            : throw new KeyNotFoundException($"item_id {itemId} is not in the label table.");

    /// <summary>Whether a live cluster holds this ID.</summary>
    public bool ContainsCluster(int clusterId) => _rowOfCluster.ContainsKey(clusterId);

    /// <summary>The centre (float64 running mean) of a live cluster.</summary>
    public ReadOnlySpan<double> Centre(int clusterId) => _centres.AsSpan(CentreRow(clusterId) * Dimension, Dimension);

    /// <summary>How many items a live cluster holds.</summary>
    public long MemberCount(int clusterId) => _counts[CentreRow(clusterId)];

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

    // ---------------------------------------------------------------- mutation (internal: the assigners call these)

    internal float[] CentresF => _centresF;
    internal double[] CentreNorms => _centreNorms;
    internal QuantizedRows Quantized => _quant;

    internal double CentreNorm(int row) => _centreNorms[row];

    internal ReadOnlySpan<double> CentreRowSpan(int row) => _centres.AsSpan(row * Dimension, Dimension);

    internal int ClusterIdAtRow(int row) => _centreIds[row];

    internal int RowOfCluster(int clusterId) => _rowOfCluster[clusterId];

    internal void AppendItem(long itemId, ReadOnlySpan<float> x, int clusterId)
    {
        if (_itemCount == _itemIds.Length)
        {
            int cap = checked(_itemIds.Length * 2);
            Array.Resize(ref _itemIds, cap);
            Array.Resize(ref _itemClusters, cap);
            Array.Resize(ref _embeddings, checked(cap * Dimension));
        }
        _itemIds[_itemCount] = itemId;
        _itemClusters[_itemCount] = clusterId;
        x.CopyTo(_embeddings.AsSpan(_itemCount * Dimension, Dimension));
        _rowOfItem.Add(itemId, _itemCount);
        _itemCount++;
        _version++;
    }

    private int AppendCentreRow(int clusterId, long count)
    {
        if (_centreCount == _centreIds.Length)
        {
            int cap = checked(_centreIds.Length * 2);
            Array.Resize(ref _centreIds, cap);
            Array.Resize(ref _centreNorms, cap);
            Array.Resize(ref _counts, cap);
            Array.Resize(ref _centres, checked(cap * Dimension));
            Array.Resize(ref _centresF, checked(cap * Dimension));
            _quant.Resize(cap);
        }
        int row = _centreCount++;
        _centreIds[row] = clusterId;
        _counts[row] = count;
        _rowOfCluster.Add(clusterId, row);
        _version++;
        return row;
    }

    private void RefreshCentre(int row)
    {
        var c = _centres.AsSpan(row * Dimension, Dimension);
        var f = _centresF.AsSpan(row * Dimension, Dimension);
        for (int k = 0; k < c.Length; k++) f[k] = (float)c[k];
        _centreNorms[row] = DistanceKernels.Norm(c);
        _quant.Set(row, c);
    }

    /// <summary>Adds the item to the label table and moves the centre of the cluster at <paramref name="row"/> (running mean).</summary>
    internal void JoinCluster(long itemId, ReadOnlySpan<float> x, int row)
    {
        AppendItem(itemId, x, _centreIds[row]);
        long n = ++_counts[row];
        var c = _centres.AsSpan(row * Dimension, Dimension);
        double inv = 1.0 / n;
        for (int k = 0; k < c.Length; k++) c[k] += (x[k] - c[k]) * inv;
        RefreshCentre(row);
    }

    /// <summary>Opens a new cluster with a fresh ID holding only this item (its centre is the item); returns the centre row.</summary>
    internal int OpenCluster(long itemId, ReadOnlySpan<float> x)
    {
        int id = Allocator.Allocate();
        int row = AppendCentreRow(id, 1);
        var c = _centres.AsSpan(row * Dimension, Dimension);
        for (int k = 0; k < c.Length; k++) c[k] = x[k];
        RefreshCentre(row);
        AppendItem(itemId, x, id);
        return row;
    }

    // ---------------------------------------------------------------- copies and comparison

    /// <summary>An independent deep copy (e.g. to run two assigners from the same initialisation).</summary>
    public ClusterTables Clone()
    {
        var t = new ClusterTables(Dimension, Metric, Allocator.Clone(), _itemIds.Length, _centreIds.Length);
        _itemIds.AsSpan(0, _itemCount).CopyTo(t._itemIds);
        _itemClusters.AsSpan(0, _itemCount).CopyTo(t._itemClusters);
        _embeddings.AsSpan(0, _itemCount * Dimension).CopyTo(t._embeddings);
        foreach (var kv in _rowOfItem) t._rowOfItem.Add(kv.Key, kv.Value);
        t._itemCount = _itemCount;
        _centreIds.AsSpan(0, _centreCount).CopyTo(t._centreIds);
        _centres.AsSpan(0, _centreCount * Dimension).CopyTo(t._centres);
        _centresF.AsSpan(0, _centreCount * Dimension).CopyTo(t._centresF);
        _centreNorms.AsSpan(0, _centreCount).CopyTo(t._centreNorms);
        t._quant = _quant.Clone(_centreCount);
        _counts.AsSpan(0, _centreCount).CopyTo(t._counts);
        foreach (var kv in _rowOfCluster) t._rowOfCluster.Add(kv.Key, kv.Value);
        t._centreCount = _centreCount;
        t._coreRows = (int[])_coreRows.Clone();
        return t;
    }

    /// <summary>
    /// True when both hold exactly the same tables (every item, embedding bit, cluster ID, centre bit and count,
    /// in the same order), the same core points and the same allocator state.
    /// </summary>
    public bool SameStateAs(ClusterTables other)
    {
        ArgumentNullException.ThrowIfNull(other);
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

    // ---------------------------------------------------------------- persistence

    private sealed record Manifest(int FormatVersion, string Generation, string Metric, int Dimension, int Items, int Clusters,
        string IdPolicy, int HighWaterMark);

    private static readonly string[] Parts = ["item_ids", "embeddings", "cluster_ids", "centre_ids", "centres", "counts", "core_rows", "allocator"];

    private static string PartFile(string folder, string part, string generation) =>
        Path.Combine(folder, $"{part}.{generation}.{(part == "allocator" ? "json" : "npy")}");

    /// <summary>
    /// Saves the state into <paramref name="folder"/> as .npy files (numpy and pandas read them as they are) and
    /// a small <c>tables.json</c> manifest. Each save writes a new generation of files and then replaces the
    /// manifest atomically, so a crash leaves either the old state or the new one, never a mix.
    /// </summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        string manifestPath = Path.Combine(folder, "tables.json");
        string? oldGeneration = null;
        if (File.Exists(manifestPath))
        {
            try { oldGeneration = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath))?.Generation; }
            catch (JsonException) { /* a corrupt manifest is replaced below */ }
        }
        string gen = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}"[..30];
        Npy.Write(PartFile(folder, "item_ids", gen), (ReadOnlySpan<long>)ItemIds, _itemCount);
        Npy.Write(PartFile(folder, "embeddings", gen), (ReadOnlySpan<float>)_embeddings.AsSpan(0, _itemCount * Dimension), _itemCount, Dimension);
        Npy.Write(PartFile(folder, "cluster_ids", gen), (ReadOnlySpan<int>)ItemClusterIds, _itemCount);
        Npy.Write(PartFile(folder, "centre_ids", gen), (ReadOnlySpan<int>)ClusterIds, _centreCount);
        Npy.Write(PartFile(folder, "centres", gen), (ReadOnlySpan<double>)_centres.AsSpan(0, _centreCount * Dimension), _centreCount, Dimension);
        Npy.Write(PartFile(folder, "counts", gen), (ReadOnlySpan<long>)_counts.AsSpan(0, _centreCount), _centreCount);
        Npy.Write(PartFile(folder, "core_rows", gen), (ReadOnlySpan<int>)_coreRows, _coreRows.Length);
        Allocator.Save(PartFile(folder, "allocator", gen));
        var manifest = new Manifest(FormatVersion, gen, Metric.ToString(), Dimension, _itemCount, _centreCount, Allocator.Policy.ToString(), Allocator.HighWaterMark);
        AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        if (oldGeneration is not null && oldGeneration != gen)
            foreach (string part in Parts)
                try { File.Delete(PartFile(folder, part, oldGeneration)); } catch (IOException) { }
    }

    /// <summary>Loads what <see cref="Save"/> wrote; missing or inconsistent files throw <see cref="InvalidDataException"/> naming the file.</summary>
    public static ClusterTables Load(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string manifestPath = Path.Combine(folder, "tables.json");
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"{manifestPath}: no saved cluster tables here.", manifestPath);
        Manifest? m;
        try { m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{manifestPath}: not a cluster tables manifest ({e.Message}).", e); }
        if (m is null || m.Generation is null || m.FormatVersion != FormatVersion
            || !Enum.TryParse<DistanceMetric>(m.Metric, out var metric) || m.Dimension < 1 || m.Items < 1 || m.Clusters < 1)
            throw new InvalidDataException($"{manifestPath}: not a version-{FormatVersion} cluster tables manifest (format, generation, metric, dimension, items or clusters missing or out of range).");
        string gen = m.Generation;
        string F(string part) => PartFile(folder, part, gen);
        var allocator = ClusterIdAllocator.Load(F("allocator"));

        var itemIds = Npy.Read<long>(F("item_ids"));
        var emb = Npy.ReadMatrix(F("embeddings"));
        var clusterIds = Npy.ReadLabels(F("cluster_ids"));
        var centreIds = Npy.ReadLabels(F("centre_ids"));
        var (centres, cRows, cCols) = Npy.ReadFloat64Matrix(F("centres"));
        var counts = Npy.Read<long>(F("counts"));
        var coreRows = Npy.ReadLabels(F("core_rows"));
        void Check(bool ok, string part, string what)
        {
            if (!ok) throw new InvalidDataException($"{F(part)}: {what} (manifest: {m.Items} items, {m.Clusters} clusters, dimension {m.Dimension}).");
        }
        Check(itemIds.Data.Length == m.Items && itemIds.Shape.Length == 1, "item_ids", $"holds {itemIds.Data.Length} item IDs");
        Check(emb.Count == m.Items && emb.Dimension == m.Dimension, "embeddings", $"has shape ({emb.Count}, {emb.Dimension})");
        Check(clusterIds.Length == m.Items, "cluster_ids", $"holds {clusterIds.Length} cluster IDs");
        Check(centreIds.Length == m.Clusters, "centre_ids", $"holds {centreIds.Length} cluster IDs");
        Check(cRows == m.Clusters && cCols == m.Dimension, "centres", $"has shape ({cRows}, {cCols})");
        Check(counts.Data.Length == m.Clusters, "counts", $"holds {counts.Data.Length} counts");
        Check(allocator.Policy.ToString() == m.IdPolicy && allocator.HighWaterMark == m.HighWaterMark, "allocator", "does not match the manifest's policy or high-water mark");

        var t = new ClusterTables(m.Dimension, metric, allocator, m.Items + m.Items / 4 + 1024, m.Clusters + m.Clusters / 4 + 1024);
        for (int i = 0; i < m.Items; i++)
        {
            if (t._rowOfItem.ContainsKey(itemIds.Data[i]))
                throw new InvalidDataException($"{F("item_ids")}: item_id {itemIds.Data[i]} appears twice.");
            t.AppendItem(itemIds.Data[i], emb.Data.AsSpan(i * m.Dimension, m.Dimension), clusterIds[i]);
        }
        for (int r = 0; r < m.Clusters; r++)
        {
            if (!allocator.IsLive(centreIds[r]) || t._rowOfCluster.ContainsKey(centreIds[r]))
                throw new InvalidDataException($"{F("centre_ids")}: cluster_id {centreIds[r]} is duplicated or not live in the allocator.");
            if (counts.Data[r] < 1)
                throw new InvalidDataException($"{F("counts")}: cluster_id {centreIds[r]} has count {counts.Data[r]}; expected >= 1.");
            int row = t.AppendCentreRow(centreIds[r], counts.Data[r]);
            centres.AsSpan(r * m.Dimension, m.Dimension).CopyTo(t._centres.AsSpan(row * m.Dimension, m.Dimension));
            t.RefreshCentre(row);
        }
        if (allocator.LiveIds.Count != m.Clusters)
            throw new InvalidDataException($"{F("allocator")}: {allocator.LiveIds.Count} live IDs but the centre table has {m.Clusters} clusters.");
        for (int i = 0; i < m.Items; i++)
            if (!t._rowOfCluster.ContainsKey(clusterIds[i]))
                throw new InvalidDataException($"{F("cluster_ids")}: row {i} has cluster_id {clusterIds[i]}, which has no centre.");
        for (int k = 0; k < coreRows.Length; k++)
            if ((uint)coreRows[k] >= (uint)m.Items || (k > 0 && coreRows[k] <= coreRows[k - 1]))
                throw new InvalidDataException($"{F("core_rows")}: entry {k} = {coreRows[k]} is outside [0, {m.Items}) or not ascending.");
        t._coreRows = coreRows;
        return t;
    }
}
