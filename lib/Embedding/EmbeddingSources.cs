using System.Globalization;
using LabelAssignment.Data;
using LabelAssignment.Numerics;

namespace LabelAssignment.Embedding;

/// <summary>Where a notebook's embeddings came from.</summary>
public enum EmbeddingSourceKind
{
    /// <summary>A .npy file named by the caller.</summary>
    Npy,

    /// <summary>An entry of the <see cref="EmbeddingCache"/> (e.g. written by notebook 1).</summary>
    Cache,

    /// <summary>CIFAR-100 test images embedded now (and cached for the next run).</summary>
    Embedded,
}

/// <summary>Embeddings for a study, with where they came from.</summary>
/// <param name="Embeddings">n x d, the first n rows of the source.</param>
/// <param name="ItemIds">n item ids (CIFAR-100: positions in the official test file; .npy: row numbers).</param>
/// <param name="Labels">n class labels when the source has them (CIFAR-100 fine labels), else null.</param>
/// <param name="Kind">Which kind of source was used.</param>
/// <param name="Description">One sentence naming the source (file, cache entry, model), for the notebook.</param>
public sealed record LoadedEmbeddings(EmbeddingMatrix Embeddings, long[] ItemIds, int[]? Labels, EmbeddingSourceKind Kind, string Description);

/// <summary>
/// Picks the embeddings a notebook studies, in this order: a .npy file when one is named; else the cache entry of
/// CIFAR-100 test embeddings made with the same model that holds at least the rows needed (the smallest such entry,
/// L2-normalised preferred; notebook 1 writes these); else the first rows of the CIFAR-100 test split embedded now
/// with the model (ResNet18 ships in the package) and cached, so the next run reads them.
/// </summary>
public static class EmbeddingSources
{
    /// <summary>
    /// The cache entry of CIFAR-100 test embeddings from <paramref name="modelName"/> (a preset name such as
    /// "resnet18-224") with at least <paramref name="minCount"/> rows: the smallest such entry, an L2-normalised one
    /// first among equals; null when none is complete.
    /// </summary>
    /// <param name="dataFolder">The data folder (its <c>embeddings/</c> subfolder holds the entries).</param>
    /// <param name="modelName">The preset name, without the "-l2" suffix.</param>
    /// <param name="minCount">Rows needed, &gt;= 1.</param>
    public static (EmbeddingCacheKey Key, string Folder)? FindCifarEntry(string dataFolder, string modelName, int minCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        if (minCount < 1)
            throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "minCount must be >= 1.");
        string root = Path.Combine(Path.GetFullPath(dataFolder), EmbeddingCache.Subfolder);
        if (!Directory.Exists(root)) return null;
        string model = modelName.ToLowerInvariant();
        var candidates = new List<(EmbeddingCacheKey Key, string Folder, bool L2)>();
        foreach (string folder in Directory.EnumerateDirectories(root))
        {
            string name = Path.GetFileName(folder);
            const string prefix = "cifar100-test-n";
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            int dash = name.IndexOf('-', prefix.Length);
            if (dash < 0 || !int.TryParse(name.AsSpan(prefix.Length, dash - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
                continue;
            string entryModel = name[(dash + 1)..];
            bool l2 = entryModel == model + "-l2";
            if (!l2 && entryModel != model) continue;
            if (count < minCount || !File.Exists(Path.Combine(folder, "manifest.json"))) continue;
            candidates.Add((new EmbeddingCacheKey("cifar100", "test", count, entryModel), folder, l2));
        }
        if (candidates.Count == 0) return null;
        var best = candidates.OrderBy(c => c.Key.SampleCount).ThenByDescending(c => c.L2).First();
        return (best.Key, best.Folder);
    }

    /// <summary>
    /// The nearest <c>shared/cifar-100</c> folder holding <c>test.bin</c> in <paramref name="startFolder"/> or a
    /// folder above it (the repo's parent holds <c>shared/</c>; a git worktree sits deeper); null when there is none.
    /// </summary>
    public static string? FindSharedCifar100(string startFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(startFolder);
        for (var dir = new DirectoryInfo(Path.GetFullPath(startFolder)); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "shared", "cifar-100");
            if (File.Exists(Path.Combine(path, "test.bin")))
                return path;
        }
        return null;
    }

    /// <summary>
    /// Loads <paramref name="count"/> embeddings: from <paramref name="npyPath"/> when it is not empty, else from a
    /// cache entry (<see cref="FindCifarEntry"/>), else by embedding the first <paramref name="count"/> CIFAR-100
    /// test images found in <paramref name="cifarFolder"/> with <paramref name="modelName"/> (rows L2-normalised,
    /// then cached in <paramref name="dataFolder"/>).
    /// </summary>
    /// <param name="count">Rows needed, &gt;= 2.</param>
    /// <param name="npyPath">A float32 (n, d) .npy, or empty.</param>
    /// <param name="dataFolder">The data folder holding the embedding cache.</param>
    /// <param name="cifarFolder">A folder with the CIFAR-100 test split (binary or Python version); empty: the nearest
    /// shared/cifar-100 above the working folder (<see cref="FindSharedCifar100"/>).</param>
    /// <param name="modelName">A <see cref="ModelPreset.ByName"/> name, e.g. "resnet18" or "resnet18-64".</param>
    /// <param name="progress">Embedding progress (fraction), when images are embedded.</param>
    /// <param name="cancellationToken">Stops the embedding between batches.</param>
    public static LoadedEmbeddings Load(int count, string npyPath, string dataFolder, string cifarFolder, string modelName,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (count < 2)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 2 (items to initialise plus items to stream).");
        ArgumentNullException.ThrowIfNull(npyPath);
        if (!string.IsNullOrWhiteSpace(npyPath))
        {
            if (!File.Exists(npyPath))
                throw new FileNotFoundException($"npy='{npyPath}' does not exist (give a float32 (n, d) .npy, or leave it empty to use CIFAR-100).", npyPath);
            var all = Npy.ReadMatrix(npyPath);
            progress?.Report(1);
            if (all.Count < count)
                throw new ArgumentOutOfRangeException(nameof(count), count, $"count={count} rows are needed but {npyPath} has {all.Count}.");
            return new LoadedEmbeddings(Head(all, count), Enumerable.Range(0, count).Select(i => (long)i).ToArray(), null,
                EmbeddingSourceKind.Npy, $"the first {count} rows of {npyPath} ({all.Count} x {all.Dimension}).");
        }
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        var preset = ModelPreset.ByName(modelName);
        if (FindCifarEntry(dataFolder, preset.Name, count) is { } entry)
        {
            var set = EmbeddingCache.TryLoad(dataFolder, entry.Key);
            if (set is not null)
            {
                progress?.Report(1);
                return new LoadedEmbeddings(Head(set.Embeddings, count), set.ItemIds.Take(count).Select(i => (long)i).ToArray(),
                    set.Labels.Take(count).ToArray(), EmbeddingSourceKind.Cache,
                    $"the first {count} of {entry.Key.SampleCount} cached CIFAR-100 test embeddings ({entry.Key.Model}, {set.Embeddings.Dimension}-d) in {Shown(entry.Folder)}.");
            }
        }
        ArgumentNullException.ThrowIfNull(cifarFolder);
        if (string.IsNullOrWhiteSpace(cifarFolder))
            cifarFolder = FindSharedCifar100(Directory.GetCurrentDirectory())
                ?? throw new DirectoryNotFoundException($"cifar is empty and no shared/cifar-100/test.bin lies above {Directory.GetCurrentDirectory()}: name the CIFAR-100 folder.");
        var data = Cifar100.Load(cifarFolder, Cifar100Split.Test).Take(count);
        if (data.Count < count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count={count} images are needed but the CIFAR-100 test split has {data.Count}.");
        using var embedder = new OnnxImageEmbedder(preset, new EmbedderOptions { L2Normalize = true });
        var fraction = progress is null ? null : new FractionOf(progress);
        var cached = EmbeddingCache.GetOrCreate(dataFolder, data, embedder, fraction, cancellationToken);
        string how = cached.FromCache ? "read from the cache" : "embedded now and cached";
        return new LoadedEmbeddings(cached.Set.Embeddings, cached.Set.ItemIds.Select(i => (long)i).ToArray(), cached.Set.Labels,
            cached.FromCache ? EmbeddingSourceKind.Cache : EmbeddingSourceKind.Embedded,
            $"the first {count} CIFAR-100 test images, {how} with {preset.Name} ({embedder.Dimension}-d, L2-normalised) in {Shown(cached.Folder)}.");
    }

    // Synchronous, unlike Progress<T>, so the bar is complete when the call returns.
    sealed class FractionOf(IProgress<double> inner) : IProgress<EmbeddingProgress>
    {
        public void Report(EmbeddingProgress value) => inner.Report(value.Fraction);
    }

    // Relative to the working folder (a notebook's), so outputs do not carry this machine's absolute paths.
    static string Shown(string folder) => Path.GetRelativePath(Directory.GetCurrentDirectory(), folder);

    static EmbeddingMatrix Head(EmbeddingMatrix x, int count) =>
        count == x.Count ? x : x.SelectRows(Enumerable.Range(0, count).ToArray());
}
