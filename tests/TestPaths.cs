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

    /// <summary>Where the real CIFAR-100 test split is looked for first: ../shared/cifar-100 from the repo root.</summary>
    public static string SharedCifar100Expected => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "cifar-100"));

    /// <summary>
    /// The real official CIFAR-100 test split (binary format): ../shared/cifar-100 from the repo root, or the nearest
    /// shared/cifar-100 further up (a git worktree sits deeper than the main checkout); null when absent (a fresh clone).
    /// </summary>
    public static string? SharedCifar100OrNull => Cifar100Source.FindShared(RepoRoot);

    /// <summary>
    /// The real split, for tests whose point is the real images; mark them <see cref="RealCifar100FactAttribute"/> so
    /// they skip, naming the folder, when it is absent.
    /// </summary>
    public static string SharedCifar100 => SharedCifar100OrNull ?? throw new InvalidOperationException(
        $"these tests need the real CIFAR-100 test split at {SharedCifar100Expected}/test.bin (../shared/cifar-100 from the repo root); it is absent.");

    /// <summary>
    /// A CIFAR-100 test split in the official binary format: the real one when present, otherwise a small file the
    /// tests write themselves (<see cref="TestData.SyntheticCifar100"/>). For tests that need images, not these images.
    /// </summary>
    public static string Cifar100 => SharedCifar100OrNull ?? TestData.SyntheticCifar100.Folder;

    /// <summary>True when <see cref="Cifar100"/> is the real split.</summary>
    public static bool HasRealCifar100 => SharedCifar100OrNull is not null;

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "la-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>
/// A fact about the real CIFAR-100 images (e.g. the official order, k-NN quality): skipped, with a message naming the
/// missing folder, when ../shared/cifar-100 is absent (a fresh clone); CI has it and runs them.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RealCifar100FactAttribute : FactAttribute
{
    public RealCifar100FactAttribute()
    {
        if (!TestPaths.HasRealCifar100)
            Skip = $"needs the real CIFAR-100 test split at {TestPaths.SharedCifar100Expected}/test.bin (../shared/cifar-100 beside the repository), which is absent";
    }
}
