using System.Numerics.Tensors;
using LabelAssignment.Data;
using LabelAssignment.Numerics;
using LabelAssignment.Embedding;
using LabelAssignment.IO;

namespace LabelAssignment.Studies;

/// <summary>Where a step's embeddings came from.</summary>
public enum EmbeddingOrigin
{
    /// <summary>A .npy file named by the caller; item ids are row numbers.</summary>
    NpyFile,

    /// <summary>An entry of the embedding cache (written by the prepare notebook or an earlier run).</summary>
    Cache,

    /// <summary>CIFAR-100 test images embedded just now (and saved to the cache).</summary>
    Computed,
}

/// <summary>Which rows of the source a <see cref="EmbeddingRequest"/> keeps when the source has more than it asks for.</summary>
public enum RowSelection
{
    /// <summary>The first <see cref="EmbeddingRequest.Count"/> rows (CIFAR-100: the official order).</summary>
    First,

    /// <summary>A random <see cref="EmbeddingRequest.Count"/> of the rows, chosen by <see cref="EmbeddingRequest.Seed"/>, kept in source order.</summary>
    Random,
}

/// <summary>What embeddings a step wants and where to look for them (see <see cref="EmbeddingSource.Load"/>).</summary>
public sealed record EmbeddingRequest
{
    /// <summary>A float32 (n, d) .npy file to use instead of CIFAR-100; empty for the cache or CIFAR-100.</summary>
    public string Npy { get; init; } = "";

    /// <summary>Folder holding the embedding cache (<c>embeddings/</c>) and CIFAR-100 downloads.</summary>
    public string DataFolder { get; init; } = "data";

    /// <summary>A folder holding CIFAR-100 (binary or Python version); empty: found as <see cref="Cifar100Source.FindLocal(Cifar100Split, Cifar100Options?, string?)"/> does.</summary>
    public string Cifar { get; init; } = "";

    /// <summary>A <see cref="ModelPreset.ByName"/> name, e.g. "resnet18" or "resnet18-64": picks the cache entry, or embeds.</summary>
    public string Model { get; init; } = "resnet18";

    /// <summary>Rows wanted; 0 for every row of the source (and, when embedding, the whole test split).</summary>
    public int Count { get; init; }

    /// <summary>Which rows to keep when the source has more than <see cref="Count"/>.</summary>
    public RowSelection Rows { get; init; } = RowSelection.First;

    /// <summary>Seed of <see cref="RowSelection.Random"/>.</summary>
    public int Seed { get; init; }

    /// <summary>Scale each model vector to unit length (cache entries of either kind are normalised after loading; a .npy is used as given).</summary>
    public bool L2Normalize { get; init; }

    /// <summary>Folder from which <c>shared/cifar-100</c> is looked for upwards; null: the working folder.</summary>
    public string? SearchFrom { get; init; }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the message and ParamName name it.</exception>
    public void Validate()
    {
        if (Npy is null)
            throw new ArgumentNullException(nameof(Npy), "Npy must not be null (empty: the cache or CIFAR-100).");
        if (Cifar is null)
            throw new ArgumentNullException(nameof(Cifar), "Cifar must not be null (empty: CIFAR-100 is looked for).");
        if (string.IsNullOrWhiteSpace(DataFolder))
            throw new ArgumentException($"DataFolder='{DataFolder}' must name a folder.", nameof(DataFolder));
        if (Count < 0)
            throw new ArgumentOutOfRangeException(nameof(Count), Count, "Count must be >= 0 (0: every row).");
        if (!Enum.IsDefined(Rows))
            throw new ArgumentOutOfRangeException(nameof(Rows), Rows, $"Rows must be First or Random; got {(int)Rows}.");
        if (SearchFrom is not null && string.IsNullOrWhiteSpace(SearchFrom))
            throw new ArgumentException("SearchFrom must be null (the working folder) or name a folder.", nameof(SearchFrom));
        try { ModelPreset.ByName(Model ?? throw new ArgumentNullException(nameof(Model), "Model must name a model preset, e.g. resnet18.")); }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            throw new ArgumentException($"Model='{Model}': {e.Message}", nameof(Model), e);
        }
    }
}

/// <summary>
/// Embeddings with item ids, labels when known, and a sentence saying where they came from (a notebook shows it).
/// </summary>
/// <param name="Embeddings">n x d rows.</param>
/// <param name="ItemIds">The identity of each row across days (CIFAR-100: position in the official test file; .npy: row number).</param>
/// <param name="Labels">CIFAR-100 fine labels of the rows, or null for a .npy file.</param>
/// <param name="Origin">Which source was used.</param>
/// <param name="Description">Markdown sentence naming the source, for the reader.</param>
/// <param name="CoarseLabels">CIFAR-100 coarse labels of the rows when the source has them, else null.</param>
public sealed record LoadedEmbeddings(EmbeddingMatrix Embeddings, long[] ItemIds, int[]? Labels, EmbeddingOrigin Origin, string Description,
    int[]? CoarseLabels = null);

/// <summary>
/// Finds the embeddings a step works on, in order of preference: the .npy file the request names; else the
/// CIFAR-100 test-split cache entry of the model holding at least the rows asked for (<see cref="EmbeddingCatalog.Find"/>;
/// notebook 1 writes these); else the first images of the CIFAR-100 test split (found by <see cref="Cifar100Source"/>)
/// embedded now with the model and saved to the cache, so the next run reads them. Then it keeps the rows asked for.
/// </summary>
public static class EmbeddingSource
{
    /// <summary>Loads (or computes) the embeddings of <paramref name="request"/>.</summary>
    /// <param name="request">What to load; validated here.</param>
    /// <param name="progress">Images embedded (stage "embedding"); reported once, complete, for a file or a cache entry.</param>
    /// <param name="cancellationToken">Stops embedding between batches.</param>
    /// <exception cref="ArgumentException">A request field is bad, or the source has fewer rows than <see cref="EmbeddingRequest.Count"/>.</exception>
    /// <exception cref="FileNotFoundException">The named .npy does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">No cache entry is large enough and no CIFAR-100 folder was found.</exception>
    public static LoadedEmbeddings Load(EmbeddingRequest request, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        Reporting.Provenance.Listen();   // the report records the cache entry read or written below
        int count = request.Count;
        LoadedEmbeddings pool;
        if (!string.IsNullOrWhiteSpace(request.Npy))
        {
            if (!File.Exists(request.Npy))
                throw new FileNotFoundException($"Npy='{request.Npy}' does not exist (give a float32 (n, d) .npy, or leave it empty to use CIFAR-100).", request.Npy);
            var x = Npy.ReadMatrix(request.Npy);
            Reporting.Provenance.RecordNpy(request.Npy, x.Count, x.Dimension);
            progress?.Report(new WorkProgress(OnnxImageEmbedder.ProgressStage, x.Count, x.Count, "from the .npy file"));
            pool = new(x, Enumerable.Range(0, x.Count).Select(i => (long)i).ToArray(), null, EmbeddingOrigin.NpyFile,
                $"the .npy file `{request.Npy}` ({x.Count} x {x.Dimension}; item id = row number)");
        }
        else
        {
            var preset = ModelPreset.ByName(request.Model);
            if (EmbeddingCatalog.Find(request.DataFolder, "cifar100", "test", preset.Name, count) is { } entry
                && EmbeddingCache.TryLoad(request.DataFolder, entry.Key) is { } cached)
            {
                progress?.Report(new WorkProgress(OnnxImageEmbedder.ProgressStage, cached.Embeddings.Count, cached.Embeddings.Count, "from the cache"));
                bool normalise = request.L2Normalize && !entry.Key.Model.EndsWith("-l2", StringComparison.OrdinalIgnoreCase);
                pool = new(normalise ? NormaliseRows(cached.Embeddings) : cached.Embeddings, cached.ItemIds, cached.Labels, EmbeddingOrigin.Cache,
                    $"the embedding cache entry `{entry.Key.FolderName}` in `{Shown(Path.GetDirectoryName(entry.Folder)!)}` " +
                    $"(CIFAR-100 test split, {entry.Key.SampleCount} images, {entry.Key.Model}, {entry.Dimension}-d{(normalise ? ", L2-normalised here" : "")}; written by notebook 1 or an earlier run)",
                    cached.CoarseLabels);
            }
            else
            {
                var options = new Cifar100Options { DataFolder = request.DataFolder, LocalFolder = string.IsNullOrWhiteSpace(request.Cifar) ? null : request.Cifar };
                var location = Cifar100Source.FindLocal(Cifar100Split.Test, options, request.SearchFrom)
                    ?? throw new DirectoryNotFoundException(
                        $"no embeddings: name a .npy file, run notebook 1 (cache under '{request.DataFolder}'), name a CIFAR-100 folder, " +
                        $"or put the CIFAR-100 test split in {Cifar100Source.SharedRelativePath} above '{request.SearchFrom ?? Directory.GetCurrentDirectory()}'.");
                var images = Cifar100.Load(location.Folder, Cifar100Split.Test);
                if (count > images.Count)
                    throw new ArgumentOutOfRangeException(nameof(EmbeddingRequest.Count), count, $"Count={count} images are needed but the CIFAR-100 test split has {images.Count}.");
                images = images.Take(count > 0 ? count : images.Count);
                using var embedder = new OnnxImageEmbedder(preset, new EmbedderOptions { L2Normalize = request.L2Normalize });
                var made = EmbeddingCache.GetOrCreate(request.DataFolder, images, embedder, progress, cancellationToken);
                pool = new(made.Set.Embeddings, made.Set.ItemIds, made.Set.Labels, made.FromCache ? EmbeddingOrigin.Cache : EmbeddingOrigin.Computed,
                    $"the first {images.Count} images of the CIFAR-100 test split ({Shown(location.Folder)}) embedded with {preset.Name} " +
                    $"({embedder.Dimension}-d{(request.L2Normalize ? ", L2-normalised" : "")}; {(made.FromCache ? "read back from" : "saved to")} the cache as " +
                    $"`{Path.GetFileName(made.Folder)}`), as no large enough cache entry was found", made.Set.CoarseLabels);
            }
        }
        return Select(pool, request);
    }

    static LoadedEmbeddings Select(LoadedEmbeddings pool, EmbeddingRequest request)
    {
        int n = pool.Embeddings.Count, count = request.Count;
        if (count > n)
            throw new ArgumentOutOfRangeException(nameof(EmbeddingRequest.Count), count, $"Count={count} rows are needed but {pool.Description} has {n}.");
        if (count == 0 || count == n)
            return pool;
        int[] rows;
        string which;
        if (request.Rows == RowSelection.Random)
        {
            rows = ItemChurn.Sample(n, count, request.Seed);
            Array.Sort(rows);   // source order, so item ids stay ascending
            which = $", a random {count} of its {n} rows (seed {request.Seed})";
        }
        else
        {
            rows = Enumerable.Range(0, count).ToArray();
            which = $", the first {count} of its {n} rows";
        }
        return pool with
        {
            Embeddings = pool.Embeddings.SelectRows(rows),
            ItemIds = Array.ConvertAll(rows, r => pool.ItemIds[r]),
            Labels = pool.Labels is null ? null : Array.ConvertAll(rows, r => pool.Labels[r]),
            CoarseLabels = pool.CoarseLabels is null ? null : Array.ConvertAll(rows, r => pool.CoarseLabels[r]),
            Description = pool.Description + which,
        };
    }

    // As OnnxImageEmbedder does with L2Normalize, so a normalised cache entry and a normalised raw entry agree.
    static EmbeddingMatrix NormaliseRows(EmbeddingMatrix x)
    {
        var data = x.Data.ToArray();
        for (int i = 0; i < x.Count; i++)
        {
            var row = data.AsSpan(i * x.Dimension, x.Dimension);
            float norm = TensorPrimitives.Norm(row);
            if (norm > 0) TensorPrimitives.Divide(row, norm, row);
        }
        return new EmbeddingMatrix(data, x.Count, x.Dimension);
    }

    // Relative to the working folder (a notebook's), so outputs do not carry this machine's absolute paths.
    static string Shown(string folder) => Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.GetFullPath(folder));
}
