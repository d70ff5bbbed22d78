namespace LabelAssignment.Data;

/// <summary>Finds data kept beside a checkout (e.g. <c>../shared/cifar-100</c> from the repo root).</summary>
public static class SharedFolders
{
    /// <summary>
    /// The nearest <c>ANCESTOR/<paramref name="relativePath"/></c> holding <paramref name="requiredFile"/>, walking up
    /// from <paramref name="startFolder"/> (itself included), or null. A git worktree sits deeper than the main
    /// checkout, so a fixed <c>../</c> count would not do.
    /// </summary>
    /// <param name="startFolder">Where to start, e.g. the notebook's working folder.</param>
    /// <param name="relativePath">The folder to look for under each ancestor, e.g. <c>shared/cifar-100</c>.</param>
    /// <param name="requiredFile">A file the folder must hold, e.g. <c>test.bin</c>.</param>
    public static string? FindAbove(string startFolder, string relativePath, string requiredFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(startFolder);
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        ArgumentException.ThrowIfNullOrEmpty(requiredFile);
        for (var dir = new DirectoryInfo(Path.GetFullPath(startFolder)); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(Path.Combine(candidate, requiredFile)))
                return candidate;
        }
        return null;
    }
}
