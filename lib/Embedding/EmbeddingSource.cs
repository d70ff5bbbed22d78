using LabelAssignment.Data;
using LabelAssignment.Numerics;

namespace LabelAssignment.Embedding;

/// <summary>Where a step's embeddings came from.</summary>
public enum EmbeddingOrigin
{
    /// <summary>A .npy file named by the caller; item ids are row numbers.</summary>
    NpyFile,

    /// <summary>An entry of the embedding cache (written by the prepare notebook or an earlier run).</summary>
    Cache,

    /// <summary>CIFAR-100 test images embedded just now with ResNet18 (and saved to the cache).</summary>
    Computed,
}

/// <summary>
/// Embeddings with item ids and a sentence saying where they came from (a notebook shows it).
/// </summary>
/// <param name="Embeddings">n x d rows.</param>
/// <param name="ItemIds">The identity of each row across days (CIFAR-100: position in the official test file).</param>
/// <param name="Origin">Which source was used.</param>
/// <param name="Description">Markdown sentence naming the source, for the reader.</param>
public sealed record LoadedEmbeddings(EmbeddingMatrix Embeddings, int[] ItemIds, EmbeddingOrigin Origin, string Description);

/// <summary>
/// Finds the embeddings a later step works on, in order of preference: a .npy file the caller names; the largest
/// CIFAR-100 test-split ResNet18 entry of the embedding cache holding at least the items asked for; else the first
/// images of the CIFAR-100 test split found beside the checkout (<c>shared/cifar-100</c> above the start folder),
/// embedded now with the packaged ResNet18 and saved to the cache so the next run reads them.
/// </summary>
public static class EmbeddingSource
{
    /// <summary>Loads (or computes) the embeddings, then keeps a seeded random <paramref name="samples"/> of the rows if there are more.</summary>
    /// <param name="npyPath">A .npy file of float32 rows, or null/empty for the cache or CIFAR-100.</param>
    /// <param name="dataFolder">Folder holding the embedding cache (<c>embeddings/</c>).</param>
    /// <param name="samples">Rows wanted; 0 for every row of the source (and, when computing, all 10,000 test images).</param>
    /// <param name="seed">Seed of the row subset.</param>
    /// <param name="searchFrom">Folder from which <c>shared/cifar-100</c> is looked for upwards (e.g. the working folder).</param>
    /// <param name="progress">Progress of computing embeddings (reported only when they are computed or read from the cache).</param>
    /// <param name="cancellationToken">Cancels computing embeddings.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samples"/> is negative.</exception>
    /// <exception cref="DirectoryNotFoundException">No file, no cache entry and no CIFAR-100 folder.</exception>
    public static LoadedEmbeddings Load(string? npyPath, string dataFolder, int samples, int seed, string searchFrom,
        IProgress<EmbeddingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        ArgumentException.ThrowIfNullOrEmpty(searchFrom);
        if (samples < 0)
            throw new ArgumentOutOfRangeException(nameof(samples), samples, "samples must be >= 0 (0: every row).");
        LoadedEmbeddings loaded;
        if (!string.IsNullOrEmpty(npyPath))
        {
            var x = Npy.ReadMatrix(npyPath);
            loaded = new(x, Enumerable.Range(0, x.Count).ToArray(), EmbeddingOrigin.NpyFile,
                $"the .npy file `{npyPath}` (item id = row number)");
        }
        else if (EmbeddingCatalog.Largest(dataFolder, "cifar100", "test", "resnet18") is { } entry
                 && (samples == 0 || entry.Key.SampleCount >= samples)
                 && EmbeddingCache.TryLoad(dataFolder, entry.Key) is { } cached)
        {
            progress?.Report(new EmbeddingProgress(cached.Embeddings.Count, cached.Embeddings.Count));
            loaded = new(cached.Embeddings, cached.ItemIds, EmbeddingOrigin.Cache,
                $"the embedding cache entry `{entry.Key.FolderName}` under `{dataFolder}` (CIFAR-100 test split, ResNet18; written by notebook 1 or an earlier run)");
        }
        else
        {
            string cifar = SharedFolders.FindAbove(searchFrom, Path.Combine("shared", "cifar-100"), "test.bin")
                ?? throw new DirectoryNotFoundException(
                    $"no embeddings: name a .npy file, run notebook 1 (cache under '{dataFolder}'), or put the CIFAR-100 test split in shared/cifar-100 above '{searchFrom}'.");
            var images = Cifar100.Load(cifar, Cifar100Split.Test);
            images = images.Take(samples > 0 ? Math.Min(samples, images.Count) : images.Count);
            using var embedder = new OnnxImageEmbedder(ModelPreset.ResNet18());
            var made = EmbeddingCache.GetOrCreate(dataFolder, images, embedder, progress, cancellationToken);
            loaded = new(made.Set.Embeddings, made.Set.ItemIds, EmbeddingOrigin.Computed,
                $"the first {images.Count} images of the CIFAR-100 test split (`{cifar}`) embedded with ResNet18 " +
                $"({(made.FromCache ? "read back from" : "saved to")} the cache as `{Path.GetFileName(made.Folder)}`), as no large enough cache entry was found");
        }
        if (samples > 0 && loaded.Embeddings.Count > samples)
        {
            var rows = Remapping.ItemChurn.Sample(loaded.Embeddings.Count, samples, seed);
            Array.Sort(rows);
            loaded = loaded with
            {
                Embeddings = loaded.Embeddings.SelectRows(rows),
                ItemIds = rows.Select(r => loaded.ItemIds[r]).ToArray(),
                Description = loaded.Description + $", a random {samples} of its {loaded.Embeddings.Count} rows",
            };
        }
        return loaded;
    }
}
