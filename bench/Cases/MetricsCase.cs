using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Metrics;
using LabelAssignment.IO;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// ARI and AMI on the anchor's label pairs <c>&lt;stem&gt;_pairs_k{K}.npy</c> (int32 [2, n], next to X), as
/// anchor_bench.py's "metrics" case: ids <c>metrics/ari/k=K</c> and <c>metrics/ami/k=K</c>, summary {"value"}.
/// Each timed call starts from the two label arrays (the contingency table is built inside), as sklearn's does.
/// Option <c>--metric-ks</c> (default "100,5000").
/// </summary>
public sealed class MetricsCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "metrics";

    /// <inheritdoc/>
    public string Description => "ARI / AMI on <stem>_pairs_k{K}.npy for K in --metric-ks (default 100,5000)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["metric-ks"] = "10" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        int n = context.X.Count;
        foreach (int k in ParseKs(context.Option("metric-ks", "100,5000")))
        {
            if (k > n)
            {
                Console.Error.WriteLine($"  metrics/k={k} skipped: k > n={n}");
                continue;
            }
            string path = Path.Combine(context.DataFolder, $"{context.Stem}_pairs_k{k}.npy");
            if (!File.Exists(path))
            {
                // anchor_bench.py can generate missing pairs with numpy's generator; we cannot reproduce that
                // stream, so the pairs must come from make_data.py (bench/compare.sh runs it first).
                Console.Error.WriteLine($"  metrics/k={k} skipped: {path} missing (run ../shared/anchors/make_data.py)");
                continue;
            }
            var pairs = Npy.ReadInt32Array(path);
            if (pairs.Shape is not [2, var m] || m != n)
                throw new InvalidDataException(
                    $"{path}: shape ({string.Join(", ", pairs.Shape)}); expected (2, {n}) to match {context.XPath}.");
            int[] a = pairs.Data[..n], b = pairs.Data[n..];
            var table = ContingencyTable.Build(a, b);
            JsonObject Common() => new()
            {
                ["n"] = n,
                ["k"] = k,
                ["input"] = path,
                ["distinct_a"] = table.RowCount,
                ["distinct_b"] = table.ColumnCount,
            };

            var (ari, timing) = context.Measure(() => ClusteringMetrics.AdjustedRandIndex(a, b));
            context.Record($"metrics/ari/k={k}", Name, Common(), timing, new JsonObject { ["value"] = ari });

            var (ami, amiTiming) = context.Measure(() => ClusteringMetrics.AdjustedMutualInformation(a, b));
            var parameters = Common();
            parameters["average_method"] = "arithmetic";
            context.Record($"metrics/ami/k={k}", Name, parameters, amiTiming, new JsonObject { ["value"] = ami });
        }
    }

    private static List<int> ParseKs(string text)
    {
        var ks = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1)
                throw new ArgumentException($"--metric-ks '{text}': '{part}' is not a cluster count >= 1; expected e.g. 100,5000.");
            ks.Add(k);
        }
        return ks;
    }
}
