using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelAssignment.Data;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Embedding;

/// <summary>What a cache entry is for: data set, split, number of items and model (e.g. "resnet18-224-l2").</summary>
/// <param name="Dataset">Data set name, e.g. "cifar100".</param>
/// <param name="Split">Split name, e.g. "test".</param>
/// <param name="SampleCount">Number of items embedded.</param>
/// <param name="Model">Model name including anything that changes the vectors (size, normalisation).</param>
public sealed record EmbeddingCacheKey(string Dataset, string Split, int SampleCount, string Model)
{
    /// <summary>The entry's folder name, e.g. <c>cifar100-test-n500-resnet18-224</c>.</summary>
    public string FolderName => $"{Dataset}-{Split}-n{SampleCount}-{Model}".ToLowerInvariant();

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad field (names may use letters, digits, '.', '_' and '-').</summary>
    public EmbeddingCacheKey Validate()
    {
        foreach (var (name, value) in new[] { (nameof(Dataset), Dataset), (nameof(Split), Split), (nameof(Model), Model) })
            if (string.IsNullOrEmpty(value) || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new ArgumentException($"{name}='{value}' must be non-empty and use only letters, digits, '.', '_' and '-'.", name);
        if (SampleCount < 0)
            throw new ArgumentOutOfRangeException(nameof(SampleCount), SampleCount, "SampleCount must be >= 0.");
        return this;
    }
}

/// <summary>Embeddings with their item ids and labels: row i belongs to ItemIds[i].</summary>
/// <param name="Embeddings">n x d float32.</param>
/// <param name="ItemIds">n item ids (for CIFAR-100: positions in the official file).</param>
/// <param name="Labels">n labels (for CIFAR-100: fine labels).</param>
/// <param name="CoarseLabels">Optional n coarse labels (CIFAR-100 superclasses).</param>
public sealed record EmbeddingSet(EmbeddingMatrix Embeddings, long[] ItemIds, int[] Labels, int[]? CoarseLabels = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> when the arrays disagree in length.</summary>
    public EmbeddingSet Validate()
    {
        ArgumentNullException.ThrowIfNull(Embeddings);
        ArgumentNullException.ThrowIfNull(ItemIds);
        ArgumentNullException.ThrowIfNull(Labels);
        int n = Embeddings.Count;
        if (ItemIds.Length != n || Labels.Length != n || (CoarseLabels is not null && CoarseLabels.Length != n))
            throw new ArgumentException(
                $"{n} embeddings but {ItemIds.Length} item ids, {Labels.Length} labels and {CoarseLabels?.Length.ToString() ?? "no"} coarse labels; all must match.", nameof(ItemIds));
        return this;
    }
}

/// <summary>The result of <see cref="EmbeddingCache.GetOrCreate(string, EmbeddingCacheKey, Func{EmbeddingSet}, string?)"/>.</summary>
/// <param name="Set">The embeddings.</param>
/// <param name="FromCache">True when read from disk, false when computed (and written).</param>
/// <param name="Folder">The cache entry's folder.</param>
public sealed record CachedEmbeddings(EmbeddingSet Set, bool FromCache, string Folder);

/// <summary>An entry of the embedding cache that was just read or written (see <see cref="EmbeddingCache.Used"/>).</summary>
/// <param name="Folder">The entry's folder.</param>
/// <param name="Key">Its key (data set, split, count, model).</param>
/// <param name="Dimension">Length of each vector.</param>
/// <param name="ModelFingerprint">The manifest's model fingerprint (<see cref="EmbeddingCache.Fingerprint"/>), if recorded.</param>
/// <param name="FromCache">True when read back, false when just computed and written.</param>
public sealed record EmbeddingCacheUse(string Folder, EmbeddingCacheKey Key, int Dimension, string? ModelFingerprint, bool FromCache);

/// <summary>
/// Embeddings stored as .npy under <c>DATA/embeddings/KEY/</c> (<c>X.npy</c> float32 (n, d), <c>ids.npy</c> int64 (n,)
/// (entries written with int32 ids still read), <c>labels.npy</c>, <c>coarse_labels.npy</c> int32 (n,)) plus <c>manifest.json</c>, written last: an entry
/// without a matching manifest is incomplete and is recomputed. numpy reads the files as they are.
/// </summary>
public static class EmbeddingCache
{
    /// <summary>The subfolder of the data folder that holds cache entries.</summary>
    public const string Subfolder = "embeddings";

    /// <summary>
    /// Raised after an entry was read successfully or written: a report records which data it used (provenance)
    /// without every caller passing that along. Handlers must not throw.
    /// </summary>
    public static event Action<EmbeddingCacheUse>? Used;

    /// <summary>The folder of one entry.</summary>
    public static string FolderOf(string dataFolder, EmbeddingCacheKey key)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        return Path.Combine(Path.GetFullPath(dataFolder), Subfolder, key.Validate().FolderName);
    }

    /// <summary>
    /// Reads an entry, or returns null when it is absent, incomplete, corrupt, or made from another model file
    /// (<paramref name="modelFingerprint"/>, e.g. <see cref="Fingerprint"/>), or its ids differ from <paramref name="expectedIds"/>.
    /// </summary>
    public static EmbeddingSet? TryLoad(string dataFolder, EmbeddingCacheKey key, string? modelFingerprint = null, long[]? expectedIds = null)
    {
        string folder = FolderOf(dataFolder, key);
        string manifestPath = Path.Combine(folder, "manifest.json");
        if (!File.Exists(manifestPath))
            return null;
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
            if ((string?)manifest["key"] != key.FolderName || (int?)manifest["count"] != key.SampleCount
                || (modelFingerprint is not null && (string?)manifest["model_fingerprint"] != modelFingerprint))
                return null;
            var x = Npy.ReadMatrix(Path.Combine(folder, "X.npy"));
            var ids = Npy.ReadItemIds(Path.Combine(folder, "ids.npy"));
            var labels = Npy.ReadLabels(Path.Combine(folder, "labels.npy"));
            string coarsePath = Path.Combine(folder, "coarse_labels.npy");
            int[]? coarse = (bool?)manifest["has_coarse_labels"] == true ? Npy.ReadLabels(coarsePath) : null;
            if (x.Count != key.SampleCount || x.Dimension != (int?)manifest["dimension"])
                return null;
            if (expectedIds is not null && !ids.AsSpan().SequenceEqual(expectedIds))
                return null;
            var set = new EmbeddingSet(x, ids, labels, coarse).Validate();
            Used?.Invoke(new EmbeddingCacheUse(folder, key, x.Dimension, (string?)manifest["model_fingerprint"], FromCache: true));
            return set;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or ArgumentException or InvalidOperationException or FormatException)
        {
            return null; // a damaged entry is recomputed, never trusted
        }
    }

    /// <summary>Writes an entry: the arrays first, each atomically, then the manifest that marks it complete.</summary>
    public static string Save(string dataFolder, EmbeddingCacheKey key, EmbeddingSet set, string? modelFingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        set.Validate();
        if (set.Embeddings.Count != key.SampleCount)
            throw new ArgumentException($"the key says {key.SampleCount} items; the set has {set.Embeddings.Count}.", nameof(set));
        string folder = FolderOf(dataFolder, key);
        Directory.CreateDirectory(folder);
        string manifestPath = Path.Combine(folder, "manifest.json");
        File.Delete(manifestPath); // the entry is incomplete until the new manifest lands
        Npy.Write(Path.Combine(folder, "X.npy"), set.Embeddings);
        Npy.Write(Path.Combine(folder, "ids.npy"), set.ItemIds);
        Npy.Write(Path.Combine(folder, "labels.npy"), set.Labels);
        if (set.CoarseLabels is not null)
            Npy.Write(Path.Combine(folder, "coarse_labels.npy"), set.CoarseLabels);
        var manifest = new JsonObject
        {
            ["key"] = key.FolderName,
            ["dataset"] = key.Dataset,
            ["split"] = key.Split,
            ["count"] = key.SampleCount,
            ["model"] = key.Model,
            ["dimension"] = set.Embeddings.Dimension,
            ["has_coarse_labels"] = set.CoarseLabels is not null,
            ["model_fingerprint"] = modelFingerprint,
            ["created_utc"] = DateTime.UtcNow.ToString("O"),
        };
        AtomicFile.WriteAllText(manifestPath, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Used?.Invoke(new EmbeddingCacheUse(folder, key, set.Embeddings.Dimension, modelFingerprint, FromCache: false));
        return folder;
    }

    /// <summary>Returns the entry when valid; otherwise calls <paramref name="compute"/>, saves and returns its result.</summary>
    public static CachedEmbeddings GetOrCreate(string dataFolder, EmbeddingCacheKey key, Func<EmbeddingSet> compute, string? modelFingerprint = null)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var cached = TryLoad(dataFolder, key, modelFingerprint);
        if (cached is not null)
            return new CachedEmbeddings(cached, true, FolderOf(dataFolder, key));
        var set = compute();
        return new CachedEmbeddings(set, false, Save(dataFolder, key, set, modelFingerprint));
    }

    /// <summary>
    /// Embeddings of a CIFAR-100 data set (or a subset) with <paramref name="embedder"/>, from the cache when an
    /// entry with the same split, count, model, model file and item ids exists, else computed and cached.
    /// </summary>
    public static CachedEmbeddings GetOrCreate(string dataFolder, Cifar100Dataset data, OnnxImageEmbedder embedder,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(embedder);
        var key = KeyFor(data, embedder);
        string fingerprint = Fingerprint(embedder.Preset.ModelPath);
        var cached = TryLoad(dataFolder, key, fingerprint, data.ItemIds);
        if (cached is not null)
        {
            progress?.Report(new WorkProgress(OnnxImageEmbedder.ProgressStage, data.Count, data.Count, "from the cache"));
            return new CachedEmbeddings(cached, true, FolderOf(dataFolder, key));
        }
        var x = embedder.Embed(data, progress, cancellationToken);
        var set = new EmbeddingSet(x, (long[])data.ItemIds.Clone(), (int[])data.FineLabels.Clone(), (int[])data.CoarseLabels.Clone());
        return new CachedEmbeddings(set, false, Save(dataFolder, key, set, fingerprint));
    }

    /// <summary>The key for a CIFAR-100 data set and an embedder: model name plus "-l2" when rows are normalised.</summary>
    public static EmbeddingCacheKey KeyFor(Cifar100Dataset data, OnnxImageEmbedder embedder) =>
        new EmbeddingCacheKey("cifar100", data.Split.ToString().ToLowerInvariant(), data.Count,
            embedder.Preset.Name + (embedder.Options.L2Normalize ? "-l2" : "")).Validate();

    /// <summary>
    /// A cheap identity of a model file: its length and the MD5 of its first and last mebibyte, so a re-exported
    /// model invalidates the cache without hashing gigabytes.
    /// </summary>
    public static string Fingerprint(string modelPath)
    {
        using var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        const int chunk = 1 << 20;
        var buffer = new byte[(int)Math.Min(file.Length, 2 * chunk)];
        int head = (int)Math.Min(file.Length, chunk);
        file.ReadExactly(buffer, 0, head);
        if (buffer.Length > head)
        {
            file.Position = file.Length - (buffer.Length - head);
            file.ReadExactly(buffer, head, buffer.Length - head);
        }
        return $"{file.Length}:{Convert.ToHexStringLower(MD5.HashData(buffer))}";
    }
}
