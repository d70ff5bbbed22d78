using LabelAssignment.Data;

namespace LabelAssignment.Tests;

/// <summary>Paths the tests share: the repo root, the fixtures, and the real CIFAR-100 test split beside the repo.</summary>
internal static class TestPaths
{
    /// <summary>The folder holding LabelAssignment.slnx, found by walking up from the test assembly.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "LabelAssignment.slnx")))
                    return dir.FullName;
            throw new InvalidOperationException($"no LabelAssignment.slnx above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>Fixtures copied next to the tests.</summary>
    public static string Fixtures => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>
    /// The real official CIFAR-100 test split (binary format): ../shared/cifar-100 from the repo root, or the nearest
    /// shared/cifar-100 further up (a git worktree sits deeper than the main checkout).
    /// </summary>
    public static string SharedCifar100
    {
        get
        {
            string first = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "cifar-100"));
            return LabelAssignment.Data.Cifar100Source.FindShared(RepoRoot) ?? throw new InvalidOperationException(
                $"these tests need the real CIFAR-100 test split at {first}/test.bin (../shared/cifar-100 from the repo root); it is absent.");
        }
    }

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "la-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
