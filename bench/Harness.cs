using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Bench;

/// <summary>One benchmark case family (e.g. "metrics", "dbscan"): runs its operations and records results.</summary>
public interface IBenchCase
{
    /// <summary>The name used on the command line (<c>--cases</c>); the same as the anchor script's case names.</summary>
    string Name { get; }

    /// <summary>One line for <c>--help</c>.</summary>
    string Description { get; }

    /// <summary>Runs every operation of the case, recording each through <see cref="BenchContext.Record"/>.</summary>
    void Run(BenchContext context);

    /// <summary>
    /// Options that make <see cref="Run"/> small enough for the warm-up (<see cref="BenchContext.ForWarmUp"/>): the
    /// same operations on the warm-up data set, e.g. <c>--lsa-sizes 60,40x60</c>. Empty by default.
    /// </summary>
    /// <param name="folder">The warm-up folder, for options that name a folder (e.g. a cache).</param>
    IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string>();
}

/// <summary>Timing of one case: median over counted runs, as the anchor script reports it.</summary>
public sealed record Timing(double MedianSeconds, double MinSeconds, int Runs, double[] TimesSeconds, double? WarmupSeconds);

/// <summary>What a case sees: the input, the options and the way to time and record.</summary>
public sealed class BenchContext
{
    private readonly List<JsonObject> _results = [];

    /// <summary>The embedding file (float32 [n, d]).</summary>
    public required string XPath { get; init; }

    /// <summary>The embeddings, loaded once.</summary>
    public required EmbeddingMatrix X { get; init; }

    /// <summary>Folder of <see cref="XPath"/>, where the anchor data keeps its companions (labels, pairs, LSA matrices).</summary>
    public string DataFolder => Path.GetDirectoryName(Path.GetFullPath(XPath))!;

    /// <summary>The file name stem shared by a data set's files: "n10000_d512" for "n10000_d512_X.npy".</summary>
    public string Stem
    {
        get
        {
            string name = Path.GetFileName(XPath);
            return name.EndsWith("_X.npy", StringComparison.Ordinal) ? name[..^6] : Path.GetFileNameWithoutExtension(name);
        }
    }

    /// <summary>Options from the command line (<c>--name value</c>), by name without dashes.</summary>
    public required IReadOnlyDictionary<string, string> Options { get; init; }

    /// <summary>Timed runs per operation (median reported).</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>A first run shorter than this is an uncounted warm-up, as in the anchor script.</summary>
    public double WarmupBelowSeconds { get; init; } = 5.0;

    /// <summary>Where each record is printed as it is made.</summary>
    public TextWriter Output { get; init; } = Console.Out;

    /// <summary>Where this run keeps reference outputs (labels, centres) as .npy, for <c>bench compare</c> to check
    /// against the anchor's; option <c>--artifacts</c>, default <c>&lt;report without .json&gt;.artifacts</c>.</summary>
    public string ArtifactsFolder { get; init; } = Path.Combine(Path.GetTempPath(), "labelassignment-bench-artifacts");

    /// <summary>Where anchor_bench.py kept its reference outputs for this X (option <c>--anchor-artifacts</c>,
    /// default <c>&lt;X without .npy&gt;.anchors</c>, anchor_bench.py's own default).</summary>
    public string AnchorArtifactsFolder => Option("anchor-artifacts", XPath.EndsWith(".npy", StringComparison.Ordinal) ? XPath[..^4] + ".anchors" : XPath + ".anchors");

    /// <summary>The anchor's reference output <paramref name="name"/> (e.g. "dbscan_cosine_eps0.1_labels.npy"),
    /// or null when the anchor has not written it.</summary>
    public string? AnchorArtifact(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        string path = Path.Combine(AnchorArtifactsFolder, name);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Saves labels as int32 .npy under <see cref="ArtifactsFolder"/> (named as the anchor names its
    /// own, so <c>bench compare</c> can pair them) and returns the path to pass to <see cref="Record"/>.</summary>
    public string SaveArtifact(string name, int[] labels)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(labels);
        string path = Path.Combine(ArtifactsFolder, name);
        LabelAssignment.IO.Npy.Write(path, labels);
        return path;
    }

    /// <summary>Saves a matrix (e.g. KMeans centres) as float32 .npy under <see cref="ArtifactsFolder"/>; returns the path.</summary>
    public string SaveArtifact(string name, EmbeddingMatrix matrix)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(matrix);
        string path = Path.Combine(ArtifactsFolder, name);
        Directory.CreateDirectory(ArtifactsFolder);
        LabelAssignment.IO.Npy.Write(path, matrix);
        return path;
    }

    /// <summary>Rows of X in the warm-up data set.</summary>
    public const int WarmUpRows = 1000;

    /// <summary>Cluster count of the warm-up label pairs (<c>&lt;stem&gt;_pairs_k10.npy</c>).</summary>
    public const int WarmUpPairsK = 10;

    /// <summary>
    /// A context for warming a case up before it is timed: a small data set written under <paramref name="folder"/>
    /// the way make_data.py lays one out (<c>warm_X.npy</c> with the first <see cref="WarmUpRows"/> rows of X,
    /// <c>warm_pairs_k10.npy</c>, <c>lsa_60x60.npy</c>, <c>lsa_40x60.npy</c>), the options given plus
    /// <paramref name="overrides"/> (no anchor artifacts), one run per measurement, and output and records discarded.
    /// </summary>
    public BenchContext ForWarmUp(string folder, IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(overrides);
        Directory.CreateDirectory(folder);
        int n = Math.Min(X.Count, WarmUpRows);
        var x = X.SelectRows(Enumerable.Range(0, n).ToArray());
        string xPath = Path.Combine(folder, "warm_X.npy");
        if (!File.Exists(xPath))
        {
            LabelAssignment.IO.Npy.Write(xPath, x);
            var rng = new Random(5);
            int[] pairs = new int[2 * n];
            for (int i = 0; i < n; i++)
            {
                pairs[i] = i % WarmUpPairsK;
                pairs[n + i] = rng.NextDouble() < 0.2 ? rng.Next(WarmUpPairsK) : pairs[i];
            }
            LabelAssignment.IO.Npy.Write<int>(Path.Combine(folder, $"warm_pairs_k{WarmUpPairsK}.npy"), pairs, 2, n);
            foreach (var (r, c) in new[] { (60, 60), (40, 60) })
                LabelAssignment.IO.Npy.Write<double>(Path.Combine(folder, $"lsa_{r}x{c}.npy"),
                    Enumerable.Range(0, r * c).Select(_ => rng.NextDouble()).ToArray(), r, c);
        }
        var options = Options.Where(kv => kv.Key is not ("anchor-artifacts" or "nearest-anchors" or "out" or "artifacts"))
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        foreach (var (key, value) in overrides) options[key] = value;
        return new BenchContext
        {
            XPath = xPath, X = x, Options = options, Repeats = 1, WarmupBelowSeconds = 0, Output = TextWriter.Null,
            ArtifactsFolder = Path.Combine(folder, "artifacts"),
        };
    }

    /// <summary>Every record made so far.</summary>
    public IReadOnlyList<JsonObject> Results => _results;

    /// <summary>An option's value, or <paramref name="fallback"/> when it was not given.</summary>
    public string Option(string name, string fallback) => Options.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>Runs <paramref name="run"/> until <see cref="Repeats"/> timed runs exist; returns the last result.</summary>
    public (T Result, Timing Timing) Measure<T>(Func<T> run)
    {
        var sw = Stopwatch.StartNew();
        T result = run();
        double first = sw.Elapsed.TotalSeconds;
        bool warm = first < WarmupBelowSeconds;
        var times = new List<double>();
        if (!warm) times.Add(first);
        while (times.Count < Repeats)
        {
            sw.Restart();
            result = run();
            times.Add(sw.Elapsed.TotalSeconds);
        }
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1
            ? sorted[sorted.Length / 2]
            : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return (result, new Timing(median, sorted[0], times.Count, [.. times], warm ? first : null));
    }

    /// <summary>Records one case result and prints it as one JSON line. <paramref name="artifacts"/> maps a kind
    /// ("labels") to a file from <see cref="SaveArtifact"/>; <c>bench compare</c> compares it with the anchor's
    /// artifact of the same kind (labels, centers, cluster ids: row by row). <paramref name="anchorId"/> names the
    /// anchor record this one reproduces when the ids differ.</summary>
    public void Record(string id, string caseName, JsonObject parameters, Timing timing, JsonObject summary,
        JsonObject? artifacts = null, string? anchorId = null)
    {
        var record = new JsonObject
        {
            ["id"] = id,
            ["case"] = caseName,
            ["impl"] = "LabelAssignment",
            ["params"] = parameters,
            ["median_s"] = Math.Round(timing.MedianSeconds, 6),
            ["min_s"] = Math.Round(timing.MinSeconds, 6),
            ["runs"] = timing.Runs,
            ["times_s"] = new JsonArray(timing.TimesSeconds.Select(t => (JsonNode)Math.Round(t, 6)).ToArray()),
            ["warmup_s"] = timing.WarmupSeconds is double w ? Math.Round(w, 6) : null,
            ["summary"] = summary,
            ["threads"] = Environment.ProcessorCount,
            ["machine"] = Machine.Describe(),
        };
        if (artifacts is not null)
            record["artifacts"] = artifacts;
        if (anchorId is not null)
            record["anchor_id"] = anchorId;
        _results.Add(record);
        Output.WriteLine(record.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        Output.Flush();
    }
}

/// <summary>What the figures were measured on.</summary>
public static class Machine
{
    private static string? _cpu;

    /// <summary>CPU model, core count, OS and runtime, in one line.</summary>
    public static string Describe()
    {
        _cpu ??= ReadCpuModel();
        return $"{_cpu}; {Environment.ProcessorCount} cores; {System.Runtime.InteropServices.RuntimeInformation.OSDescription}; .NET {Environment.Version}";
    }

    private static string ReadCpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal))
                    return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
