using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace LabelAssignment.Studies;

/// <summary>
/// Lets the embedding service (lib/Service, an ASP.NET Core library) start inside a .NET Interactive kernel, which runs
/// on the base runtime only: when an ASP.NET Core assembly cannot be bound, it is loaded from the ASP.NET Core shared
/// framework installed beside the running runtime (same version when present, else the newest of the same major);
/// when the kernel has already loaded another version of it, that one is used.
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
        if (name is null) return null;
        // The kernel ships some Microsoft.Extensions assemblies of an older version (ObjectPool 8.0) and has loaded
        // them: a second copy cannot join the default context, so the loaded one serves (their API is stable).
        foreach (var loaded in AppDomain.CurrentDomain.GetAssemblies())
            if (string.Equals(loaded.GetName().Name, name, StringComparison.Ordinal))
                return loaded;
        if (TrustedPlatformNames.Value.Contains(name))
            return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(name)); // the kernel's own version
        if (Folder.Value is not string folder) return null;
        string path = Path.Combine(folder, name + ".dll");
        // Not Assembly.LoadFrom: its dependency resolver would try the folder's copies of what the kernel already has.
        return File.Exists(path) ? AssemblyLoadContext.Default.LoadFromAssemblyPath(path) : null;
    }

    static readonly Lazy<HashSet<string>> TrustedPlatformNames = new(() =>
        ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.Ordinal));

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
