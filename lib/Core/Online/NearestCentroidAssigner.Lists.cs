using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>The nearest-centroid rule through the exact within-eps list index (<see cref="CentreLists"/>), for large tables.</summary>
public sealed partial class NearestCentroidAssigner
{
    /// <summary>Items per chunk of the list path: its state per item is a short candidate list, so chunks can be
    /// large enough for the centroid product to block well.</summary>
    private const int ListChunkRows = 512;

    /// <summary>One item's centres that may lie within eps, found against the tables as they were at its chunk's
    /// start: their exact distances, and a lower bound on the distance to every other centre.</summary>
    private sealed class ListCandidates
    {
        public int[] Rows = [];
        public double[] Distances = [];
        public double Lower = double.PositiveInfinity;
        public int[] ProbedLists = [];
        /// <summary>The item's float32 dots with the probed lists' centroids (the ring test of a changed row uses them).</summary>
        public float[] ProbedDots = [];
        /// <summary>The list with the nearest centroid: where a centre the item opens goes.</summary>
        public int NearestList;
        public int Probed => ProbedLists.Length;
    }

    /// <summary>
    /// Screens items [start, start + m) through the lists, in parallel, from the chunk's ball test against the list
    /// centroids (in <paramref name="scratch"/>, from <see cref="ListsPay"/>): for each item the ring test on the
    /// members of the lists it probes, the int8 copy, the float32 row, and exact float64 distances for what may be
    /// within eps.
    /// </summary>
    private ListCandidates[] ListScreen(CentreLists lists, float[] data, int start, int m, double[] norms, ListScratch scratch)
    {
        int d = Tables.Dimension;
        var result = new ListCandidates[m];
        var screen = scratch.Screen;
        if (m == 1)
        {
            result[0] = ListScreenOne(lists, data.AsSpan(start * d, d), norms[start], screen, 0, new Lists());
            return result;
        }
        Parallel.For(0, m, () => new Lists(), (i, _, scratchLists) =>
        {
            result[i] = ListScreenOne(lists, data.AsSpan((start + i) * d, d), norms[start + i], screen, i, scratchLists);
            return scratchLists;
        }, _ => { });
        return result;
    }

    /// <summary>Per-thread scratch of <see cref="ListScreenOne"/>.</summary>
    private sealed class Lists
    {
        public readonly List<int> Rows = [], Probed = [];
        public readonly List<float> Dots = [];
    }

    private ListCandidates ListScreenOne(CentreLists lists, ReadOnlySpan<float> x, double xn, CentreLists.ChunkScreen screen, int item,
        Lists scratch)
    {
        var t = Tables;
        var metric = t.Metric;
        var index = t.Index;
        var quant = index.Quantized;
        var quantErr = quant.Errors;
        var norms = index.Norms;
        var data = index.Rows;
        int d = t.Dimension;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d), thr = DistanceKernels.ToScore(metric, eps);
        var rows = scratch.Rows;
        double lower = lists.Probe(x, xn, screen, item, eps, rows, scratch.Probed, scratch.Dots);
        int nearestList = screen.NearestList[item];
        PrefetchRows(quant.Values, rows, d);
        var keptRows = new List<int>();
        var keptDistances = new List<double>();
        foreach (int j in rows)
        {
            double cn = norms[j];
            // The int8 copy first (a quarter of float32's bytes: scattered rows are bound by memory traffic), then
            // the float32 row, each with its error bound; exact float64 only for rows neither rules out.
            float s8 = DistanceKernels.ScoreFromDot(metric, quant.Dot(x, j), xn, cn);
            double e8 = DistanceKernels.QuantizedScoreError(metric, quantErr[j], xn, cn, s8);
            if (RulesOut(metric, s8, e8, thr, ref lower)) continue;
            float s32 = DistanceKernels.ScoreFromDot(metric, TensorPrimitives.Dot(x, data.AsSpan(j * d, d)), xn, cn);
            double e32 = DistanceKernels.ScoreError(metric, factor, xn, cn, s32);
            if (RulesOut(metric, s32, e32, thr, ref lower)) continue;
            keptRows.Add(j);
            keptDistances.Add(DistanceKernels.Distance(metric, x, xn, t.CentreRowSpan(j), cn));
        }
        return new ListCandidates
        {
            Rows = [.. keptRows], Distances = [.. keptDistances], Lower = lower, NearestList = nearestList,
            ProbedLists = [.. scratch.Probed], ProbedDots = [.. scratch.Dots],
        };
    }

    /// <summary>Whether a screening score with its error bound puts a row beyond eps (score threshold
    /// <paramref name="thr"/>); if so, lowers <paramref name="lower"/> to the distance its lower bound stands for.</summary>
    private static bool RulesOut(DistanceMetric metric, float score, double error, double thr, ref double lower)
    {
        if (!float.IsFinite(score) || !double.IsFinite(error) || score - error <= thr) return false;
        double low = score - error;
        lower = Math.Min(lower, metric == DistanceMetric.Cosine ? Math.Max(0, low) : Math.Sqrt(Math.Max(0, low)));
        return true;
    }

    /// <summary>
    /// Asks for every candidate's int8 row at once: the rows lie scattered in the table (a random 512-byte row costs
    /// about 0.35 µs from memory against 65 ns in cache), and read one after another each waits for its own misses.
    /// Only timing depends on it.
    /// </summary>
    private static unsafe void PrefetchRows(sbyte[] values, List<int> rows, int d)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || rows.Count < 2) return;
        fixed (sbyte* p = values)
            foreach (int j in rows)
            {
                sbyte* row = p + (long)j * d;
                for (int k = 0; k < d; k += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch1(row + k);
            }
    }

    /// <summary>
    /// Keeps the nearest row (lowest row on ties) and the first row within eps among the rows offered: the rule's
    /// two answers, as the full scan finds them.
    /// </summary>
    private struct ListChoice(double eps)
    {
        public int Best = -1, First = -1;
        public double BestDistance = double.PositiveInfinity, FirstDistance = double.PositiveInfinity;

        public void Offer(int row, double distance)
        {
            if (distance < BestDistance || (distance == BestDistance && row < Best)) { BestDistance = distance; Best = row; }
            if (distance <= eps && (First < 0 || row < First)) { First = row; FirstDistance = distance; }
        }
    }

    /// <summary>The decision from a choice and the lower bound on every row not offered: (row, distance, nearest distance).</summary>
    private (int Chosen, double ChosenDistance, double NearestDistance) Decision(in ListChoice c, double lower)
    {
        double eps = Options.Eps;
        double nearD = c.BestDistance <= eps ? c.BestDistance : Math.Min(c.BestDistance, lower);
        if (Options.FirstWithinEps)
            return c.First >= 0 ? (c.First, c.FirstDistance, nearD) : (-1, double.PositiveInfinity, nearD);
        return c.BestDistance <= eps ? (c.Best, c.BestDistance, nearD) : (-1, double.PositiveInfinity, nearD);
    }

    /// <summary>Scratch of the list path, kept across the chunks of one call.</summary>
    private sealed class ListScratch
    {
        public readonly CentreLists.ChunkScreen Screen = new();
        public bool[] Dirty = [];
        /// <summary>Per centre opened in the current chunk: the chunk item that opened it, and whether one has joined it since.</summary>
        public int[] OpenedBy = [];
        public bool[] OpenedMoved = [];
        /// <summary>The current chunk's scores against itself (<see cref="DistanceKernels.LowerGram"/>).</summary>
        public float[] Gram = [];
        public readonly List<int> DirtyRows = [];
        public int Fresh = -1;
    }

    /// <summary>
    /// Whether the lists pay for items [start, start + m): they do unless the lists whose ball comes within eps hold,
    /// on average over the chunk, more than 1/<see cref="ListPayDivisor"/> of the table (a large eps on clustered
    /// data), where the full scan's blocked product reads the table faster than scattered rows are read. Both paths
    /// are exact, so the choice only affects speed. Screens the chunk against the list centroids.
    /// </summary>
    private bool ListsPay(CentreLists lists, float[] data, int start, int m, double[] norms, ListScratch scratch)
    {
        int d = Tables.Dimension;
        lists.Screen(data.AsSpan(start * d, m * d), m, norms.AsSpan(start, m), Options.Eps, scratch.Screen);
        return ForceLists || scratch.Screen.ProbedMembers <= m * (long)Tables.ClusterCount / ListPayDivisor;
    }

    /// <summary>Always take the lists where the tables enable them (tests: on small tables the full scan would win).</summary>
    internal bool ForceLists { get; set; }

    /// <summary>The share of the table (1/this) above which a chunk scans every centre instead of the lists.</summary>
    private const int ListPayDivisor = 16;

    /// <summary>Predictions for items [start, start + m) through the lists (nothing changes between items); false,
    /// with nothing done, when the lists do not pay for this chunk.</summary>
    private bool PredictListChunk(CentreLists lists, IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings, double[] norms,
        Assignment[] results, int start, int m, ListScratch scratch)
    {
        var t = Tables;
        if (!ListsPay(lists, embeddings.Data, start, m, norms, scratch)) return false;
        var pre = ListScreen(lists, embeddings.Data, start, m, norms, scratch);
        for (int i = 0; i < m; i++)
        {
            var c = new ListChoice(Options.Eps);
            for (int k = 0; k < pre[i].Rows.Length; k++) c.Offer(pre[i].Rows[k], pre[i].Distances[k]);
            var (chosen, chosenD, nearD) = Decision(c, pre[i].Lower);
            ListsProbed += pre[i].Probed;
            if (chosen >= 0)
                results[start + i] = new Assignment(itemIds[start + i], t.ClusterIdAtRow(chosen), chosenD, false, nearD);
            else
            {
                // The ID an item that opens a cluster would get: the same for every item, nothing is issued.
                if (scratch.Fresh < 0) scratch.Fresh = t.Allocator.Peek();
                results[start + i] = new Assignment(itemIds[start + i], scratch.Fresh, 0.0, true, nearD);
            }
        }
        return true;
    }

    /// <summary>
    /// Commits items [start, start + m) through the lists (false, with nothing done, when the lists do not pay for this
    /// chunk): the chunk is screened against the tables as at its start, in parallel; then its items are decided in
    /// order. A row moved or opened by an earlier item of the chunk is re-tested against its current ring (the list
    /// centroids do not move, so the chunk's centroid dots still hold) and measured exactly if it passes; every
    /// other row keeps its screened answer. So each decision is the full scan's over the tables as the previous
    /// item left them.
    /// </summary>
    private bool AssignListChunk(CentreLists lists, IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings, double[] norms,
        Assignment[] results, int start, int m, ListScratch scratch)
    {
        var t = Tables;
        int d = t.Dimension, n0 = t.ClusterCount;
        double eps = Options.Eps;
        if (!ListsPay(lists, embeddings.Data, start, m, norms, scratch)) return false;
        if (scratch.Dirty.Length < n0) scratch.Dirty = new bool[Math.Max(n0, 2 * scratch.Dirty.Length)];
        var dirty = scratch.Dirty;
        var dirtyRows = scratch.DirtyRows;
        var pre = ListScreen(lists, embeddings.Data, start, m, norms, scratch);
        double reach = lists.Reach(eps);
        // A centre opened in this chunk is, until an item joins it, the item that opened it: the chunk's Gram scores
        // (blocked products, in parallel) test it against every later item, where the ring test would read a list
        // centroid per pair in the serial loop below.
        var chunkNorms = norms[start..(start + m)];
        if (scratch.Gram.Length < m * m) scratch.Gram = new float[m * m];
        var gram = scratch.Gram;
        if (m > 1) DistanceKernels.LowerGram(t.Metric, embeddings.Data.AsSpan(start * d, m * d), m, chunkNorms, d, gram);
        if (scratch.OpenedBy.Length < m) { scratch.OpenedBy = new int[m]; scratch.OpenedMoved = new bool[m]; }
        var openedBy = scratch.OpenedBy;
        var openedMoved = scratch.OpenedMoved;
        double factor = DistanceKernels.DotErrorFactor(d), thr = DistanceKernels.ToScore(t.Metric, eps);
        for (int i = 0; i < m; i++)
        {
            int item = start + i;
            var x = embeddings.Data.AsSpan(item * d, d);
            double xn = norms[item], lower = pre[i].Lower;
            var c = new ListChoice(eps);
            var p = pre[i];
            for (int k = 0; k < p.Rows.Length; k++)
                if (!dirty[p.Rows[k]]) c.Offer(p.Rows[k], p.Distances[k]);
            // Rows changed since the screening: moved ones, then those opened in this chunk.
            foreach (int j in dirtyRows) OfferChanged(lists, j, x, xn, scratch.Screen, p, reach, ref c, ref lower);
            for (int j = n0; j < t.ClusterCount; j++)
            {
                if (!openedMoved[j - n0] && xn > 0)
                {
                    int q = openedBy[j - n0];
                    float s = gram[i * m + q];
                    if (RulesOut(t.Metric, s, DistanceKernels.ScoreError(t.Metric, factor, xn, chunkNorms[q], s), thr, ref lower)) continue;
                }
                OfferChanged(lists, j, x, xn, scratch.Screen, p, reach, ref c, ref lower);
            }
            var (chosen, chosenD, nearD) = Decision(c, lower);
            ListsProbed += p.Probed;
            long id = itemIds[item];
            if (chosen >= 0)
            {
                t.JoinCluster(id, x, chosen);
                if (chosen < n0 && !dirty[chosen]) { dirty[chosen] = true; dirtyRows.Add(chosen); }
                if (chosen >= n0) openedMoved[chosen - n0] = true;
                results[item] = new Assignment(id, t.ClusterIdAtRow(chosen), chosenD, false, nearD);
            }
            else
            {
                int r = t.OpenCluster(id, x, p.NearestList);
                openedBy[r - n0] = i;
                openedMoved[r - n0] = false;
                results[item] = new Assignment(id, t.ClusterIdAtRow(r), 0.0, true, nearD);
            }
        }
        foreach (int j in dirtyRows) dirty[j] = false;
        dirtyRows.Clear();
        return true;
    }

    /// <summary>Offers a row changed since the chunk's screening, when its current ring does not rule it out.</summary>
    private void OfferChanged(CentreLists lists, int row, ReadOnlySpan<float> x, double xn, CentreLists.ChunkScreen screen,
        ListCandidates screened, double reach, ref ListChoice choice, ref double lower)
    {
        if (!lists.MayHold(row, x, xn, screen, screened.ProbedLists, screened.ProbedDots, reach, out double bound))
        {
            lower = Math.Min(lower, bound);
            return;
        }
        choice.Offer(row, DistanceKernels.Distance(Tables.Metric, x, xn, Tables.CentreRowSpan(row), Tables.CentreNorm(row)));
    }
}
