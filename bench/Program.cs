using LabelAssignment.Bench;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelAssignment.IO;

// The benchmark harness. Two commands:
//   run X.npy [--cases a,b] [--skip c] [--repeats 3] [--out FILE] [--<case option> VALUE ...]
//       times the library on one embedding file, prints one JSON object per case, writes them all to FILE
//       (default: <X without .npy>.dotnet.json).
//   compare OURS.json ANCHORS.json
//       joins our records with anchor_bench.py's by case id and prints time ratios (ours / theirs) and agreement.
//   list
//       prints the case names, one per line (bench/compare.sh uses it).
// bench/compare.sh runs both sides on the same files in one go.

var cases = typeof(IBenchCase).Assembly.GetTypes()
    .Where(t => typeof(IBenchCase).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchCase)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: bench run X.npy [--cases a,b] [--skip c] [--repeats N] [--out FILE] [--option value ...]");
    Console.WriteLine("       bench compare OURS.json ANCHORS.json [ANCHORS2.json ...]");
    Console.WriteLine("       bench list");
    Console.WriteLine("run options: --artifacts DIR (our reference outputs), --anchor-artifacts DIR (anchor_bench.py's),");
    Console.WriteLine("             --warmup-seconds 3 (each case first runs on a small data set for up to this long)");
    Console.WriteLine("cases:");
    foreach (var c in cases) Console.WriteLine($"  {c.Name,-10} {c.Description}");
    return 0;
}

try
{
    return args[0] switch
    {
        "run" => Run(args[1..]),
        "compare" => Compare.Print(args[1..], Console.Out),
        "list" => List(),
        _ => throw new ArgumentException($"unknown command '{args[0]}'; expected 'run', 'compare' or 'list' (see --help)."),
    };
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or FileNotFoundException)
{
    Console.Error.WriteLine($"bench: {e.Message}");
    return 2;
}

// Every case first runs on a small data set, repeatedly: tiered compilation optimises a method only after about 30
// calls, so without this the first case in a process is timed partly on unoptimised code (0.37-0.46 s instead of
// 0.14 s for the first DBSCAN case on held-out data). Up to 30 rounds or `seconds`, at least one.
static string WarmUp(IBenchCase c, BenchContext context, string folder, double seconds)
{
    var small = context.ForWarmUp(Path.Combine(folder, c.Name), c.WarmUpOptions(Path.Combine(folder, c.Name)));
    var clock = System.Diagnostics.Stopwatch.StartNew();
    int rounds = 0;
    do { c.Run(small); rounds++; } while (rounds < 30 && clock.Elapsed.TotalSeconds < seconds);
    Thread.Sleep(200); // let the background compiler finish the optimised code
    return $"{rounds} round(s) on {small.X.Count} rows in {clock.Elapsed.TotalSeconds:F1} s";
}

int List()
{
    foreach (var c in cases) Console.WriteLine(c.Name);
    return 0;
}

int Run(string[] rest)
{
    if (rest.Length == 0 || rest[0].StartsWith("--", StringComparison.Ordinal))
        throw new ArgumentException("run needs the embedding file first: bench run X.npy [options].");
    string xPath = rest[0];
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 1; i < rest.Length; i++)
    {
        if (!rest[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= rest.Length)
            throw new ArgumentException($"option '{rest[i]}' needs the form --name value.");
        options[rest[i][2..]] = rest[++i];
    }
    var selected = options.TryGetValue("cases", out var names)
        ? names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        : cases.Select(c => c.Name).ToArray();
    var skip = options.TryGetValue("skip", out var skipNames)
        ? skipNames.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet()
        : [];
    var unknown = selected.Concat(skip).Where(n => cases.All(c => c.Name != n)).ToList();
    if (unknown.Count > 0)
        throw new ArgumentException($"unknown case(s) {string.Join(", ", unknown)}; choose from {string.Join(", ", cases.Select(c => c.Name))}.");
    string repeatsText = options.GetValueOrDefault("repeats", "3");
    if (!int.TryParse(repeatsText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int repeats) || repeats < 1)
        throw new ArgumentException($"--repeats {repeatsText}: expected a whole number >= 1.");

    string outPath = options.GetValueOrDefault("out",
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(xPath))!, Path.GetFileNameWithoutExtension(xPath) + ".dotnet.json"));
    string artifacts = options.GetValueOrDefault("artifacts",
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFileNameWithoutExtension(outPath) + ".artifacts"));

    var x = Npy.ReadMatrix(xPath);
    Console.Error.WriteLine($"{xPath}: n={x.Count} d={x.Dimension}; {Machine.Describe()}");
    var context = new BenchContext { XPath = xPath, X = x, Options = options, Repeats = repeats, ArtifactsFolder = artifacts };
    double warmUpSeconds = double.Parse(options.GetValueOrDefault("warmup-seconds", "3"), System.Globalization.CultureInfo.InvariantCulture);
    string warmFolder = Directory.CreateTempSubdirectory("labelassignment-bench-warmup-").FullName;
    try
    {
        foreach (var c in cases.Where(c => selected.Contains(c.Name) && !skip.Contains(c.Name)))
        {
            Console.Error.WriteLine($"[{c.Name}] warm-up: {WarmUp(c, context, warmFolder, warmUpSeconds)}");
            c.Run(context);
        }
    }
    finally
    {
        try { Directory.Delete(warmFolder, recursive: true); } catch (IOException) { }
    }
    var report = new JsonObject
    {
        ["tool"] = "LabelAssignment.Bench",
        ["input"] = new JsonObject { ["x"] = Path.GetFullPath(xPath), ["shape"] = new JsonArray(x.Count, x.Dimension) },
        ["machine"] = Machine.Describe(),
        ["version"] = Assembly.GetExecutingAssembly().GetName().Version?.ToString(),
        ["results"] = new JsonArray(context.Results.Select(r => (JsonNode)r.DeepClone()).ToArray()),
    };
    AtomicFile.WriteAllText(outPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    Console.Error.WriteLine($"wrote {outPath}");
    return 0;
}
