using System.Reflection;
using System.Xml.Linq;

namespace LabelAssignment.Tests.Layers;

/// <summary>
/// The library projects reference only downward (core &lt;- embedding &lt;- service &lt;- studies; server/ is a thin program on service), and each loads only the
/// packages its layer is for: a service or batch job that uses the core must not load ONNX Runtime, ImageSharp,
/// Plotly.NET, FSharp.Core or Markdig. Checked on the compiled assemblies (what is really loaded) and on the
/// project files (what a build would pull in).
/// </summary>
public class LayerTests
{
    static readonly Assembly Core = typeof(LabelAssignment.Clustering.KMeans).Assembly;
    static readonly Assembly Embedding = typeof(LabelAssignment.Embedding.OnnxImageEmbedder).Assembly;
    static readonly Assembly Studies = typeof(LabelAssignment.Reporting.Charts).Assembly;
    static readonly Assembly Service = typeof(LabelAssignment.Service.EmbeddingServer).Assembly;

    // Framework assemblies every .NET program has: not a package dependency.
    static bool IsFramework(AssemblyName a) => a.Name is "System.Runtime" or "netstandard" or "mscorlib"
        || (a.Name!.StartsWith("System.", StringComparison.Ordinal) && a.Name != "System.Numerics.Tensors")
        || a.Name.StartsWith("Microsoft.Win32.", StringComparison.Ordinal);

    static string[] NonFrameworkReferences(Assembly a) =>
        a.GetReferencedAssemblies().Where(r => !IsFramework(r)).Select(r => r.Name!).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Core_references_only_System_Numerics_Tensors()
    {
        Assert.Equal("LabelAssignment.Core", Core.GetName().Name);
        Assert.Equal(["System.Numerics.Tensors"], NonFrameworkReferences(Core));
    }

    [Fact]
    public void Embedding_references_core_and_the_image_stack_but_nothing_of_the_notebooks()
    {
        var refs = NonFrameworkReferences(Embedding);
        Assert.Contains("LabelAssignment.Core", refs);
        Assert.Contains("Microsoft.ML.OnnxRuntime", refs);
        Assert.Contains("SixLabors.ImageSharp", refs);
        Assert.DoesNotContain("LabelAssignment.Studies", refs);
        foreach (var notebookOnly in new[] { "Plotly.NET", "FSharp.Core", "Markdig", "Microsoft.Data.Analysis" })
            Assert.DoesNotContain(notebookOnly, refs);
        // The embedding client is plain HttpClient + Polly: a batch job that embeds through a service loads no ASP.NET Core.
        Assert.Contains("Polly.Core", refs);
        Assert.DoesNotContain(refs, r => r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || r == "LabelAssignment.Service" || r.StartsWith("Prometheus", StringComparison.Ordinal));
    }

    [Fact]
    public void Service_sits_on_embedding_and_carries_ASP_NET_Core_but_nothing_of_the_notebooks()
    {
        var refs = NonFrameworkReferences(Service);
        Assert.Contains("LabelAssignment.Embedding", refs);
        Assert.Contains("LabelAssignment.Core", refs);
        Assert.Contains("Prometheus.NetStandard", refs);
        Assert.Contains(Service.GetReferencedAssemblies(), r => r.Name == "Microsoft.AspNetCore.Http.Abstractions");
        Assert.DoesNotContain("LabelAssignment.Studies", refs);
        foreach (var notebookOnly in new[] { "Plotly.NET", "FSharp.Core", "Markdig", "Microsoft.Data.Analysis" })
            Assert.DoesNotContain(notebookOnly, refs);
        // The core never sees the web stack.
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), r => r.Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }

    [Fact]
    public void Only_studies_carries_the_notebook_machinery()
    {
        var refs = NonFrameworkReferences(Studies);
        Assert.Contains("LabelAssignment.Core", refs);
        Assert.Contains("LabelAssignment.Embedding", refs);
        Assert.Contains("Plotly.NET", refs);
        // The FSharp.Core resolver (a module initializer hooking AssemblyResolve) lives in studies only.
        Assert.Contains(Studies.GetTypes(), t => t.Name == "FSharpCoreResolver");
        Assert.DoesNotContain(Core.GetTypes(), t => t.Name == "FSharpCoreResolver");
        Assert.DoesNotContain(Embedding.GetTypes(), t => t.Name == "FSharpCoreResolver");
    }

    [Theory]
    [InlineData("lib/Core/LabelAssignment.Core.csproj", new string[0], new[] { "System.Numerics.Tensors" })]
    [InlineData("lib/Embedding/LabelAssignment.Embedding.csproj", new[] { "LabelAssignment.Core" },
        new[] { "Google.Protobuf", "Microsoft.ML.OnnxRuntime", "OnnxSharp", "Polly.Core", "Razorvine.Pickle", "SixLabors.ImageSharp" })]
    [InlineData("lib/Service/LabelAssignment.Service.csproj", new[] { "LabelAssignment.Embedding" }, new[] { "prometheus-net.AspNetCore" })]
    [InlineData("server/LabelAssignment.Server.csproj", new[] { "LabelAssignment.Service" }, new string[0])]
    [InlineData("lib/Studies/LabelAssignment.Studies.csproj", new[] { "LabelAssignment.Core", "LabelAssignment.Embedding", "LabelAssignment.Service" },
        new[] { "FSharp.Core", "Markdig", "Microsoft.Data.Analysis", "Microsoft.Extensions.Http", "Microsoft.Extensions.ObjectPool", "Plotly.NET", "Plotly.NET.CSharp" })]
    public void Project_files_reference_only_downward(string project, string[] projects, string[] packages)
    {
        var xml = XDocument.Load(Path.Combine(TestPaths.RepoRoot, project));
        var projectRefs = xml.Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value)).Order(StringComparer.Ordinal).ToArray();
        var packageRefs = xml.Descendants("PackageReference")
            .Select(e => e.Attribute("Include")!.Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(projects, projectRefs);
        Assert.Equal(packages, packageRefs);
    }

    [Fact]
    public void The_readme_library_sample_uses_only_the_core()
    {
        string readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        int section = readme.IndexOf("## Using the library without notebooks", StringComparison.Ordinal);
        Assert.True(section >= 0, "README has no 'Using the library without notebooks' section");
        int start = readme.IndexOf("```csharp", section, StringComparison.Ordinal);
        int end = readme.IndexOf("```", start + 9, StringComparison.Ordinal);
        var usings = readme[start..end].Split('\n').Select(l => l.Trim())
            .Where(l => l.StartsWith("using LabelAssignment", StringComparison.Ordinal))
            .Select(l => l["using ".Length..].TrimEnd(';')).ToArray();
        Assert.NotEmpty(usings);
        var coreNamespaces = Core.GetExportedTypes().Select(t => t.Namespace).ToHashSet();
        Assert.All(usings, ns => Assert.True(coreNamespaces.Contains(ns), $"README sample uses {ns}, which is not in LabelAssignment.Core"));
    }
}
