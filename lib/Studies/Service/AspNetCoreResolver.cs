using System.Reflection;
using System.Runtime.CompilerServices;

namespace LabelAssignment.Studies;

/// <summary>
/// Lets the embedding service (lib/Service, an ASP.NET Core library) start inside a .NET Interactive kernel, which runs
/// on the base runtime only: when an ASP.NET Core assembly cannot be bound, it is loaded from the ASP.NET Core shared
/// framework installed beside the running runtime (same version when present, else the newest of the same major).
/// In an application that references ASP.NET Core (the server, the tests) the framework is loaded already and the
/// handler never fires.
/// </summary>
internal static class AspNetCoreResolver
{
    static int installed;
    static readonly Lazy<string?> Folder = new(FindFolder);

#pragma warning disable CA2255 // a library module initializer is the point here: it must run before the service is started.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
    }

    internal static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        string? name = new AssemblyName(args.Name).Name;
        if (name is null || Folder.Value is not string folder) return null;
        string path = Path.Combine(folder, name + ".dll");
        return File.Exists(path) ? Assembly.LoadFrom(path) : null;
    }

    /// <summary>shared/Microsoft.AspNetCore.App/&lt;version&gt; beside shared/Microsoft.NETCore.App/&lt;version&gt;, or null.</summary>
    internal static string? FindFolder()
    {
        string? runtime = Path.GetDirectoryName(typeof(object).Assembly.Location);
        if (string.IsNullOrEmpty(runtime)) return null;
        var version = new DirectoryInfo(runtime).Name;
        string? shared = Path.GetDirectoryName(Path.GetDirectoryName(runtime));
        if (shared is null) return null;
        string root = Path.Combine(shared, "Microsoft.AspNetCore.App");
        if (Directory.Exists(Path.Combine(root, version))) return Path.Combine(root, version);
        if (!Directory.Exists(root)) return null;
        string major = version.Split('.')[0] + ".";
        return Directory.GetDirectories(root)
            .Where(d => Path.GetFileName(d).StartsWith(major, StringComparison.Ordinal))
            .OrderByDescending(d => Version.TryParse(Path.GetFileName(d).Split('-')[0], out var v) ? v : new Version(0, 0))
            .FirstOrDefault();
    }
}
