using System.Text.Json;
using LabelAssignment.IO;
using LabelAssignment.Ids;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// Where <see cref="ClusterTables"/> live between runs: one folder of .npy files (numpy and pandas read them as they
/// are) and a small <c>tables.json</c> manifest naming the current generation. Each save writes a new generation of
/// files and then replaces the manifest atomically, so a crash leaves either the old state or the new one, never a
/// mix. The format (version 1) is unchanged from when the tables saved themselves.
/// </summary>
public sealed class ClusterTablesStore
{
    private const int FormatVersion = 1;
    private const string ManifestName = "tables.json";

    private sealed record Manifest(int FormatVersion, string Generation, string Metric, int Dimension, int Items, int Clusters,
        string IdPolicy, int HighWaterMark);

    private static readonly string[] Parts = ["item_ids", "embeddings", "cluster_ids", "centre_ids", "centres", "counts", "core_rows", "allocator"];

    /// <summary>A store in <paramref name="folder"/> (created on the first save).</summary>
    public ClusterTablesStore(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = folder;
    }

    /// <summary>The folder holding the manifest and the generations.</summary>
    public string Folder { get; }

    /// <summary>Whether a saved state is here (the manifest exists).</summary>
    public bool Exists => File.Exists(ManifestPath);

    private string ManifestPath => Path.Combine(Folder, ManifestName);

    private string PartFile(string part, string generation) =>
        Path.Combine(Folder, $"{part}.{generation}.{(part == "allocator" ? "json" : "npy")}");

    /// <summary>
    /// Saves <paramref name="tables"/> as a new generation, then points the manifest at it and deletes the files of
    /// the generation it replaced.
    /// </summary>
    public void Save(ClusterTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        Directory.CreateDirectory(Folder);
        string? oldGeneration = null;
        if (File.Exists(ManifestPath))
        {
            try { oldGeneration = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(ManifestPath))?.Generation; }
            catch (JsonException) { /* a corrupt manifest is replaced below */ }
        }
        string gen = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}"[..30];
        int items = tables.ItemCount, clusters = tables.ClusterCount, d = tables.Dimension;
        var allocator = tables.AllocatorForStore;
        Npy.Write(PartFile("item_ids", gen), tables.ItemIds, items);
        Npy.Write(PartFile("embeddings", gen), tables.EmbeddingValues, items, d);
        Npy.Write(PartFile("cluster_ids", gen), tables.ItemClusterIds, items);
        Npy.Write(PartFile("centre_ids", gen), tables.ClusterIds, clusters);
        Npy.Write(PartFile("centres", gen), tables.CentreValues, clusters, d);
        Npy.Write(PartFile("counts", gen), tables.Counts, clusters);
        Npy.Write(PartFile("core_rows", gen), tables.CoreRows, tables.CoreRows.Length);
        allocator.Save(PartFile("allocator", gen));
        var manifest = new Manifest(FormatVersion, gen, tables.Metric.ToString(), d, items, clusters, allocator.Policy.ToString(), allocator.HighWaterMark);
        AtomicFile.WriteAllText(ManifestPath, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        if (oldGeneration is not null && oldGeneration != gen)
            foreach (string part in Parts)
                try { File.Delete(PartFile(part, oldGeneration)); } catch (IOException) { }
    }

    /// <summary>Loads what <see cref="Save"/> wrote; missing or inconsistent files throw <see cref="InvalidDataException"/> naming the file.</summary>
    public ClusterTables Load()
    {
        string manifestPath = ManifestPath;
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"{manifestPath}: no saved cluster tables here.", manifestPath);
        Manifest? m;
        try { m = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath)); }
        catch (JsonException e) { throw new InvalidDataException($"{manifestPath}: not a cluster tables manifest ({e.Message}).", e); }
        if (m is null || m.Generation is null || m.FormatVersion != FormatVersion
            || !Enum.TryParse<DistanceMetric>(m.Metric, out var metric) || m.Dimension < 1 || m.Items < 1 || m.Clusters < 1)
            throw new InvalidDataException($"{manifestPath}: not a version-{FormatVersion} cluster tables manifest (format, generation, metric, dimension, items or clusters missing or out of range).");
        string gen = m.Generation;
        string F(string part) => PartFile(part, gen);
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

        var t = ClusterTables.Empty(m.Dimension, metric, allocator, m.Items, m.Clusters);
        for (int i = 0; i < m.Items; i++)
        {
            if (t.ContainsItem(itemIds.Data[i]))
                throw new InvalidDataException($"{F("item_ids")}: item_id {itemIds.Data[i]} appears twice.");
            t.AppendItem(itemIds.Data[i], emb.Data.AsSpan(i * m.Dimension, m.Dimension), clusterIds[i]);
        }
        for (int r = 0; r < m.Clusters; r++)
        {
            if (!allocator.IsLive(centreIds[r]) || t.ContainsCluster(centreIds[r]))
                throw new InvalidDataException($"{F("centre_ids")}: cluster_id {centreIds[r]} is duplicated or not live in the allocator.");
            if (counts.Data[r] < 1)
                throw new InvalidDataException($"{F("counts")}: cluster_id {centreIds[r]} has count {counts.Data[r]}; expected >= 1.");
            t.AppendCentre(centreIds[r], counts.Data[r], centres.AsSpan(r * m.Dimension, m.Dimension));
        }
        if (allocator.LiveIds.Count != m.Clusters)
            throw new InvalidDataException($"{F("allocator")}: {allocator.LiveIds.Count} live IDs but the centre table has {m.Clusters} clusters.");
        for (int i = 0; i < m.Items; i++)
            if (!t.ContainsCluster(clusterIds[i]))
                throw new InvalidDataException($"{F("cluster_ids")}: row {i} has cluster_id {clusterIds[i]}, which has no centre.");
        for (int k = 0; k < coreRows.Length; k++)
            if ((uint)coreRows[k] >= (uint)m.Items || (k > 0 && coreRows[k] <= coreRows[k - 1]))
                throw new InvalidDataException($"{F("core_rows")}: entry {k} = {coreRows[k]} is outside [0, {m.Items}) or not ascending.");
        t.SetCoreRows(coreRows);
        return t;
    }
}
