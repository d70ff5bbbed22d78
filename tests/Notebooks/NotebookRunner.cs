using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Xunit.Sdk;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>What dotnet-repl writes after running a notebook.</summary>
public enum NotebookOutputFormat
{
    /// <summary>The executed notebook with every cell's outputs.</summary>
    Ipynb,
    /// <summary>A test-results file with one test per cell (pass/fail, stdout, exception).</summary>
    Trx,
}

/// <summary>A cell that failed: its 1-based index among all cells (trx: among code cells), its source and its exception.</summary>
public sealed record CellError(int Cell, string Source, string Message);

/// <summary>The result of one headless notebook run.</summary>
public sealed record NotebookRun(
    string NotebookPath, string OutputPath, NotebookOutputFormat Format, int ExitCode, string StdOut, string StdErr,
    IReadOnlyList<CellError> Errors, TimeSpan Elapsed)
{
    /// <summary>Fails the test listing every error cell's exception (and dotnet-repl's own output if it failed otherwise).</summary>
    public void AssertNoErrors()
    {
        if (Errors.Count == 0 && ExitCode == 0) return;
        var message = new StringBuilder($"notebook {NotebookPath} ran with exit code {ExitCode} and {Errors.Count} error cell(s):\n");
        foreach (var e in Errors)
            message.Append($"--- cell {e.Cell}: {Abbreviate(e.Source, 200)}\n{Abbreviate(e.Message, 2000)}\n");
        if (Errors.Count == 0)
            message.Append($"stdout:\n{Abbreviate(StdOut, 4000)}\nstderr:\n{Abbreviate(StdErr, 4000)}\n");
        throw new XunitException(message.ToString());
    }

    /// <summary>The executed notebook (ipynb output only).</summary>
    public JsonDocument ReadNotebook() =>
        Format == NotebookOutputFormat.Ipynb
            ? JsonDocument.Parse(File.ReadAllText(OutputPath))
            : throw new InvalidOperationException("this run wrote trx, not ipynb.");

    /// <summary>
    /// Every output of the executed notebook, in order: its cell (1-based), its type ("stream" or a MIME type such as
    /// "text/html") and its text (line arrays joined; a JSON value other than a string as its JSON text).
    /// </summary>
    public IReadOnlyList<(int Cell, string Type, string Text)> Outputs()
    {
        using var notebook = ReadNotebook();
        var list = new List<(int, string, string)>();
        int index = 0;
        foreach (var cell in notebook.RootElement.GetProperty("cells").EnumerateArray())
        {
            index++;
            if (!cell.TryGetProperty("outputs", out var outputs)) continue;
            foreach (var o in outputs.EnumerateArray())
            {
                if (o.TryGetProperty("text", out var text))
                    list.Add((index, "stream", Text(text)));
                if (o.TryGetProperty("data", out var data))
                    foreach (var mime in data.EnumerateObject())
                        list.Add((index, mime.Name, Text(mime.Value)));
            }
        }
        return list;
    }

    internal static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => string.Concat(value.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText())),
        JsonValueKind.String => value.GetString() ?? "",
        _ => value.GetRawText(),
    };

    static string Abbreviate(string s, int max) => s.Length <= max ? s : s[..max] + " ...";
}

/// <summary>
/// Runs notebooks headless with the repo's pinned dotnet-repl, against the library packed into the repo's feed/
/// once per test run, exactly as a researcher's `dotnet repl --run` would. Notebooks run with notebooks/ as the
/// kernel's working folder (as VS Code does for the product notebooks), so the repo's NuGet.config applies.
/// </summary>
public static class NotebookRunner
{
    static readonly Lazy<string> PackedVersionLazy = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The repository root (the folder holding LabelAssignment.slnx).</summary>
    public static string RepoRoot { get; } = TestPaths.RepoRoot;

    /// <summary>The library version packed into feed/ for this test run (packs on first use).</summary>
    public static string PackedVersion => PackedVersionLazy.Value;

    /// <summary>The local feed the notebooks restore the library from.</summary>
    public static string FeedFolder => Path.Combine(RepoRoot, "feed");

    /// <summary>
    /// Runs <paramref name="notebookPath"/> with the given <c>--input name=value</c> parameters and returns the
    /// outputs and the error cells. Packs the library first (once per test run). The executed notebook (or trx)
    /// goes to <paramref name="outputPath"/>, by default a new temp folder.
    /// </summary>
    public static NotebookRun Run(string notebookPath, IReadOnlyDictionary<string, string>? inputs = null,
        NotebookOutputFormat format = NotebookOutputFormat.Ipynb, string? outputPath = null, TimeSpan? timeout = null)
    {
        notebookPath = Path.GetFullPath(notebookPath);
        if (!File.Exists(notebookPath)) throw new FileNotFoundException("no such notebook", notebookPath);
        _ = PackedVersion;
        string extension = format == NotebookOutputFormat.Trx ? ".trx" : ".ipynb";
        // Default output: a temp folder, so running a product notebook leaves nothing in notebooks/.
        outputPath = Path.GetFullPath(outputPath ?? Path.Combine(
            Directory.CreateTempSubdirectory("la-notebook-run-").FullName,
            Path.GetFileNameWithoutExtension(notebookPath) + extension));
        File.Delete(outputPath);
        var args = new List<string> { "repl", "--run", notebookPath, "--exit-after-run", "--output-path", outputPath };
        if (format == NotebookOutputFormat.Trx) args.AddRange(["--output-format", "trx"]);
        foreach (var (name, value) in inputs ?? new Dictionary<string, string>())
            args.AddRange(["--input", $"{name}={value}"]);
        string workingFolder = Path.Combine(RepoRoot, "notebooks");
        Directory.CreateDirectory(workingFolder);
        var clock = Stopwatch.StartNew();
        var (exit, stdout, stderr) = Exec("dotnet", args, workingFolder, timeout ?? TimeSpan.FromMinutes(3),
            environment: new Dictionary<string, string> { ["DOTNET_TieredCompilation"] = "0" }); // as run.sh runs the kernel
        clock.Stop();
        if (!File.Exists(outputPath))
            throw new XunitException($"dotnet repl wrote no {outputPath} (exit {exit}).\nstdout:\n{stdout}\nstderr:\n{stderr}");
        var errors = format == NotebookOutputFormat.Trx ? TrxErrors(outputPath) : IpynbErrors(outputPath);
        return new NotebookRun(notebookPath, outputPath, format, exit, stdout, stderr, errors, clock.Elapsed);
    }

    /// <summary>Error outputs of an executed .ipynb, with the 1-based index of their cell.</summary>
    public static IReadOnlyList<CellError> IpynbErrors(string ipynbPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ipynbPath));
        var errors = new List<CellError>();
        int index = 0;
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            index++;
            if (!cell.TryGetProperty("outputs", out var outputs)) continue;
            foreach (var o in outputs.EnumerateArray())
                if (o.TryGetProperty("output_type", out var t) && t.GetString() == "error")
                    errors.Add(new CellError(index, NotebookRun.Text(cell.GetProperty("source")),
                        $"{o.GetProperty("ename").GetString()}: {o.GetProperty("evalue").GetString()}"));
        }
        return errors;
    }

    /// <summary>Failed cells of a dotnet-repl trx file.</summary>
    public static IReadOnlyList<CellError> TrxErrors(string trxPath)
    {
        // dotnet-repl declares encoding="utf-16" but writes ASCII: XML readers reject it until that is corrected.
        string xml = File.ReadAllText(trxPath).Replace("encoding=\"utf-16\"", "encoding=\"utf-8\"");
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        var errors = new List<CellError>();
        int index = 0;
        foreach (var result in XDocument.Parse(xml).Descendants(ns + "UnitTestResult"))
        {
            index++;
            if ((string?)result.Attribute("outcome") != "Failed") continue;
            string message = result.Descendants(ns + "Message").FirstOrDefault()?.Value ?? "(no message)";
            errors.Add(new CellError(index, (string?)result.Attribute("testName") ?? "", message));
        }
        return errors;
    }

    /// <summary>
    /// Where NuGet restored <paramref name="version"/> of the library from, and the SHA-512 (base64) of the package it
    /// cached (both from the cache's .nupkg.metadata).
    /// </summary>
    public static (string Source, string ContentHash) RestoredFrom(string version)
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string metadata = Path.Combine(packages, "labelassignment.studies", version.ToLowerInvariant(), ".nupkg.metadata");
        using var doc = JsonDocument.Parse(File.ReadAllText(metadata));
        return (doc.RootElement.GetProperty("source").GetString() ?? "", doc.RootElement.GetProperty("contentHash").GetString() ?? "");
    }

    static string Pack()
    {
        Exec("dotnet", ["tool", "restore"], RepoRoot, TimeSpan.FromMinutes(3), throwOnFailure: true);
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        // The test build has already built lib/; pack that build instead of building again.
        var (_, stdout, _) = Exec("bash", ["eng/pack.sh", "-c", configuration, "--no-build"], RepoRoot,
            TimeSpan.FromMinutes(3), throwOnFailure: true);
        string version = stdout.Trim().Split('\n')[^1].Trim();
        if (!version.StartsWith("0.1.0-dev.", StringComparison.Ordinal))
            throw new XunitException($"eng/pack.sh printed no version: '{stdout}'");
        return version;
    }

    static (int Exit, string StdOut, string StdErr) Exec(string file, IEnumerable<string> args, string folder,
        TimeSpan timeout, bool throwOnFailure = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // no terminal: dotnet-repl must not wait for keys
            UseShellExecute = false,
        };
        foreach (string a in args) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new XunitException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new XunitException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s.");
        }
        process.WaitForExit();
        if (throwOnFailure && process.ExitCode != 0)
            throw new XunitException($"{file} {string.Join(' ', args)} exited {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

}

/// <summary>Tests that run notebooks share one kernel-heavy resource (2 cores): never run them in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NotebookCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Notebooks";
}
