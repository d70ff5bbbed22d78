using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LabelAssignment.Embedding;

namespace LabelAssignment.Reporting;

/// <summary>The library build a notebook loaded.</summary>
/// <param name="Version">Package version (e.g. 0.1.0-dev.20261201104500), or the assembly's version outside a package.</param>
/// <param name="Commit">Git commit the pack was made from, or null when unknown.</param>
/// <param name="Dirty">True when the working tree had uncommitted changes at pack time; null when unknown.</param>
/// <param name="ChangedFiles">Files changed against the commit at pack time (git status lines).</param>
/// <param name="PackedUtc">When eng/pack.sh packed it (ISO 8601), or null.</param>
/// <param name="LatestInFeed">The version eng/pack.sh packed last into the repo's feed/ (feed/LATEST), or null when not found.</param>
public sealed record LibraryBuild(string Version, string? Commit, bool? Dirty, int ChangedFiles, string? PackedUtc, string? LatestInFeed)
{
    /// <summary>True when the loaded version is the last one packed (or no feed/ was found to compare with).</summary>
    public bool IsLatestPack => LatestInFeed is null || LatestInFeed == Version;
}

/// <summary>The machine a notebook ran on.</summary>
/// <param name="Cores">Logical processors available to the process.</param>
/// <param name="Processor">Processor model (Linux: /proc/cpuinfo), or the architecture when unknown.</param>
/// <param name="OperatingSystem">OS description.</param>
/// <param name="DotNet">.NET runtime description.</param>
/// <param name="LoadAverage">1/5/15-minute load average at the start (Linux), or null: timings on a busy machine are slower.</param>
public sealed record MachineInfo(int Cores, string Processor, string OperatingSystem, string DotNet, string? LoadAverage);

/// <summary>Data a notebook read or wrote: one embedding cache entry, or a .npy file.</summary>
/// <param name="Dataset">Data set, e.g. cifar100 (".npy" for a file).</param>
/// <param name="Split">Split, e.g. test.</param>
/// <param name="Count">Rows in the entry (the notebook may use a subset; its text says which).</param>
/// <param name="Model">Embedding model of the entry (with -l2 when normalised).</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="ModelFingerprint">The entry's model-file fingerprint (length and MD5 of its ends), if recorded.</param>
/// <param name="ContentSha256">SHA-256 of the vectors file (X.npy, or the .npy), first 16 hex digits: the entry's fingerprint.</param>
/// <param name="Entry">The cache entry's folder name (or the .npy's file name).</param>
/// <param name="FromCache">True when read, false when computed and written by this run.</param>
public sealed record DataProvenance(string Dataset, string Split, int Count, string Model, int Dimension, string? ModelFingerprint,
    string ContentSha256, string Entry, bool FromCache);

/// <summary>Wall time of one code cell of a headless run.</summary>
/// <param name="Cell">1-based index among all cells of the notebook.</param>
/// <param name="Of">Cells in the notebook.</param>
/// <param name="Section">The heading (level 1 or 2) of the section the cell is in.</param>
/// <param name="Seconds">Wall time.</param>
/// <param name="EndedUtc">When it ended (ISO 8601).</param>
/// <param name="Failed">True when the cell failed.</param>
public sealed record CellTiming(int Cell, int Of, string Section, double Seconds, string EndedUtc, bool Failed);

/// <summary>One headline number of a report (shown on the index page).</summary>
/// <param name="Name">What it is, e.g. "match rate, sample overlap".</param>
/// <param name="Value">Its value as shown.</param>
public sealed record HeadlineNumber(string Name, string Value);

/// <summary>What a report says about its run, written at the provenance cell (see <see cref="Provenance.Show"/>).</summary>
/// <param name="Notebook">Notebook file name without extension.</param>
/// <param name="StartedUtc">When the kernel process started (ISO 8601).</param>
/// <param name="Library">The library build.</param>
/// <param name="Machine">The machine.</param>
/// <param name="Parameters">Every parameter read so far with its value and source.</param>
public sealed record RunRecord(string Notebook, string StartedUtc, LibraryBuild Library, MachineInfo Machine,
    IReadOnlyList<NotebookParameter> Parameters);

/// <summary>
/// Provenance of a notebook run: which library build (version, git commit, dirty or not), parameters (value and source),
/// data (cache entries with their fingerprints, recorded by the library when they are read or written), machine, and
/// the wall time of every cell. The notebook shows a card (<see cref="Show"/>); each piece is also written into the
/// executed notebook as a hidden JSON block (<see cref="MetaBlock"/>) that the report renderer and the index read.
/// In a headless run (dotnet-repl <c>--run</c>), the package's extension.dib times every cell through
/// <see cref="CellStarting"/>/<see cref="CellFinished"/>: one progress line per cell on the process's standard error,
/// and once a cell failed the later cells are not run.
/// </summary>
public static class Provenance
{
    /// <summary>MIME-like type prefix of the hidden JSON blocks: <c>&lt;script type="application/vnd.labelassignment.KIND+json"&gt;</c>.</summary>
    public const string MetaTypePrefix = "application/vnd.labelassignment.";

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    static readonly object Gate = new();
    static readonly List<DataProvenance> data = [];
    static readonly List<CellTiming> timings = [];
    static readonly Lazy<LibraryBuild> BuildLazy = new(ReadBuild);
    static readonly Lazy<MachineInfo> MachineLazy = new(ReadMachine);
    static int dataShown;
    static NotebookCells? cells;
    static int pointer;
    static int runningCell = -1;
    static long runningSince;
    static int failedCell = -1;
    static TextWriter? progressWriter;
    static string? runPath;
    static bool runPathRead;
    static bool lineOpen;   // a cell's progress line awaits its time

    static Provenance() => EmbeddingCache.Used += OnCacheUsed;

    /// <summary>Starts recording the cache entries read or written from now on (idempotent; the library calls it before loading).</summary>
    public static void Listen() { }   // the static constructor subscribes

    /// <summary>The library build this process loaded.</summary>
    public static LibraryBuild Library => BuildLazy.Value;

    /// <summary>This machine.</summary>
    public static MachineInfo Machine => MachineLazy.Value;

    /// <summary>Data read or written so far (one record per cache entry and content).</summary>
    public static IReadOnlyList<DataProvenance> Data { get { lock (Gate) return data.ToArray(); } }

    /// <summary>Cell timings recorded so far (headless runs).</summary>
    public static IReadOnlyList<CellTiming> Cells { get { lock (Gate) return timings.ToArray(); } }

    /// <summary>The notebook dotnet-repl runs (<c>--run PATH</c> on the command line), or null outside a headless run.</summary>
    public static string? RunPath
    {
        get
        {
            lock (Gate)
            {
                if (!runPathRead)
                {
                    var args = Environment.GetCommandLineArgs();
                    int i = Array.IndexOf(args, "--run");
                    runPath = i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
                    runPathRead = true;
                }
                return runPath;
            }
        }
    }

    /// <summary>True in a headless run (dotnet-repl <c>--run</c>): cells are timed, progress goes to standard error.</summary>
    public static bool Headless => RunPath is not null;

    /// <summary>Where headless progress lines go: the process's real standard error (the kernel captures Console.Error).</summary>
    public static TextWriter ProgressWriter
    {
        get { lock (Gate) return progressWriter ??= new StreamWriter(Console.OpenStandardError()) { AutoFlush = true }; }
        set { lock (Gate) progressWriter = value ?? throw new ArgumentNullException(nameof(value)); }
    }

    /// <summary>The run's record: notebook, start time, library build, machine and the parameters read so far.</summary>
    public static RunRecord Run() => new(NotebookName, ProcessStartUtc().ToString("O", CultureInfo.InvariantCulture),
        Library, Machine, NotebookParameters.Used);

    /// <summary>
    /// The provenance card a notebook shows near its top (after its parameters cell): library version and commit,
    /// whether it is the last pack, parameters with their source, machine; plus the hidden run record the report reads.
    /// </summary>
    public static HtmlFragment Show()
    {
        var run = Run();
        var b = run.Library;
        var html = new StringBuilder("<div class=\"la-provenance\" style=\"font-size:13px\">");
        html.Append("<p><strong>Library</strong> LabelAssignment.Studies <code>").Append(Enc(b.Version)).Append("</code>");
        if (b.Commit is not null)
            html.Append(", packed from commit <code>").Append(Enc(b.Commit[..Math.Min(12, b.Commit.Length)])).Append("</code>")
                .Append(b.Dirty == true ? $" with uncommitted changes ({b.ChangedFiles} files)" : " (clean working tree)");
        if (b.PackedUtc is not null) html.Append(" at ").Append(Enc(b.PackedUtc));
        html.Append(".</p>");
        if (!b.IsLatestPack)
            html.Append("<p style=\"color:#a00\"><strong>Not the last pack:</strong> feed/ was last packed with <code>")
                .Append(Enc(b.LatestInFeed!)).Append("</code>; restart the kernel to load it.</p>");
        var m = run.Machine;
        html.Append("<p><strong>Machine</strong> ").Append(m.Cores).Append(" cores, ").Append(Enc(m.Processor)).Append("; ")
            .Append(Enc(m.OperatingSystem)).Append("; ").Append(Enc(m.DotNet))
            .Append(m.LoadAverage is null ? "" : $"; load average {Enc(m.LoadAverage)} at the start").Append(".</p>");
        html.Append(ParameterTable(run.Parameters));
        html.Append("<p style=\"color:#666\">Data used and the time of each section are listed at the end of the rendered report.</p>");
        html.Append("</div>").Append(MetaBlock("run", run));
        return new HtmlFragment(html.ToString());
    }

    /// <summary>The parameters as an HTML table (name, value, source), the --input ones in bold.</summary>
    public static string ParameterTable(IReadOnlyList<NotebookParameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var html = new StringBuilder("<table class=\"la-parameters\"><thead><tr><th>parameter</th><th>value</th><th>from</th></tr></thead><tbody>");
        foreach (var p in parameters)
        {
            bool given = p.Source != "default";
            html.Append("<tr><td>").Append(Enc(p.Name)).Append("</td><td>").Append(given ? "<strong>" : "").Append(Enc(p.Value))
                .Append(given ? "</strong>" : "").Append("</td><td>").Append(Enc(p.Source)).Append("</td></tr>");
        }
        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>A hidden JSON block of kind <paramref name="kind"/> (invisible in every notebook front end; read by the report renderer).</summary>
    public static string MetaBlock(string kind, object value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        // The default encoder writes < > & as \u003C ...: the text cannot end the script element.
        return $"<script type=\"{MetaTypePrefix}{kind}+json\">{JsonSerializer.Serialize(value, value.GetType(), Json)}</script>";
    }

    /// <summary>Records data a notebook used (the library calls this when it loads embeddings; a notebook need not).</summary>
    public static void RecordData(DataProvenance record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (Gate)
            if (!data.Contains(record)) data.Add(record);
    }

    /// <summary>Records a .npy file a notebook read (with the SHA-256 of its content).</summary>
    public static void RecordNpy(string path, int rows, int dimension)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RecordData(new DataProvenance(".npy", "", rows, "", dimension, null, Sha256Prefix(path), Path.GetFileName(path), FromCache: true));
    }

    static void OnCacheUsed(EmbeddingCacheUse use)
    {
        try
        {
            RecordData(new DataProvenance(use.Key.Dataset, use.Key.Split, use.Key.SampleCount, use.Key.Model, use.Dimension,
                use.ModelFingerprint, Sha256Prefix(Path.Combine(use.Folder, "X.npy")), use.Key.FolderName, use.FromCache));
        }
        catch (IOException) { }   // provenance must never break loading; the entry was just read or written
        catch (UnauthorizedAccessException) { }
    }

    static string Sha256Prefix(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }

    // ---- cell tracking (called by extension.dib's kernel middleware) ----

    /// <summary>
    /// Called by extension.dib when it loads (inside the cell that references the package): starts cell tracking in a
    /// headless run and returns the timing block of that cell (kernel start, package restore), else null.
    /// </summary>
    public static HtmlFragment? StartCellTracking()
    {
        if (!Headless) return null;
        lock (Gate)
        {
            cells ??= NotebookCells.TryRead(RunPath!);
            if (cells is null) return null;
            int reference = cells.FirstCodeCellContaining("#r \"nuget: LabelAssignment");
            if (reference < 0) return null;
            pointer = reference + 1;
            double seconds = (DateTime.UtcNow - ProcessStartUtc()).TotalSeconds;
            var timing = Record(reference, seconds, failed: false);
            ProgressWriter.WriteLine($"{Prefix(reference)}kernel start and package restore: {seconds:0.0} s");
            return new HtmlFragment(MetaBlock("cell", timing));
        }
    }

    /// <summary>
    /// Called before each top-level submission with its target kernel and code. Returns false when the cell must not
    /// run: an earlier cell of this headless run failed (the run stops there, as Jupyter does).
    /// </summary>
    public static bool CellStarting(string? kernelName, string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (!Headless) return true;
        lock (Gate)
        {
            cells ??= NotebookCells.TryRead(RunPath!);
            int index = cells?.Find(code, pointer) ?? -1;
            if (index >= 0) pointer = index + 1;
            if (failedCell >= 0) return false;
            bool isCode = index >= 0 && cells!.IsCode(index) && kernelName != "markdown";
            runningCell = isCode ? index : -1;
            runningSince = Stopwatch.GetTimestamp();
            if (isCode)
            {
                ProgressWriter.Write($"{Prefix(index)}{cells!.Section(index)} ... ");
                lineOpen = true;
            }
            return true;
        }
    }

    /// <summary>
    /// Called after each top-level submission: records the cell's wall time, prints it (and the error) to the progress
    /// writer, and returns the hidden block for the cell's output (its timing and the data it used), or null.
    /// </summary>
    public static HtmlFragment? CellFinished(bool failed, string? error)
    {
        if (!Headless) return null;
        lock (Gate)
        {
            int index = runningCell;
            runningCell = -1;
            if (index < 0 || cells is null) return null;
            double seconds = Stopwatch.GetElapsedTime(runningSince).TotalSeconds;
            var timing = Record(index, seconds, failed);
            double total = (DateTime.UtcNow - ProcessStartUtc()).TotalSeconds;
            // Progress lines printed meanwhile broke the cell's line: name the cell again.
            if (!lineOpen) ProgressWriter.Write($"{Prefix(index)}done: ");
            lineOpen = false;
            if (failed)
            {
                failedCell = index;
                ProgressWriter.WriteLine($"FAILED after {seconds:0.0} s");
                ProgressWriter.WriteLine(Indent(FirstLines(error ?? "(no message)", 30)));
                ProgressWriter.WriteLine($"{Prefix(index)}the run stops here; later cells are not run.");
            }
            else ProgressWriter.WriteLine($"{seconds:0.0} s (notebook {total:0} s)");
            var newData = data.Skip(dataShown).ToArray();
            dataShown = data.Count;
            return new HtmlFragment(MetaBlock("cell", new { timing.Cell, timing.Of, timing.Section, timing.Seconds, timing.EndedUtc, timing.Failed, Data = newData }));
        }
    }

    /// <summary>
    /// A headless run's plain-text view of a progress bar (extension.dib adds it to the HTML bar): after its first two
    /// seconds, one line per tenth and one at completion on the progress writer, so a long cell shows how far it is.
    /// Outside a headless run: nothing.
    /// </summary>
    public static Action<ProgressState> ProgressLines(string label)
    {
        if (!Headless) return _ => { };
        int lastTenth = -1;
        bool printed = false;
        return state =>
        {
            int tenth = (int)Math.Floor(state.Fraction * 10);
            // Quiet for the first seconds (a fast bar prints nothing), then a line per tenth and the end.
            if (state.Completed ? !printed : state.Elapsed < TimeSpan.FromSeconds(2) || tenth >= 10 || tenth == lastTenth) return;
            lastTenth = tenth;
            printed = true;
            lock (Gate)
            {
                if (lineOpen) ProgressWriter.WriteLine();
                lineOpen = false;
                ProgressWriter.WriteLine("      " + state);
            }
        };
    }

    /// <summary>What a cell skipped after a failure shows.</summary>
    public static HtmlFragment SkippedNote()
    {
        lock (Gate)
            return new HtmlFragment($"<div class=\"la-skipped\" style=\"color:#a00\">Not run: cell {failedCell + 1} failed, so this headless run stopped there.</div>");
    }

    /// <summary>Forgets recorded data and timings (tests).</summary>
    internal static void ResetForTests(string? run = null, TextWriter? writer = null)
    {
        lock (Gate)
        {
            data.Clear(); timings.Clear();
            dataShown = 0; cells = null; pointer = 0; runningCell = -1; failedCell = -1; lineOpen = false;
            runPath = run; runPathRead = true;
            progressWriter = writer;
        }
    }

    static CellTiming Record(int index, double seconds, bool failed)
    {
        var timing = new CellTiming(index + 1, cells!.Count, cells.Section(index), Math.Round(seconds, 3),
            DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), failed);
        timings.Add(timing);
        return timing;
    }

    static string Prefix(int index) => $"  {NotebookName}: cell {index + 1}/{cells!.Count}  ";

    static string NotebookName => RunPath is { } p ? Path.GetFileNameWithoutExtension(p) : "notebook";

    static string FirstLines(string text, int lines)
    {
        var all = text.Replace("\r\n", "\n").Split('\n');
        return all.Length <= lines ? text : string.Join('\n', all.Take(lines)) + $"\n... ({all.Length - lines} more lines in the report)";
    }

    static string Indent(string text) => "      " + text.Replace("\n", "\n      ");

    static DateTime ProcessStartUtc()
    {
        try { return Process.GetCurrentProcess().StartTime.ToUniversalTime(); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception) { return DateTime.UtcNow; }
    }

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    // ---- build and machine ----

    static LibraryBuild ReadBuild()
    {
        var assembly = typeof(Provenance).Assembly;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                         ?? assembly.GetName().Version?.ToString() ?? "unknown";
        string? commit = null, packed = null;
        bool? dirty = null;
        int changed = 0;
        // A packed library sits at <package>/<version>/lib/net10.0/; eng/pack.sh puts build-info.json at <package>/<version>/.
        string? folder = Path.GetDirectoryName(assembly.Location);
        string? info = folder is null ? null : Path.GetFullPath(Path.Combine(folder, "..", "..", "build-info.json"));
        if (info is not null && File.Exists(info))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(info));
                var root = doc.RootElement;
                if (root.TryGetProperty("version", out var v) && v.GetString() is { Length: > 0 } vs) version = vs;
                if (root.TryGetProperty("commit", out var c)) commit = c.GetString();
                if (root.TryGetProperty("dirty", out var d) && d.ValueKind is JsonValueKind.True or JsonValueKind.False) dirty = d.GetBoolean();
                if (root.TryGetProperty("changedFiles", out var n) && n.ValueKind == JsonValueKind.Number) changed = n.GetInt32();
                if (root.TryGetProperty("packedUtc", out var t)) packed = t.GetString();
            }
            catch (JsonException) { }
        }
        return new LibraryBuild(version, commit, dirty, changed, packed, FindLatestInFeed());
    }

    // feed/LATEST (written by eng/pack.sh) in the working folder or a folder above it: the repo the notebook runs in.
    static string? FindLatestInFeed()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string latest = Path.Combine(dir.FullName, "feed", "LATEST");
            if (File.Exists(latest))
                try { return File.ReadAllText(latest).Trim(); } catch (IOException) { return null; }
        }
        return null;
    }

    static MachineInfo ReadMachine()
    {
        string processor = RuntimeInformation.ProcessArchitecture.ToString();
        string? load = null;
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                processor = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                    ?.Split(':', 2)[1].Trim() ?? processor;
            else if (Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") is { Length: > 0 } id)
                processor = id;
            if (File.Exists("/proc/loadavg"))
                load = string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new MachineInfo(Environment.ProcessorCount, processor, RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription, load);
    }
}

/// <summary>The cells of the notebook a headless run executes: to name the running cell and its section.</summary>
internal sealed class NotebookCells
{
    readonly List<(bool Code, string Source, string Section)> cells = [];

    public int Count => cells.Count;

    public bool IsCode(int index) => cells[index].Code;

    public string Section(int index) => cells[index].Section;

    public static NotebookCells? TryRead(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return FromJson(doc.RootElement);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException)
        {
            return null;   // the run goes on untimed rather than failing on its own bookkeeping
        }
    }

    public static NotebookCells FromJson(JsonElement notebook)
    {
        var result = new NotebookCells();
        string section = "(top)";
        foreach (var cell in notebook.GetProperty("cells").EnumerateArray())
        {
            string type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() ?? "" : "";
            string source = cell.TryGetProperty("source", out var s) ? ReportMeta.JoinText(s) : "";
            if (type == "markdown" && HeadingOf(source) is { } heading) section = heading;
            result.cells.Add((type == "code", Normalise(source), section));
        }
        return result;
    }

    /// <summary>The last level-1 or level-2 heading of a markdown cell (the one the next cells are under), without the hashes.</summary>
    public static string? HeadingOf(string markdown)
    {
        string? heading = null;
        foreach (string line in markdown.Replace("\r\n", "\n").Split('\n'))
            if (line.StartsWith("# ", StringComparison.Ordinal) || line.StartsWith("## ", StringComparison.Ordinal))
                heading = line.TrimStart('#').Trim();
        return heading;
    }

    public int FirstCodeCellContaining(string text)
    {
        for (int i = 0; i < cells.Count; i++)
            if (cells[i].Code && cells[i].Source.Contains(text, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>The first cell at or after <paramref name="from"/> whose source is <paramref name="code"/>, or -1.</summary>
    public int Find(string code, int from)
    {
        string wanted = Normalise(code);
        for (int i = Math.Max(0, from); i < cells.Count; i++)
            if (cells[i].Source == wanted) return i;
        return -1;
    }

    static string Normalise(string source) => source.Replace("\r\n", "\n").Trim();
}

/// <summary>An observer that calls an action per value (extension.dib watches the kernel's events with it).</summary>
public sealed class EventObserver(Action<object> onNext) : IObserver<object>
{
    /// <inheritdoc/>
    public void OnNext(object value) => onNext(value);

    /// <inheritdoc/>
    public void OnError(Exception error) { }

    /// <inheritdoc/>
    public void OnCompleted() { }
}
