using LabelAssignment.Data;

namespace LabelAssignment.Bench.Cases;

/// <summary>Where the image benchmarks find CIFAR-100 when no <c>--cifar</c> folder is given.</summary>
internal static class Cifar100Paths
{
    /// <summary>
    /// The <c>--cifar</c> option, else LABELASSIGNMENT_CIFAR100_DIR, else ../shared/cifar-100 from the repo root
    /// (the nearest shared/cifar-100 above the folder holding LabelAssignment.slnx).
    /// </summary>
    public static string Resolve(BenchContext context)
    {
        if (context.Options.TryGetValue("cifar", out var folder))
            return folder;
        string? env = Environment.GetEnvironmentVariable(Cifar100.FolderEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
            return env;
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LabelAssignment.slnx")))
                dir = dir.Parent;
            if (dir is not null && Cifar100Source.FindShared(dir.FullName) is { } shared)
                return shared;
        }
        throw new ArgumentException("no CIFAR-100 folder: pass --cifar FOLDER or set LABELASSIGNMENT_CIFAR100_DIR (../shared/cifar-100 was not found).");
    }

    public static int Int(BenchContext context, string name, int fallback) =>
        int.Parse(context.Option(name, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

    public static int[] Sizes(BenchContext context) =>
        context.Option("sizes", "224,128").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
