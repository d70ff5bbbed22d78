using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// The full scan's staged product. The nearest rule needs a centre's distance only when it could be within eps, so
/// the int8 product stops reading a centre once its partial score, less the Cauchy-Schwarz bound on the rest of the
/// depth (<see cref="Int8Product.SplitGroups"/>), already puts it beyond eps: on 1,408-dimensional embeddings at eps
/// 0.1 that happens after a quarter of the depth for almost every pair, so most of the table's bytes are never read.
/// Such a pair's score is then +∞ (it can neither be chosen nor be the nearest within eps) and a lower bound on it is
/// kept per item and panel of 16 rows (for a centre that moves later in the chunk). The price is the nearest distance
/// of an item that opens a cluster: a lower bound above eps rather than its exact value
/// (<see cref="NearestCentroidOptions.ExactNearestDistance"/> keeps the exact one and the whole product).
/// </summary>
public sealed partial class NearestCentroidAssigner
{
    /// <summary>One chunk's staged scan: the stops the product made, a lower bound per settled (item, panel), and per
    /// item the least of them; reused across a call's chunks.</summary>
    private sealed class StagedScan
    {
        /// <summary>The splits the product stopped at (indices into <see cref="Int8Product.SplitGroups"/>); empty: it ran whole.</summary>
        public int[] Stages = [];
        /// <summary>Per item: a lane settles when its partial score less slack exceeds this (eps's score plus the item's bound).</summary>
        public float[] Cut = [];
        /// <summary>Per item: the bound (rounded up) subtracted from a settled lane's partial score for a lower bound on its true score.</summary>
        public float[] Error = [];
        /// <summary>m x panels: for a settled (item, panel), a lower bound on the true score of each of its rows; +∞
        /// for the panels an item did not settle.</summary>
        public float[] PanelLower = [];
        public int Panels;
        /// <summary>Whether a full score came out non-finite (then the chunk's bounds hold nothing).</summary>
        public bool NonFinite;
        internal bool[] TaskNonFinite = [];
        /// <summary>The stops this call's pilot chose (null: none yet), and for which eps.</summary>
        internal int[]? Choice;
        internal double ChoiceEps = double.NaN;

        public void Prepare(int m, int n, int tasks)
        {
            Panels = (n + Int8Product.PanelRows - 1) / Int8Product.PanelRows;
            if (Cut.Length < m) { Cut = new float[m]; Error = new float[m]; }
            if (PanelLower.Length < (long)m * Panels) PanelLower = new float[checked(Math.Max(m * Panels, 2 * PanelLower.Length))];
            PanelLower.AsSpan(0, m * Panels).Fill(float.PositiveInfinity);
            if (TaskNonFinite.Length < tasks) TaskNonFinite = new bool[Math.Max(tasks, 2 * TaskNonFinite.Length)];
            TaskNonFinite.AsSpan(0, tasks).Clear();
            NonFinite = false;
        }

        /// <summary>Row <paramref name="j"/>'s lower bound for chunk item <paramref name="i"/> (its score is +∞: settled).</summary>
        public double LowerOf(int i, int j) => PanelLower[i * Panels + j / Int8Product.PanelRows];

        /// <summary>The least lower bound over chunk item <paramref name="i"/>'s settled pairs (+∞: none); asked only
        /// for items that open a cluster.</summary>
        public double SettledMin(int i) => TensorPrimitives.Min(PanelLower.AsSpan(i * Panels, Panels));
    }

    /// <summary>The score of eps, raised by a margin for the rounding of the comparisons against it: the cap on an
    /// item's nearest score when only centres within eps matter.</summary>
    private double EpsCap() => DistanceKernels.ToScore(Tables.Metric, Options.Eps) * (1 + 1e-9);

    /// <summary>Whether this call may report a lower bound for an opened cluster's nearest distance (and so cap scores at eps).</summary>
    private bool CapAtEps => !Options.ExactNearestDistance && !Options.FirstWithinEps;

    /// <summary>The cap on candidates' scores: <see cref="EpsCap"/> where <see cref="CapAtEps"/>, else none (+∞).</summary>
    private double ScoreCap() => CapAtEps ? EpsCap() : double.PositiveInfinity;

    /// <summary>
    /// The int8 scores of a chunk's quantized <paramref name="items"/> against the first <paramref name="n"/> centres,
    /// staged where that pays (<see cref="StagesFor"/>): settled pairs +∞ in <paramref name="scores"/>, their bounds in
    /// <paramref name="scan"/>.
    /// </summary>
    private void StagedScores(Int8Product.Items items, double[] norms, int n, float[] scores, StagedScan scan)
    {
        var t = Tables;
        var index = t.Index;
        var metric = t.Metric;
        int m = items.Count, d = t.Dimension, tasks = Int8Product.TaskCount(n);
        scan.Prepare(m, n, tasks);
        double cap = EpsCap();
        for (int i = 0; i < m; i++)
        {
            double xn = norms[i];
            // The usual bound of a score, its own rounding (scores at most 2 under cosine, (|x| + max |c|)² under
            // euclidean), and the float32 subtraction of the slack.
            double size = metric == DistanceMetric.Cosine ? 2.0 : (xn + index.MaxNorm) * (xn + index.MaxNorm);
            double e = Int8Product.ItemScoreError(metric, xn, items.Residuals[i], index.MaxNorm, index.MaxQuantError, index.MaxQuantErrorOverNorm)
                + 4e-6 * (size + 1);
            if (double.IsNaN(e)) e = double.PositiveInfinity;
            scan.Error[i] = FloatRounding.Up(e);
            scan.Cut[i] = FloatRounding.Up(cap + e); // +∞ settles nothing
        }
        scan.Stages = StagesFor(items, norms, n, scan);
        var sink = new ScanSink(scores, n, scan.Cut, scan.Error, scan.PanelLower, scan.Panels, scan.TaskNonFinite);
        Int8Product.Scores(metric, items, norms, index.Quantized, n, d, sink, scan.Stages);
        for (int k = 0; k < tasks; k++) scan.NonFinite |= scan.TaskNonFinite[k];
    }

    /// <summary>For tests and experiments: the stops every chunk makes instead of the pilot's choice (indices into
    /// <see cref="Int8Product.SplitGroups"/>, ascending; empty: the whole product). Only speed depends on it.</summary>
    internal int[]? StagesOverride { get; set; }

    /// <summary>Items a chunk needs for a pilot of its own; smaller ones (one at a time) take the last choice.</summary>
    private const int PilotMinItems = 64;

    /// <summary>The last pilot's choice and the eps it was made for (a reference swapped whole: predictions under the
    /// read lock may race on it, and only speed depends on it).</summary>
    private volatile StageChoice? _stageChoice;

    private sealed record StageChoice(double Eps, int[] Stages);

    /// <summary>
    /// The splits to stop at: where a far centre's partial score rules it out depends on eps and on the data, and a
    /// stop where nothing settles costs the tile's epilogue, so a pilot (one block of the chunk against every centre,
    /// stopping at every split) measures the share of pairs settled by each split and the list index's cost model
    /// (<see cref="Int8Stages.CheapestStages"/>) picks from it. One pilot per call (its first chunk of at least
    /// <see cref="PilotMinItems"/> items; smaller calls take the assigner's last choice for this eps); the result never
    /// depends on the choice.
    /// </summary>
    private int[] StagesFor(Int8Product.Items items, double[] norms, int n, StagedScan scan)
    {
        var t = Tables;
        int d = t.Dimension;
        if (StagesOverride is { } fixedStages) return fixedStages;
        if (scan.Choice is { } kept && scan.ChoiceEps == Options.Eps) return kept;
        var last = _stageChoice;
        if (last is not null && last.Eps == Options.Eps && items.Count < PilotMinItems) return last.Stages;
        var splits = Int8Product.SplitGroups(d);
        if (splits.Length == 0) return [];
        int p = Math.Min(Int8Product.ItemRows, items.Count), tasks = Int8Product.TaskCount(n);
        var pilot = items.FirstBlock(d); // the chunk's first block, quantized as the chunk is
        var settled = new long[tasks * Int8Product.MaxSplits];
        Int8Product.Scores(t.Metric, pilot, norms[..p], t.Index.Quantized, n, d, new PilotSink(scan.Cut, settled),
            [.. Enumerable.Range(0, splits.Length)]);
        var stages = Int8Stages.CheapestStages(splits, Int8Product.Depth(d) / 4, Int8Stages.SettledBy(settled, tasks, splits.Length, (long)p * scan.Panels));
        _stageChoice = new StageChoice(Options.Eps, stages);
        scan.Choice = stages;
        scan.ChoiceEps = Options.Eps;
        return stages;
    }

    /// <summary>The settled lanes among <paramref name="lanes"/> of 16 partial scores less their slack (two halves):
    /// above the cut and finite (NaN fails both tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SettledLanes(Vector256<float> lower0, Vector256<float> lower1, float cut, uint lanes)
    {
        var c = Vector256.Create(cut);
        var max = Vector256.Create(float.MaxValue);
        uint s0 = (Vector256.GreaterThan(lower0, c) & Vector256.LessThanOrEqual(lower0, max)).ExtractMostSignificantBits();
        uint s1 = (Vector256.GreaterThan(lower1, c) & Vector256.LessThanOrEqual(lower1, max)).ExtractMostSignificantBits();
        return (s0 | (s1 << 8)) & lanes;
    }

    /// <summary>The real rows of a panel of <paramref name="cols"/> as a lane mask.</summary>
    private static uint PanelLanes(int cols) => cols >= Int8Product.PanelRows ? 0xFFFFu : (1u << cols) - 1;

    /// <summary>
    /// Stores the full scores, and settles an (item, panel) when every row of the panel is beyond eps at a stop: +∞
    /// for its scores and the least of its lower bounds for the panel.
    /// </summary>
    private readonly unsafe struct ScanSink(float[] scores, int n, float[] cut, float[] error, float[] panelLower, int panels,
        bool[] taskNonFinite) : Int8Product.IScoreSink
    {
        public void Begin(int task) { }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void TakeTile(int task, int i0, uint open, int j0, int cols, float* tile)
        {
            bool bad = false;
            var max = Vector256.Create(float.MaxValue);
            for (; open != 0; open &= open - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(open);
                float* row = tile + r * Int8Product.PanelRows;
                new ReadOnlySpan<float>(row, cols).CopyTo(scores.AsSpan((int)((long)(i0 + r) * n + j0), cols));
                // NaN fails both comparisons; padding lanes (past cols) score finite values.
                uint ok = (Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Load(row)), max).ExtractMostSignificantBits()
                    | (Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Load(row + 8)), max).ExtractMostSignificantBits() << 8));
                uint lanes = PanelLanes(cols);
                bad |= (ok & lanes) != lanes;
            }
            if (bad) taskNonFinite[task] = true;
        }

        public uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* partial, float* slack)
        {
            uint still = 0;
            uint lanes = PanelLanes(cols);
            var inf = Vector256.Create(float.PositiveInfinity);
            for (uint left = open; left != 0; left &= left - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(left), i = i0 + r;
                float* p = partial + r * Int8Product.PanelRows, q = slack + r * Int8Product.PanelRows;
                var l0 = Vector256.Load(p) - Vector256.Load(q);
                var l1 = Vector256.Load(p + 8) - Vector256.Load(q + 8);
                if (SettledLanes(l0, l1, cut[i], lanes) != lanes) { still |= 1u << r; continue; }
                if (lanes != 0xFFFFu)
                {
                    // Padding lanes take +∞ before the minimum (their values are not rows').
                    l0 = Vector256.ConditionalSelect(LaneMask(lanes, 0), l0, inf);
                    l1 = Vector256.ConditionalSelect(LaneMask(lanes, 8), l1, inf);
                }
                var both = Vector256.Min(l0, l1);
                var half = Vector128.Min(both.GetLower(), both.GetUpper());
                half = Vector128.Min(half, Vector128.Shuffle(half, Vector128.Create(2, 3, 0, 1)));
                half = Vector128.Min(half, Vector128.Shuffle(half, Vector128.Create(1, 0, 3, 2)));
                // error[i] is rounded up, and one step down covers the float32 subtraction's rounding.
                panelLower[i * panels + j0 / Int8Product.PanelRows] = MathF.BitDecrement(half.ToScalar() - error[i]);
                ref float at = ref scores[(int)((long)i * n + j0)];
                if (cols == Int8Product.PanelRows)
                {
                    inf.StoreUnsafe(ref at);
                    inf.StoreUnsafe(ref at, 8);
                }
                else scores.AsSpan((int)((long)i * n + j0), cols).Fill(float.PositiveInfinity);
            }
            return still;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> LaneMask(uint lanes, int from) =>
            Vector256.GreaterThan(Vector256.Create((int)(lanes >> from) & 0xFF) & Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128), Vector256<int>.Zero).AsSingle();
    }

    /// <summary>The pilot's sink: per task and split, the (item, panel) pairs every row of which is beyond eps there (they
    /// settle, as in the chunk's product, so each counts once, at the first split that settles it).</summary>
    private readonly unsafe struct PilotSink(float[] cut, long[] settled) : Int8Product.IScoreSink
    {
        public void Begin(int task) { }

        public void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores) { }

        public uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* partial, float* slack)
        {
            uint still = 0;
            uint lanes = PanelLanes(cols);
            for (uint left = open; left != 0; left &= left - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(left);
                float* p = partial + r * Int8Product.PanelRows, q = slack + r * Int8Product.PanelRows;
                if (SettledLanes(Vector256.Load(p) - Vector256.Load(q), Vector256.Load(p + 8) - Vector256.Load(q + 8), cut[i0 + r], lanes) != lanes)
                    still |= 1u << r;
            }
            settled[task * Int8Product.MaxSplits + split] += System.Numerics.BitOperations.PopCount(open & ~still);
            return still;
        }
    }

    /// <summary>
    /// A lower bound on the score of a changed row c = α·base + Σ β·x_q (α, β ≥ 0: running means) whose base pair was
    /// settled by the staged product, from the base's lower bound <paramref name="baseLower"/> (so an upper bound on
    /// the base's dot) and the Gram scores; no upper bound (+∞).
    /// </summary>
    private static (double Lo, double Hi) SettledChangedRowBounds(DistanceMetric metric, double factor, double xn, double baseNorm,
        double baseLower, double alpha, List<(int Item, double Beta)>? terms, ReadOnlySpan<float> gramRow, double[] chunkNorms, double cn)
    {
        if (!(alpha >= 0) || double.IsNaN(baseLower)) return (double.NegativeInfinity, double.PositiveInfinity);
        double baseDot = metric == DistanceMetric.Cosine
            ? (baseNorm == 0 ? 0 : xn * baseNorm * (1 - baseLower))
            : (xn * xn + baseNorm * baseNorm - baseLower) / 2;
        double dot = alpha * baseDot, err = 0, size = Math.Abs(alpha * baseDot);
        if (terms is not null)
            foreach (var (q, beta) in terms)
            {
                if (!(beta >= 0)) return (double.NegativeInfinity, double.PositiveInfinity);
                var (mq, rq) = DotInterval(metric, xn, chunkNorms[q], gramRow[q], DistanceKernels.ScoreError(metric, factor, xn, chunkNorms[q], gramRow[q]));
                dot += beta * (mq + rq);
                size += Math.Abs(beta * mq) + beta * rq;
            }
        err += 1e-9 * (size + xn * cn) + 1e-300;
        if (!double.IsFinite(dot) || !double.IsFinite(err)) return (double.NegativeInfinity, double.PositiveInfinity);
        if (metric == DistanceMetric.Cosine)
        {
            if (cn == 0 || xn == 0) return (double.NegativeInfinity, double.PositiveInfinity);
            return (1 - (dot + err) / (xn * cn), double.PositiveInfinity);
        }
        double sq = xn * xn + cn * cn;
        return (sq - 2 * (dot + err) - 1e-9 * sq, double.PositiveInfinity);
    }

    /// <summary>
    /// For an item that opens a cluster while scores were capped at eps: a lower bound on its nearest distance, above
    /// eps. Every centre has a certificate: a settled pair's bound (<paramref name="settledMin"/> is the least), a
    /// finite int8 score's lower bound when that is beyond eps and its exact distance otherwise, and likewise a changed
    /// row's bound (<paramref name="extraRows"/>); <paramref name="measured"/> is the least exact distance already known.
    /// </summary>
    private double OpenerLowerBound(ReadOnlySpan<float> x, double xn, ReadOnlySpan<float> scores, double residual, double settledMin,
        ReadOnlySpan<int> extraRows, ReadOnlySpan<double> extraLo, double measured, List<int> buffer)
    {
        var t = Tables;
        var metric = t.Metric;
        var index = t.Index;
        var norms = index.Norms;
        var errors = index.Quantized.Errors;
        double thr = DistanceKernels.ToScore(metric, Options.Eps);
        double lowScore = settledMin, lowDistance = measured;
        Screening.CollectAtMost(scores, float.MaxValue, buffer); // the finite scores: rows neither settled nor changed
        foreach (int j in buffer)
        {
            float s = scores[j];
            double lo = s - Int8Product.RowScoreError(metric, xn, residual, norms[j], errors[j]) - 1e-6 * (Math.Abs(s) + 1.0);
            if (lo > thr) lowScore = Math.Min(lowScore, lo);
            else lowDistance = Math.Min(lowDistance, DistanceKernels.Distance(metric, x, xn, t.CentreRowSpan(j), t.CentreNorm(j)));
        }
        for (int e = 0; e < extraRows.Length; e++)
        {
            if (extraLo[e] > thr) lowScore = Math.Min(lowScore, extraLo[e]);
            else lowDistance = Math.Min(lowDistance, DistanceKernels.Distance(metric, x, xn, t.CentreRowSpan(extraRows[e]), t.CentreNorm(extraRows[e])));
        }
        double fromScore = metric == DistanceMetric.Cosine ? lowScore : Math.Sqrt(Math.Max(lowScore, 0));
        return Math.Min(lowDistance, fromScore);
    }
}
