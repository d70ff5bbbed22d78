using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>Writes small Polyglot (C#) notebooks for tests.</summary>
public static class NotebookFiles
{
    /// <summary>A markdown cell.</summary>
    public static JsonObject Markdown(string text) => new()
    {
        ["cell_type"] = "markdown",
        ["metadata"] = new JsonObject(),
        ["source"] = text,
    };

    /// <summary>A C# code cell.</summary>
    public static JsonObject Code(string source) => new()
    {
        ["cell_type"] = "code",
        ["execution_count"] = null,
        ["metadata"] = new JsonObject
        {
            ["dotnet_interactive"] = new JsonObject { ["language"] = "csharp" },
            ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" },
        },
        ["outputs"] = new JsonArray(),
        ["source"] = source,
    };

    /// <summary>Writes the cells as an nbformat 4 notebook with the .NET (C#) kernel.</summary>
    public static string Write(string path, params JsonObject[] cells)
    {
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray(cells.Select(c => (JsonNode)c).ToArray()),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
                ["polyglot_notebook"] = new JsonObject
                {
                    ["kernelInfo"] = new JsonObject
                    {
                        ["defaultKernelName"] = "csharp",
                        ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                    },
                },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        File.WriteAllText(path, notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}

/// <summary>Debian's headless Chromium, when installed: loads a page, runs its scripts, returns the DOM.</summary>
public static class HeadlessChromium
{
    /// <summary>The chromium executable on PATH, or null.</summary>
    public static string? Executable { get; } = Find();

    /// <summary>The page's DOM after its scripts ran (no network: the page must be self-contained).</summary>
    public static string DumpDom(string htmlPath, TimeSpan timeout)
    {
        if (Executable is null) throw new InvalidOperationException("chromium is not installed.");
        // The library's runner (a private profile, the same headless flags, killed at the timeout).
        return LabelAssignment.Reporting.HeadlessBrowser.Run(Executable,
            ["--virtual-time-budget=5000", "--dump-dom", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri], timeout);
    }

    static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            foreach (string name in new[] { "chromium", "chromium-browser" })
            {
                string path = Path.Combine(dir, name);
                if (File.Exists(path)) return path;
            }
        return null;
    }
}
