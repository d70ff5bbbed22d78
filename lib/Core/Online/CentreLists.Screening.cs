using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// The screening of a chunk of items against the list centroids and the ball test on its scores, fused: the int8
/// product hands each item's scores against 16 lists to <see cref="BallSink"/> as it makes them, so the m x lists
/// score matrix (42 MB for 512 items at 2 x 10^4 lists) is never written and read back, and only what the later steps
/// need is kept per item: the lists it probes, a lower bound over the lists it skips, its nearest centroid. The
/// product is staged: after half and three quarters of the depth it asks whether the partial scores, less the
/// Cauchy-Schwarz bound on the rest, already rule a tile's lists out; at 10^5 lists of 512-dimensional groups 90% of
/// them are settled at half the depth and 9% at three quarters, so the tails of most centroids are never read.
/// </summary>
internal sealed partial class CentreLists
{
    /// <summary>What <see cref="Screen"/> found for a chunk of items; kept by the caller and reused across chunks (one
    /// call's scratch: not shared between calls; the product's tasks write only their own slots).</summary>
    internal sealed class ChunkScreen
    {
        /// <summary>Items screened, and the list count at the screening (lists opened later have no entry).</summary>
        public int Items, Lists;

        /// <summary>The lists item i probes (its ball test did not rule them out), ascending:
        /// Probed[ProbedStart[i] .. ProbedStart[i + 1]).</summary>
        public int[] ProbedStart = [], Probed = [];

        /// <summary>Per item, a lower bound on |p(x) - p(c)| for every centre c of the lists it skips (+∞ when it skips
        /// none), rounding included: √(min over those lists of the bound on |p(x) - g|²) less the widest radius, and
        /// never below the eps radius (each of them passed a test that puts it beyond).</summary>
        public double[] SkippedBound = [];

        /// <summary>Per item, the list whose centroid looks nearest (where a centre it opens goes: only speed depends on it).</summary>
        public int[] NearestList = [];

        /// <summary>Every list's radius (rounded up) as the ball test saw it: a member whose ring is still within it stays
        /// ruled out for an item that skipped its list, whatever the list's radius grew to later.</summary>
        public float[] RadiusAtScreen = [];

        /// <summary>Per list (padded by a panel), the ball test as a threshold on a lower bound L of the score: skipped
        /// when L exceeds it (A + B·L &gt; (R + reach)², solved for L in float64 and rounded up).</summary>
        internal float[] SkipAbove = [];

        /// <summary>Members of the probed lists summed over the items: what the ring tests will read.</summary>
        public long ProbedMembers;

        /// <summary>(item, panel of 16 lists) pairs the staged product settled at each split of
        /// <see cref="Int8Product.SplitGroups"/> (zero at the splits it did not stop at), and all pairs: what share of
        /// the product's depth the screening read.</summary>
        public long[] Settled = new long[MaxSplits];
        public long Pairs;

        /// <summary>The splits the product stopped at (indices into <see cref="Int8Product.SplitGroups"/>).</summary>
        public int[] Stages = [];

        internal const int MaxSplits = Int8Product.MaxSplits;

        /// <summary>This call's pilot: the stages it chose, for which eps, and the share of pairs it saw settled by each split.</summary>
        internal int[]? Choice;
        internal double ChoiceEps = double.NaN;
        public double[] PilotSettledBy = [];

        // Per task of the product (one thread each): per item the smallest skipped bound, the nearest key and its
        // list; the (item, list) pairs probed, in the order found.
        internal float[] TaskBound = [], TaskKey = [];
        internal int[] TaskNear = [];
        internal List<long>[] TaskProbed = [];
        internal long[] TaskSettled = [];

        public ReadOnlySpan<int> ProbedBy(int item) => Probed.AsSpan(ProbedStart[item], ProbedStart[item + 1] - ProbedStart[item]);

        internal void Prepare(int m, int lists, int tasks)
        {
            Items = m;
            Lists = lists;
            if (SkippedBound.Length < m)
            {
                SkippedBound = new double[m];
                NearestList = new int[m];
                ProbedStart = new int[m + 1];
            }
            if (RadiusAtScreen.Length < lists) RadiusAtScreen = new float[Math.Max(lists, 2 * RadiusAtScreen.Length)];
            if (SkipAbove.Length < lists + Int8Product.PanelRows) SkipAbove = new float[Math.Max(lists, 2 * SkipAbove.Length) + Int8Product.PanelRows];
            if (TaskBound.Length < tasks * m)
            {
                TaskBound = new float[tasks * m];
                TaskKey = new float[tasks * m];
                TaskNear = new int[tasks * m];
            }
            if (TaskSettled.Length < tasks * MaxSplits) TaskSettled = new long[tasks * MaxSplits];
            if (TaskProbed.Length < tasks)
            {
                int old = TaskProbed.Length;
                Array.Resize(ref TaskProbed, tasks);
                for (int t = old; t < tasks; t++) TaskProbed[t] = [];
            }
        }
    }

    /// <summary>
    /// Screens <paramref name="m"/> items against every list centroid and runs the ball test for eps radius
    /// <paramref name="eps"/> on the scores, into <paramref name="into"/>. The scores come from one integer product
    /// (<see cref="Int8Product"/>, staged: a partial score less its slack is a lower bound too) where the machine has
    /// AVX-VNNI or AVX2, a float32 one otherwise, each with its error bound;
    /// a list is skipped only when A + B·(score - e), a lower bound on |p(x) - g|², exceeds (R + reach)². The
    /// centroids never move between rebuilds, so the result stays valid while centres move and open (radii only
    /// grow: see <see cref="ChunkScreen.RadiusAtScreen"/>). The result does not depend on threads.
    /// </summary>
    public void Screen(ReadOnlySpan<float> items, int m, ReadOnlySpan<double> norms, double eps, ChunkScreen into)
    {
        int count = Count, d = _d;
        var itemNorms = norms[..m].ToArray();
        var index = _gIndex;
        int tasks = Int8Product.TaskCount(count);
        into.Prepare(m, count, tasks);
        var e = new float[m];
        bool int8 = Int8Product.IsSupported && d <= Int8Product.MaxDimension && count >= Int8Product.PanelRows;
        Int8Product.Items? q = int8 ? Int8Product.Quantize(items[..(m * d)], m, d, staged: true, levels: Int8Product.ScanLevels) : null;
        double factor = DistanceKernels.DotErrorFactor(d), gMax = index.MaxNorm;
        for (int i = 0; i < m; i++)
        {
            double xn = itemNorms[i];
            // E bounds the error of every score of the item (Int8Product.ItemScoreError; float32: the dot's rounding).
            double error = q is not null
                ? Int8Product.ItemScoreError(_metric, xn, q.Residuals[i], index.MaxNorm, index.MaxQuantError, index.MaxQuantErrorOverNorm)
                : _metric == DistanceMetric.Cosine ? factor : 2.0 * factor * xn * gMax + 1e-6 * (xn * xn + gMax * gMax);
            // The score's own rounding (1e-6·(|score| + 1)) doubled for float32; the item's slack under euclidean. A
            // zero item under cosine has no direction: every list is probed.
            double ei = error + 2e-6 + (_metric == DistanceMetric.Cosine ? 0 : 1e-9 * (xn * xn + 1) + 1e-5 * (xn * xn + 1));
            e[i] = _metric == DistanceMetric.Cosine && xn == 0 ? float.PositiveInfinity : FloatRounding.Up(ei);
        }
        float reach = FloatRounding.Up(Reach(eps));
        for (int l = 0; l < count; l++)
        {
            // A + B·L > (R + reach)²·Margin ⟸ L > ((R + reach)²·Margin - A)/B (B ≥ 0; B = 0: ±∞, or NaN: never skipped).
            double w = (double)_radiusUp[l] + reach;
            into.SkipAbove[l] = FloatRounding.Up((w * w * BallSink.Margin - _a[l]) / _b[l]);
        }
        var sink = new BallSink(_a, _b, _c, e, m, into);
        into.Stages = q is null ? [] : StagesOverride ?? StagesFor(q, m, itemNorms, e, eps, into);
        if (q is not null) Int8Product.Scores(_metric, q, itemNorms, index.Quantized, count, d, sink, into.Stages);
        else FloatScreen(items, m, itemNorms, count, d, tasks, sink);
        float widest = count == 0 ? 0 : TensorPrimitives.Max(_radiusUp.AsSpan(0, count));
        Gather(into, tasks, widest, reach * Math.Sqrt(BallSink.Margin));
        _radiusUp.AsSpan(0, count).CopyTo(into.RadiusAtScreen);
    }

    /// <summary>For experiments (a scratch harness comparing fixed stages): the stages every screening uses instead of the
    /// chosen ones. Only speed depends on it.</summary>
    internal static int[]? StagesOverride { get; set; }

    /// <summary>The splits nearest half and three quarters of the depth: the stages until a pilot has chosen.</summary>
    internal static int[] DefaultStages(int d)
    {
        var splits = Int8Product.SplitGroups(d);
        int groups = Int8Product.Depth(d) / 4;
        int Nearest(int g) => splits.Length == 0 ? -1 : Enumerable.Range(0, splits.Length).MinBy(k => Math.Abs(splits[k] - g));
        return new[] { Nearest(groups / 2), Nearest(groups * 3 / 4) }.Where(k => k >= 0).Distinct().Order().ToArray();
    }

    /// <summary>Items a chunk needs for a pilot of its own; smaller ones (one at a time) take the last choice.</summary>
    private const int PilotMinItems = 64;

    /// <summary>The pilot's items: one block of the product, whose tiles then settle as they would in the chunk.</summary>
    private const int PilotItems = Int8Product.ItemRows;

    /// <summary>The last pilot's choice and the eps it was made for, shared by every call (a reference swapped whole:
    /// readers under the tables' read lock may race, and only speed depends on it).</summary>
    private volatile StageChoice? _lastChoice;

    private sealed record StageChoice(double Eps, int[] Stages, double[] SettledBy);

    /// <summary>
    /// The splits to stop at for this chunk. How far into the depth a far list's partial score rules it out depends on
    /// eps (on the bench's 10^6 lists at 512 dimensions: 3/8 for the 1% join share, 5/8 for 50%), and each stop costs
    /// the tile's epilogue, about 30-50 groups of the kernel, so a stop where nothing settles is dear. A pilot (the
    /// chunk's first block, against every list, stopping at every split: about 1% of a 512-item chunk) measures the
    /// share of pairs settled by each split, and <see cref="Int8Stages.CheapestStages"/> picks the stages from it. One pilot per
    /// call and eps (kept in <paramref name="into"/>); the result never depends on the choice.
    /// </summary>
    private int[] StagesFor(Int8Product.Items items, int m, double[] itemNorms, float[] e, double eps, ChunkScreen into)
    {
        int d = _d;
        if (into.ChoiceEps == eps && into.Choice is { } kept) return kept;
        var last = _lastChoice;
        if (m < PilotMinItems) return last is not null && last.Eps == eps ? last.Stages : DefaultStages(d);
        var splits = Int8Product.SplitGroups(d);
        int p = Math.Min(PilotItems, m), count = Count, tasks = Int8Product.TaskCount(count);
        var q = items.FirstBlock(d); // the chunk's first block, quantized as the chunk is
        var settled = new long[tasks * ChunkScreen.MaxSplits];
        var sink = new PilotSink(_a, _b, _c, into.SkipAbove, e, settled);
        Int8Product.Scores(_metric, q, itemNorms[..p], _gIndex.Quantized, count, d, sink, [.. Enumerable.Range(0, splits.Length)]);
        long pairs = (long)p * ((count + Int8Product.PanelRows - 1) / Int8Product.PanelRows);
        var by = Int8Stages.SettledBy(settled, tasks, splits.Length, pairs);
        var stages = Int8Stages.CheapestStages(splits, Int8Product.Depth(d) / 4, by);
        into.Choice = stages;
        into.ChoiceEps = eps;
        into.PilotSettledBy = by;
        _lastChoice = new StageChoice(eps, stages, by);
        return stages;
    }

    /// <summary>The pilot's sink: per task and split, the pairs whose ball test rules all 16 lists out there (they settle,
    /// as in the chunk's product, so each pair counts once, at the first split that settles it).</summary>
    private readonly struct PilotSink(float[] a, float[] b, float[] c, float[] skipAbove, float[] e, long[] settled) : Int8Product.IScoreSink
    {
        public void Begin(int task) { }

        public unsafe void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores) { }

        public unsafe uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack)
        {
            var p = new BallSink.PanelTerms(a, b, c, skipAbove, j0, cols);
            uint still = 0;
            for (uint left = open; left != 0; left &= left - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(left);
                var lower0 = Vector256.Load(scores + r * Int8Product.PanelRows) - Vector256.Load(slack + r * Int8Product.PanelRows);
                var lower1 = Vector256.Load(scores + r * Int8Product.PanelRows + 8) - Vector256.Load(slack + r * Int8Product.PanelRows + 8);
                uint skipped = p.Test(lower0, lower1, Vector256.Create(e[i0 + r]), out _);
                if ((~skipped & p.Lanes) != 0) still |= 1u << r;
            }
            settled[task * ChunkScreen.MaxSplits + split] += System.Numerics.BitOperations.PopCount(open & ~still);
            return still;
        }
    }

    /// <summary>The float32 product (neither AVX-VNNI nor AVX2, or fewer lists than a panel), fed to the sink in the int8 product's
    /// order of tasks.</summary>
    private void FloatScreen(ReadOnlySpan<float> items, int m, double[] itemNorms, int count, int d, int tasks, BallSink sink)
    {
        var scores = new float[(long)m * count];
        DistanceKernels.Scores(_metric, items[..(m * d)], m, itemNorms, _gIndex.Rows, count, _gIndex.Norms, d, scores, null);
        Span<float> line = stackalloc float[Int8Product.PanelRows];
        const int listsPerTask = Int8Product.RowsPerTask;
        for (int task = 0; task < tasks; task++)
        {
            sink.Begin(task);
            for (int j0 = task * listsPerTask; j0 < Math.Min(count, (task + 1) * listsPerTask); j0 += Int8Product.PanelRows)
            {
                int cols = Math.Min(Int8Product.PanelRows, count - j0);
                for (int i = 0; i < m; i++)
                {
                    line.Clear();
                    scores.AsSpan(i * count + j0, cols).CopyTo(line);
                    unsafe
                    {
                        fixed (float* row = line) sink.TakeTile(task, i, 1, j0, cols, row);
                    }
                }
            }
        }
    }

    /// <summary>Merges the tasks' findings per item, in task order (so lists ascend and ties go to the lowest list).</summary>
    private void Gather(ChunkScreen s, int tasks, double widest, double floor)
    {
        int m = s.Items;
        var start = s.ProbedStart;
        Array.Clear(start, 0, m + 1);
        int total = 0;
        for (int t = 0; t < tasks; t++)
        {
            total += s.TaskProbed[t].Count;
            foreach (long v in s.TaskProbed[t]) start[(int)(v >> 32) + 1]++;
        }
        for (int i = 0; i < m; i++) start[i + 1] += start[i];
        if (s.Probed.Length < total) s.Probed = new int[Math.Max(total, 2 * s.Probed.Length)];
        var cursor = start.AsSpan(0, m).ToArray();
        long members = (long)_zeroRows.Count * m;
        for (int t = 0; t < tasks; t++)
            foreach (long v in s.TaskProbed[t])
            {
                int l = (int)v;
                s.Probed[cursor[(int)(v >> 32)]++] = l;
                members += _members[l].Count;
            }
        s.ProbedMembers = members;
        Array.Clear(s.Settled);
        for (int t = 0; t < tasks; t++)
            for (int k = 0; k < ChunkScreen.MaxSplits; k++) s.Settled[k] += s.TaskSettled[t * ChunkScreen.MaxSplits + k];
        s.Pairs = (long)m * ((s.Lists + Int8Product.PanelRows - 1) / Int8Product.PanelRows);
        for (int i = 0; i < m; i++)
        {
            float bound = float.PositiveInfinity, key = float.PositiveInfinity;
            int near = 0;
            for (int t = 0; t < tasks; t++)
            {
                bound = Math.Min(bound, s.TaskBound[t * m + i]);
                if (s.TaskKey[t * m + i] < key) { key = s.TaskKey[t * m + i]; near = s.TaskNear[t * m + i]; }
            }
            // Every skipped list has |p(x) - g|² ≥ bound and R ≤ widest; the 1e-6 covers the float32 rounding of the bound
            // and of this arithmetic. Each also passed A + B·L > (R + reach)²·Margin: |p(x) - p(c)| > reach·√Margin.
            double low = Math.Sqrt(Math.Max(0, (double)bound)) - widest;
            s.SkippedBound[i] = float.IsPositiveInfinity(bound) ? double.PositiveInfinity : Math.Max(low - 1e-6 * (1 + Math.Abs(low)), floor);
            s.NearestList[i] = near;
        }
    }

    /// <summary>
    /// The ball test on 16 scores at a time (two 256-bit halves), in float32: a list is skipped when A + B·(score - e) — a lower bound on
    /// |p(x) - g|², e the screening bound plus the score's own rounding — exceeds (R + reach)², with a relative margin
    /// (A rounded down, the threshold on the score, <see cref="ChunkScreen.SkipAbove"/>, up). Skipped lists lower the
    /// item's smallest such bound (kept squared: a square root per lane cost as much as the test);
    /// C + B·score orders the centroids by distance.
    /// </summary>
    private readonly struct BallSink(float[] a, float[] b, float[] c, float[] e, int m, ChunkScreen s)
        : Int8Product.IScoreSink
    {
        private readonly float[] a = a, b = b, c = c;
        private readonly ChunkScreen s = s;
        // The score's own rounding doubled for float32, and the subtraction of a partial score's slack; a relative
        // margin on the squared reach for the rest of the float32 arithmetic.
        private const float Rounding = 3e-6f;
        internal const double Margin = 1 + 1e-5;

        public void Begin(int task)
        {
            s.TaskBound.AsSpan(task * m, m).Fill(float.PositiveInfinity);
            s.TaskKey.AsSpan(task * m, m).Fill(float.PositiveInfinity);
            s.TaskNear.AsSpan(task * m, m).Clear();
            s.TaskProbed[task].Clear();
            s.TaskSettled.AsSpan(task * ChunkScreen.MaxSplits, ChunkScreen.MaxSplits).Clear();
        }

        public unsafe void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores)
        {
            var p = new PanelTerms(a, b, c, s.SkipAbove, j0, cols);
            for (; open != 0; open &= open - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(open), item = i0 + r;
                var sc0 = Vector256.Load(scores + r * Int8Product.PanelRows);
                var sc1 = Vector256.Load(scores + r * Int8Product.PanelRows + 8);
                uint skipped = p.Test(sc0, sc1, Vector256.Create(At(e, item)), out var sq);
                Record(task * m + item, j0, sq, p.Key(sc0, sc1, out var key1), key1);
                for (uint probe = ~skipped & p.Lanes; probe != 0; probe &= probe - 1)
                    s.TaskProbed[task].Add(((long)item << 32) | (uint)(j0 + System.Numerics.BitOperations.TrailingZeroCount(probe)));
            }
        }

        /// <summary>The ball test on a lower bound of each score (the partial score less its slack): a row whose 16 lists
        /// it all rules out is settled (their bounds and the nearest-centroid keys, from the partial score with the
        /// tail's dot taken as zero, a fair estimate for a far list, are recorded); the others go on to the full scores.</summary>
        public unsafe uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack)
        {
            var p = new PanelTerms(a, b, c, s.SkipAbove, j0, cols);
            uint still = 0;
            for (uint left = open; left != 0; left &= left - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(left), item = i0 + r;
                var sc0 = Vector256.Load(scores + r * Int8Product.PanelRows);
                var sc1 = Vector256.Load(scores + r * Int8Product.PanelRows + 8);
                var lower0 = sc0 - Vector256.Load(slack + r * Int8Product.PanelRows);
                var lower1 = sc1 - Vector256.Load(slack + r * Int8Product.PanelRows + 8);
                uint skipped = p.Test(lower0, lower1, Vector256.Create(At(e, item)), out var sq);
                if ((~skipped & p.Lanes) != 0) { still |= 1u << r; continue; }
                Record(task * m + item, j0, sq, p.Key(sc0, sc1, out var key1), key1);
            }
            At(s.TaskSettled, task * ChunkScreen.MaxSplits + split) += System.Numerics.BitOperations.PopCount(open & ~still);
            return still;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static ref T At<T>(T[] array, int i) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), i);

        /// <summary>One panel's terms of the ball test, loaded once per tile (lanes past the last list masked out).</summary>
        internal readonly struct PanelTerms
        {
            private readonly Vector256<float> _a0, _a1, _b0, _b1, _c0, _c1, _q0, _q1, _exists0, _exists1;
            public readonly uint Lanes;

            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public PanelTerms(float[] a, float[] b, float[] c, float[] skipAbove, int j0, int cols)
            {
                _a0 = Vector256.LoadUnsafe(ref At(a, j0)); _a1 = Vector256.LoadUnsafe(ref At(a, j0 + 8));
                _b0 = Vector256.LoadUnsafe(ref At(b, j0)); _b1 = Vector256.LoadUnsafe(ref At(b, j0 + 8));
                _c0 = Vector256.LoadUnsafe(ref At(c, j0)); _c1 = Vector256.LoadUnsafe(ref At(c, j0 + 8));
                _q0 = Vector256.LoadUnsafe(ref At(skipAbove, j0)); _q1 = Vector256.LoadUnsafe(ref At(skipAbove, j0 + 8));
                _exists0 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols)).AsSingle();
                _exists1 = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - 8)).AsSingle();
                Lanes = cols >= Int8Product.PanelRows ? 0xFFFFu : (1u << cols) - 1;
            }

            /// <summary>The skipped lanes (bits) for scores (or lower bounds on them) <paramref name="sc0"/>,
            /// <paramref name="sc1"/>; <paramref name="sq"/>: the smaller of the two halves' bounds on |p(x) - g|² over
            /// the skipped lanes (+∞ elsewhere).</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public uint Test(Vector256<float> sc0, Vector256<float> sc1, Vector256<float> ev, out Vector256<float> sq)
            {
                var rounding = Vector256.Create(Rounding);
                var lo0 = sc0 - (ev + rounding * Vector256.Abs(sc0)); // lower bounds on the true scores
                var lo1 = sc1 - (ev + rounding * Vector256.Abs(sc1));
                var skip0 = Vector256.GreaterThan(lo0, _q0) & _exists0;
                var skip1 = Vector256.GreaterThan(lo1, _q1) & _exists1;
                var inf = Vector256.Create(float.PositiveInfinity);
                sq = Vector256.MinNative(Vector256.ConditionalSelect(skip0, _a0 + _b0 * lo0, inf),
                    Vector256.ConditionalSelect(skip1, _a1 + _b1 * lo1, inf));
                return skip0.ExtractMostSignificantBits() | (skip1.ExtractMostSignificantBits() << 8);
            }

            /// <summary>The nearest-centroid keys C + B·score of the two halves (+∞ past the last list).</summary>
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            public Vector256<float> Key(Vector256<float> sc0, Vector256<float> sc1, out Vector256<float> key1)
            {
                var inf = Vector256.Create(float.PositiveInfinity);
                key1 = Vector256.ConditionalSelect(_exists1, _c1 + _b1 * sc1, inf);
                return Vector256.ConditionalSelect(_exists0, _c0 + _b0 * sc0, inf);
            }
        }

        /// <summary>Lowers the item's smallest skipped bound and nearest-centroid key in its task's slot.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Record(int at, int j0, Vector256<float> sq, Vector256<float> key0, Vector256<float> key1)
        {
            // Branch-free reductions: a scalar pass over the lanes would run on about a third of the panels (each
            // task starts its minima afresh), and extracting lanes one by one goes through memory.
            // Most rows lower neither (the task's minima settle within a few panels): one vector test each first.
            ref float bound = ref At(s.TaskBound, at);
            ref float key = ref At(s.TaskKey, at);
            var keys = Vector256.MinNative(key0, key1);
            if ((Vector256.LessThan(sq, Vector256.Create(bound)) | Vector256.LessThan(keys, Vector256.Create(key))) == Vector256<float>.Zero) return;
            float low = MinAcross(sq);
            if (low < bound) bound = low;
            float nearest = MinAcross(keys);
            if (nearest < key)
            {
                var target = Vector256.Create(nearest);
                uint lanes = Vector256.Equals(key0, target).ExtractMostSignificantBits() | (Vector256.Equals(key1, target).ExtractMostSignificantBits() << 8);
                key = nearest;
                At(s.TaskNear, at) = j0 + System.Numerics.BitOperations.TrailingZeroCount(lanes);
            }
        }

        /// <summary>The smallest lane (the platform's min: a NaN key only loses).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float MinAcross(Vector256<float> v)
        {
            var q = Vector128.MinNative(v.GetLower(), v.GetUpper());
            q = Vector128.MinNative(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
            q = Vector128.MinNative(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2)));
            return q.ToScalar();
        }
    }

    /// <summary>
    /// Item <paramref name="item"/> of the screening <paramref name="s"/> (vector <paramref name="x"/>, norm
    /// <paramref name="xn"/>): the rows of every list it probes that pass the ring test (zero centres under cosine
    /// always do), in no particular order, into <paramref name="rows"/>; the lists probed, with the item's float32 dot
    /// with their centroid (the ring test needs it exact), into <paramref name="probedLists"/> and
    /// <paramref name="probedDots"/>. Returns a lower bound on the distance to every centre left out (+∞ when none was).
    /// </summary>
    public double Probe(ReadOnlySpan<float> x, double xn, ChunkScreen s, int item, double eps, List<int> rows, List<int> probedLists,
        List<float> probedDots)
    {
        rows.Clear();
        probedLists.Clear();
        probedDots.Clear();
        rows.AddRange(_zeroRows);
        double reach = Reach(eps);
        double skipped = double.PositiveInfinity; // the smallest |p(x) - g| - R over skipped lists, in the geometry of p
        foreach (int l in s.ProbedBy(item))
        {
            if (xn == 0) { probedLists.Add(l); probedDots.Add(0); rows.AddRange(_members[l]); continue; }
            ProbeList(l, x, xn, reach, rows, probedLists, probedDots, ref skipped);
        }
        // The skipped lists' bound (rounding already taken off).
        skipped = Math.Min(skipped, s.SkippedBound[item]);
        return double.IsPositiveInfinity(skipped) ? skipped : AsDistance(Math.Max(skipped, reach));
    }

    /// <summary>
    /// The ring test for one centre row as it is now, for item <paramref name="x"/> screened in <paramref name="s"/>:
    /// false when |p(x) - p(c)| ≥ | |p(x) - g| - |p(c) - g| | proves it farther than the eps radius
    /// <paramref name="reach"/> (then <paramref name="lowerBound"/> bounds its distance from below; +∞ when the
    /// item's screening bound already covers it). |p(x) - g| comes from the float32 dot where the item probed the
    /// row's list (<paramref name="probedLists"/>, <paramref name="probedDots"/>); a list the item skipped still rules
    /// the row out while its ring is within the radius the ball test saw; otherwise (the list opened after the
    /// screening, or the row moved beyond that radius) from the dot with <paramref name="x"/>. Zero centres under
    /// cosine (no list) always pass.
    /// </summary>
    public bool MayHold(int row, ReadOnlySpan<float> x, double xn, ChunkScreen s, ReadOnlySpan<int> probedLists,
        ReadOnlySpan<float> probedDots, double reach, out double lowerBound)
    {
        lowerBound = 0;
        int l = _listOf[row];
        if (l < 0 || xn == 0) return true;
        int at = probedLists.IndexOf(l);
        float dot;
        if (at >= 0) dot = probedDots[at];
        else if (l < s.Lists && _ring[row] <= s.RadiusAtScreen[l])
        {
            // |p(x) - g| > R' + reach with R' ≥ ring: |p(x) - p(c)| ≥ |p(x) - g| - ring, which the item's skipped bound covers.
            lowerBound = double.PositiveInfinity;
            return false;
        }
        else dot = TensorPrimitives.Dot(x, _g.AsSpan(l * _d, _d));
        var (dLo, dHi) = CentroidDistance(dot, xn, l);
        double gap = RingGap(_ring[row], dLo, dHi);
        if (gap <= reach) return true;
        lowerBound = AsDistance(gap);
        return false;
    }
}
