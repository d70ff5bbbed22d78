using System.Reflection;
using System.Runtime.CompilerServices;

namespace LabelAssignment.Reporting;

/// <summary>
/// Lets Plotly.NET (compiled against FSharp.Core 10.1) run inside a .NET Interactive kernel that already carries
/// FSharp.Core 10.0: when a request for FSharp.Core cannot be bound, the copy already loaded is returned.
/// Outside a notebook FSharp.Core 10.1 comes with the application and the handler never fires.
/// </summary>
internal static class FSharpCoreResolver
{
    static int installed;

#pragma warning disable CA2255 // a library module initializer is the point here: it must run before any chart is built.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
    }

    internal static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        var wanted = new AssemblyName(args.Name);
        if (!string.Equals(wanted.Name, "FSharp.Core", StringComparison.Ordinal))
            return null;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var name = assembly.GetName();
            // Same major version only: FSharp.Core keeps binary compatibility within a major version.
            if (name.Name == "FSharp.Core" && name.Version?.Major == wanted.Version?.Major)
                return assembly;
        }
        return null;
    }
}
