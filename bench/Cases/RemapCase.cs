using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Ids;
using LabelAssignment.Remapping;
using LabelAssignment.IO;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Remapping by sample overlap on the anchor label pairs <c>&lt;stem&gt;_pairs_k{K}.npy</c> (row 0 = yesterday, row 1 =
/// the same items with 20% reassigned). Today's labels are additionally permuted (as a fresh clustering run would
/// number them), so the remap has to find the permutation back. Two scenarios: the same items on both days (the
/// article's experiment), and 10% of yesterday's items gone with 10% new items today.
/// </summary>
public sealed class RemapCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "remap";

    /// <inheritdoc/>
    public string Description => "LabelRemapper.ByOverlap on <stem>_pairs_k{K}.npy (options --remap-ks, default 100,5000; --remap-thresholds, default 0.95,0.5)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["remap-ks"] = "10" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        var thresholds = context.Option("remap-thresholds", "0.95,0.5")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        foreach (string ks in context.Option("remap-ks", "100,5000").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string path = Path.Combine(context.DataFolder, $"{context.Stem}_pairs_k{ks}.npy");
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"remap/k={ks}: skipped, {path} missing");
                continue;
            }
            var pairs = Npy.ReadInt32Array(path);
            if (pairs.Shape.Length != 2 || pairs.Shape[0] != 2)
                throw new InvalidDataException($"{path}: shape [{string.Join(", ", pairs.Shape)}], expected [2, n].");
            int n = pairs.Shape[1];
            var yesterday = pairs.Data.AsSpan(0, n).ToArray();
            var rng = new Random(42);
            int maxLabel = pairs.Data.Max() + 1;
            var perm = Enumerable.Range(0, maxLabel).ToArray();
            rng.Shuffle(perm);
            var today = pairs.Data.AsSpan(n, n).ToArray().Select(l => perm[l]).ToArray();
            long[] ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
            // Churn: the first 10% of items are gone today; 10% new items arrive with labels of their own.
            int churn = n / 10;
            long[] newIds = [.. ids[churn..], .. Enumerable.Range(n, churn).Select(i => (long)i)];
            int[] newLabels = [.. today[churn..], .. Enumerable.Range(0, churn).Select(_ => perm[rng.Next(maxLabel)])];
            foreach (double t in thresholds)
            {
                var options = new RemappingOptions { OverlapThreshold = t };
                string tt = t.ToString(CultureInfo.InvariantCulture);
                // The article's experiment: the same items on both days.
                Record(context, $"remap/overlap/k={ks}/t={tt}/same-items", ids, yesterday, ids, today, options, n);
                Record(context, $"remap/overlap/k={ks}/t={tt}/churn10", ids, yesterday, newIds, newLabels, options, n);
            }
        }
    }

    private void Record(BenchContext context, string id, long[] oldIds, int[] oldLabels, long[] newIds, int[] newLabels, RemappingOptions options, int n)
    {
        // The two Labelings are built inside the timing: their validation and id index are work the array overload did.
        var (r, timing) = context.Measure(() => LabelRemapper.ByOverlap(new Labeling(oldIds, oldLabels), new Labeling(newIds, newLabels), options));
        var summary = new JsonObject
        {
            ["old_clusters"] = r.OldIds.Length,
            ["new_clusters"] = r.FinalIdByLabel.Count,
            ["kept"] = r.KeptIds.Length,
            ["created"] = r.CreatedIds.Length,
            ["retired"] = r.RetiredIds.Length,
            ["match_rate"] = Math.Round(r.MatchRate(new Labeling(oldIds, oldLabels), new Labeling(newIds, newLabels)), 6),
        };
        context.Record(id, Name, new JsonObject { ["n"] = n, ["threshold"] = options.OverlapThreshold, ["measure"] = "overlap" }, timing, summary);
    }
}
