namespace LabelAssignment.Data;

/// <summary>Where a CIFAR-100 folder was found.</summary>
public enum Cifar100SourceKind
{
    /// <summary>The folder named by <see cref="Cifar100Options.LocalFolder"/> (e.g. a notebook parameter).</summary>
    LocalFolder,

    /// <summary>The folder named by the environment variable <see cref="Cifar100.FolderEnvironmentVariable"/>.</summary>
    EnvironmentVariable,

    /// <summary>An earlier download, already extracted under <see cref="Cifar100Options.DataFolder"/>.</summary>
    DataFolder,

    /// <summary>A <c>shared/cifar-100</c> folder beside the checkout (found by walking up from the start folder).</summary>
    SharedFolder,

    /// <summary>The official archive, downloaded and extracted into <see cref="Cifar100Options.DataFolder"/> now.</summary>
    Downloaded,
}

/// <summary>A folder holding the requested CIFAR-100 split, and how it was found.</summary>
/// <param name="Folder">Full path of the folder (give it to <see cref="Cifar100.Load"/>).</param>
/// <param name="Kind">How it was found.</param>
public sealed record Cifar100Location(string Folder, Cifar100SourceKind Kind)
{
    /// <summary>One phrase for a reader, e.g. "the shared folder /x/shared/cifar-100 beside the checkout".</summary>
    public string Description => Kind switch
    {
        Cifar100SourceKind.LocalFolder => $"the local folder {Folder} (given by name)",
        Cifar100SourceKind.EnvironmentVariable => $"the local folder {Folder} (from {Cifar100.FolderEnvironmentVariable})",
        Cifar100SourceKind.DataFolder => $"an earlier download in {Folder}",
        Cifar100SourceKind.SharedFolder => $"the shared folder {Folder} beside the checkout",
        _ => $"the official archive, downloaded and extracted into {Folder}",
    };
}

/// <summary>
/// Finds CIFAR-100 the way a notebook wants it found: a folder named by the caller or by the environment, else an
/// earlier download, else a <c>shared/cifar-100</c> beside the checkout, else the official download; when all of
/// these fail, the exception says what to do.
/// </summary>
public static class Cifar100Source
{
    /// <summary>The folder, relative to an ancestor of the start folder, that may hold a shared copy.</summary>
    public static readonly string SharedRelativePath = Path.Combine("shared", "cifar-100");

    /// <summary>
    /// The nearest <c>ANCESTOR/shared/cifar-100</c> holding <paramref name="split"/> (<c>test.bin</c> or the Python
    /// version's <c>test</c> + <c>meta</c>), walking up from <paramref name="startFolder"/> (itself included), or null.
    /// The repo's parent holds <c>shared/</c>; a git worktree sits deeper than the main checkout, so a fixed
    /// number of <c>../</c> would not do.
    /// </summary>
    public static string? FindShared(string startFolder, Cifar100Split split = Cifar100Split.Test)
    {
        ArgumentException.ThrowIfNullOrEmpty(startFolder);
        for (var dir = new DirectoryInfo(Path.GetFullPath(startFolder)); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, SharedRelativePath);
            if (HoldsSplit(candidate, split))
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// True when <paramref name="folder"/> (or its <c>cifar-100-binary/</c> or <c>cifar-100-python/</c>) holds
    /// <paramref name="split"/> in either format, i.e. <see cref="Cifar100.Load"/> would find it.
    /// </summary>
    public static bool HoldsSplit(string folder, Cifar100Split split)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        string bin = split == Cifar100Split.Train ? "train.bin" : "test.bin";
        string pickle = split == Cifar100Split.Train ? "train" : "test";
        foreach (string c in new[] { folder, Path.Combine(folder, Cifar100.BinaryFolderName), Path.Combine(folder, Cifar100.PythonFolderName) })
            if (File.Exists(Path.Combine(c, bin)) || (File.Exists(Path.Combine(c, pickle)) && File.Exists(Path.Combine(c, "meta"))))
                return true;
        return false;
    }

    /// <summary>
    /// A local folder holding <paramref name="split"/>, in this order: <see cref="Cifar100Options.LocalFolder"/>; the
    /// environment variable <see cref="Cifar100.FolderEnvironmentVariable"/>; an earlier download under
    /// <see cref="Cifar100Options.DataFolder"/>; the nearest <c>shared/cifar-100</c> at or above
    /// <paramref name="startFolder"/> (default: the working folder). Null when there is none (then
    /// <see cref="LocateAsync(Cifar100Split, Cifar100Options?, string?, IProgress{WorkProgress}?, CancellationToken)"/> downloads).
    /// A folder named explicitly (option or variable) must hold the split: it is never silently replaced by another.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The named folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The named folder does not hold the split.</exception>
    public static Cifar100Location? FindLocal(Cifar100Split split, Cifar100Options? options = null, string? startFolder = null) =>
        FindLocal(split, options, startFolder, Environment.GetEnvironmentVariable(Cifar100.FolderEnvironmentVariable));

    /// <summary>The same with the environment variable's value passed in (tests; the process environment is shared).</summary>
    internal static Cifar100Location? FindLocal(Cifar100Split split, Cifar100Options? options, string? startFolder, string? environmentFolder)
    {
        options ??= new Cifar100Options();
        options.Validate();
        if (options.LocalFolder is not null)
            return new Cifar100Location(Named(options.LocalFolder, nameof(Cifar100Options.LocalFolder), split), Cifar100SourceKind.LocalFolder);
        if (!string.IsNullOrWhiteSpace(environmentFolder))
            return new Cifar100Location(Named(environmentFolder, Cifar100.FolderEnvironmentVariable, split), Cifar100SourceKind.EnvironmentVariable);
        string dataFolder = Path.GetFullPath(options.DataFolder);
        foreach (string downloaded in new[] { Path.Combine(dataFolder, Cifar100.BinaryFolderName), Path.Combine(dataFolder, Cifar100.PythonFolderName) })
            if (HoldsSplit(downloaded, split))
                return new Cifar100Location(downloaded, Cifar100SourceKind.DataFolder);
        return FindShared(startFolder ?? Directory.GetCurrentDirectory(), split) is { } shared
            ? new Cifar100Location(shared, Cifar100SourceKind.SharedFolder)
            : null;
    }

    /// <summary>
    /// The local folder of <see cref="FindLocal(Cifar100Split, Cifar100Options?, string?)"/>, or else the official
    /// archive downloaded (resumable, MD5-verified) and extracted into <see cref="Cifar100Options.DataFolder"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The named folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The named folder does not hold the split.</exception>
    /// <exception cref="InvalidOperationException">Nothing local was found and the download failed; the message says what to do.</exception>
    public static Task<Cifar100Location> LocateAsync(Cifar100Split split, Cifar100Options? options = null, string? startFolder = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default) =>
        LocateAsync(split, options, startFolder, Environment.GetEnvironmentVariable(Cifar100.FolderEnvironmentVariable), progress, cancellationToken);

    /// <summary>The same with the environment variable's value passed in (tests; the process environment is shared).</summary>
    internal static async Task<Cifar100Location> LocateAsync(Cifar100Split split, Cifar100Options? options, string? startFolder,
        string? environmentFolder, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        options ??= new Cifar100Options();
        options.Validate();
        if (FindLocal(split, options, startFolder, environmentFolder) is { } local)
            return local;
        string dataFolder = Path.GetFullPath(options.DataFolder);
        try
        {
            string folder = await Cifar100.DownloadAsync(options, progress, cancellationToken).ConfigureAwait(false);
            if (!HoldsSplit(folder, split))
                throw new FileNotFoundException($"the downloaded archive holds no {split} split in {folder}.");
            return new Cifar100Location(folder, Cifar100SourceKind.Downloaded);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException(
                $"CIFAR-100 ({split} split) was not found locally and the download of {options.ArchiveUri} failed: {e.Message} " +
                $"Do one of these: (1) name a folder holding CIFAR-100 (binary version: {(split == Cifar100Split.Train ? "train.bin" : "test.bin")} with " +
                $"fine_label_names.txt and coarse_label_names.txt; or the Python version's cifar-100-python/) as the local folder " +
                $"(notebook parameter 'cifar', or the environment variable {Cifar100.FolderEnvironmentVariable}); " +
                $"(2) put {Path.GetFileName(options.ArchiveUri.AbsolutePath)} (MD5 {options.ArchiveMd5}) into {dataFolder} and run again; " +
                $"(3) put the folder at {SharedRelativePath} beside the repository; (4) retry when {options.ArchiveUri.Host} is reachable.", e);
        }
    }

    private static string Named(string folder, string from, Cifar100Split split)
    {
        string full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"CIFAR-100 folder '{folder}' (from {from}) does not exist.");
        if (!HoldsSplit(full, split))
            throw new FileNotFoundException(
                $"CIFAR-100 folder '{folder}' (from {from}) holds no {split} split: expected {(split == Cifar100Split.Train ? "train.bin" : "test.bin")} " +
                $"(binary version) or {(split == Cifar100Split.Train ? "train" : "test")} + meta (Python version), directly or under {Cifar100.BinaryFolderName}/ or {Cifar100.PythonFolderName}/.");
        return full;
    }
}
