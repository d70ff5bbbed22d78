using System.Text.Json;
using System.Text.Json.Nodes;

namespace LabelAssignment.Embedding;

/// <summary>A complete entry of the embedding cache, as its manifest describes it.</summary>
/// <param name="Folder">The entry's folder.</param>
/// <param name="Key">The key to load it with <see cref="EmbeddingCache.TryLoad"/>.</param>
/// <param name="Dimension">Length of each vector.</param>
/// <param name="CreatedUtc">When it was written (the manifest's created_utc), if recorded.</param>
public sealed record EmbeddingCacheEntry(string Folder, EmbeddingCacheKey Key, int Dimension, DateTime? CreatedUtc);

/// <summary>
/// What the embedding cache under a data folder holds (<c>DATA/embeddings/*/manifest.json</c>), so a later step (e.g.
/// the remap notebook) can find the embeddings an earlier one (the prepare notebook) wrote without knowing its
/// sample count.
/// </summary>
public static class EmbeddingCatalog
{
    /// <summary>Every entry with a readable manifest, by folder name; an absent cache folder gives none.</summary>
    public static IReadOnlyList<EmbeddingCacheEntry> List(string dataFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataFolder);
        string root = Path.Combine(Path.GetFullPath(dataFolder), EmbeddingCache.Subfolder);
        var entries = new List<EmbeddingCacheEntry>();
        if (!Directory.Exists(root)) return entries;
        foreach (string folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string manifestPath = Path.Combine(folder, "manifest.json");
            if (!File.Exists(manifestPath)) continue; // incomplete: being written, or abandoned
            try
            {
                if (JsonNode.Parse(File.ReadAllText(manifestPath)) is not JsonObject m
                    || (string?)m["dataset"] is not { } dataset || (string?)m["split"] is not { } split
                    || (int?)m["count"] is not { } count || (string?)m["model"] is not { } model || (int?)m["dimension"] is not { } dimension)
                    continue;
                var key = new EmbeddingCacheKey(dataset, split, count, model).Validate();
                if (key.FolderName != Path.GetFileName(folder)) continue;
                DateTime? created = DateTime.TryParse((string?)m["created_utc"], null, System.Globalization.DateTimeStyles.RoundtripKind, out var t) ? t : null;
                entries.Add(new EmbeddingCacheEntry(folder, key, dimension, created));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or IOException)
            {
                // A damaged manifest is not an entry (EmbeddingCache recomputes it).
            }
        }
        return entries;
    }

    /// <summary>
    /// The entry of <paramref name="dataset"/>/<paramref name="split"/> made with <paramref name="model"/> (a preset
    /// name such as "resnet18-224"; its L2-normalised "-l2" entry counts too) holding at least
    /// <paramref name="minCount"/> items: the one holding the most (ties: the most recent), or null. The largest, so
    /// a random subset draws from the biggest pool and "every item" means every cached item; the first rows of any
    /// such entry are the same images (entries hold the first items of the split in the official order).
    /// </summary>
    /// <param name="dataFolder">The data folder (its <c>embeddings/</c> subfolder holds the entries).</param>
    /// <param name="dataset">Dataset name, e.g. "cifar100".</param>
    /// <param name="split">Split name, e.g. "test".</param>
    /// <param name="model">Model name of the entry, without the "-l2" suffix (case-insensitive).</param>
    /// <param name="minCount">Items needed; 0 takes any entry.</param>
    public static EmbeddingCacheEntry? Find(string dataFolder, string dataset, string split, string model, int minCount = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        ArgumentException.ThrowIfNullOrEmpty(split);
        ArgumentException.ThrowIfNullOrEmpty(model);
        if (minCount < 0)
            throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "minCount must be >= 0 (0: any entry).");
        return List(dataFolder)
            .Where(e => string.Equals(e.Key.Dataset, dataset, StringComparison.OrdinalIgnoreCase)
                        && string.Equals(e.Key.Split, split, StringComparison.OrdinalIgnoreCase)
                        && (string.Equals(e.Key.Model, model, StringComparison.OrdinalIgnoreCase)
                            || string.Equals(e.Key.Model, model + "-l2", StringComparison.OrdinalIgnoreCase))
                        && e.Key.SampleCount >= minCount)
            .OrderByDescending(e => e.Key.SampleCount).ThenByDescending(e => e.CreatedUtc ?? DateTime.MinValue)
            .FirstOrDefault();
    }
}
