using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// Screening scores of a batch of items against int8 index rows from integer dot products (AVX-VNNI
/// <c>vpdpbusd</c>: 32 products of bytes per instruction, about 2.7 times the float32 <see cref="Gemm"/> on one
/// core of an Intel machine; AVX512-VNNI <c>vpdpbusd</c> on 512-bit registers where AVX-VNNI is missing, as on AMD
/// Zen 4, through machine code (<see cref="Int8VnniCode"/>: .NET 10 cannot emit it there), about twice the AVX2
/// kernels' products per second; on AVX2 machines without either, such as AMD EPYC before Zen 4, <c>vpmaddwd</c> on the
/// item values widened to 16 bits, or for items at <see cref="NarrowLevels"/> <c>vpmaddubsw</c> then <c>vpmaddwd</c>
/// by ones on the bytes themselves: the same exact sums at 16 products per multiply, on a quarter of float32's
/// bytes). Items are quantized per row to bytes (value + 128, or + 64 at 63 levels) with a scale and the norm of what
/// rounding lost;
/// index rows come from <see cref="QuantizedRows"/>, kept in this class's panel layout. The integer sums are exact,
/// so a score's error is bounded by the two rounding residuals alone (<see cref="ItemScoreError"/>), and screening
/// with it stays rigorous: the decision is still taken on float32 and exact float64 distances of the few rows the
/// bound cannot rule out.
/// </summary>
internal static unsafe class Int8Product
{
    /// <summary>Index rows per panel: one 6x16 tile of the micro-kernel is 16 rows wide.</summary>
    public const int PanelRows = 16;

    /// <summary>Items per block: the tile's height (12 accumulators of 8 lanes, plus 3 registers, fit the 16 that VEX encodes).</summary>
    public const int ItemRows = 6;

    /// <summary>Largest dimension whose integer sums cannot overflow: 255·127·d &lt; 2^31.</summary>
    public const int MaxDimension = 65_536;

    /// <summary>Whether this machine runs the product (AVX-VNNI, or AVX2); without it callers keep the float32 path.</summary>
    public static bool IsSupported => AvxVnni.IsSupported || Avx2.IsSupported;

    /// <summary>Whether the product runs <c>vpdpbusd</c> kernels (where the machine has them) rather than the AVX2 ones:
    /// AVX-VNNI through .NET, or else AVX512-VNNI through <see cref="Int8VnniCode"/>; all give the same integer sums.
    /// Tests set it to run the AVX2 kernels on a VNNI machine.</summary>
    internal static bool UseVnni { get; set; } = HasVnni;

    /// <summary>Whether this machine runs a <c>vpdpbusd</c> kernel.</summary>
    internal static bool HasVnni => AvxVnni.IsSupported || Int8VnniCode.IsAvailable;

    private static bool Vnni => UseVnni && HasVnni;

    /// <summary>The most levels |q| of items for which the AVX2 byte kernels are exact: <c>vpmaddubsw</c> sums two
    /// products of an item byte (q + 64, in [1, 127]) and a row value (|q| &lt;= 127) in 16 bits with saturation, and
    /// 2·127·127 = 32,258 stays below 32,767.</summary>
    public const int NarrowLevels = 63;

    /// <summary>
    /// The item levels for a product on this machine: 127 with <c>vpdpbusd</c> (exact for any byte values, see
    /// <see cref="UseVnni"/>); <see cref="NarrowLevels"/> on AVX2, where
    /// such items run the byte kernels (<c>vpmaddubsw</c> then <c>vpmaddwd</c> by ones, and no widened copy of the
    /// items) instead of widening to 16 bits: on a Zen 3 core about 25% more products per second, at twice the items'
    /// rounding residual. The full scan's float32 refinement of its few candidates absorbs it; the list index's
    /// early stops hardly notice it (at 10^6 lists its screening took 18-20% less time, interleaved with 127 levels
    /// in one process, with the same splits settling the same shares).
    /// </summary>
    public static int ScanLevels => Vnni ? 127 : NarrowLevels;

    /// <summary>Which kernels a call runs: <c>vpdpbusd</c> on 256-bit registers (AVX-VNNI), or on 512-bit ones (AVX512-VNNI,
    /// <see cref="Int8VnniCode"/>, where AVX-VNNI is missing); <c>vpmaddubsw</c> then <c>vpmaddwd</c> by ones (items within
    /// <see cref="NarrowLevels"/>); or <c>vpmaddwd</c> on item values widened to 16 bits.</summary>
    private enum KernelKind { Vnni, Vnni512, Narrow, Wide }

    /// <summary>Depth of a packed row: d rounded up to a multiple of 4 (vpdpbusd sums groups of 4 bytes).</summary>
    public static int Depth(int d) => (d + 3) & ~3;

    /// <summary>
    /// Where a staged product (<see cref="Scores{TSink}"/> with stages) may stop to test partial scores: after each
    /// eighth of the depth's groups of 4 (distinct, inside (0, groups); none below 2 groups); a call chooses which of
    /// them it stops at. A partial dot over the first h values and the Cauchy-Schwarz bound on the rest
    /// (|x_R·c_R| ≤ |x_R|·|c_R|) bound the full score from below, which is all a test that rules pairs out needs; on
    /// embeddings the head of a far pair already rules it out, so most pairs never read their tail. How much head
    /// that takes depends on the test's threshold (a wider eps needs a smaller slack, a later split).
    /// </summary>
    public static int[] SplitGroups(int d)
    {
        int groups = Depth(d) / 4;
        var splits = new List<int>(MaxSplits);
        for (int k = 1; k < Eighths; k++)
        {
            int g = groups * k / Eighths; // non-decreasing in k: a repeat is the last one added
            if (g > 0 && g < groups && (splits.Count == 0 || splits[^1] != g)) splits.Add(g);
        }
        return [.. splits];
    }

    private const int Eighths = 8;

    /// <summary>The most splits <see cref="SplitGroups"/> offers (sizes of per-split counters).</summary>
    public const int MaxSplits = Eighths - 1;

    /// <summary>Bytes of the panel layout for <paramref name="rows"/> rows.</summary>
    public static int PanelBytes(int rows, int d) => checked((rows + PanelRows - 1) / PanelRows * PanelRows * Depth(d));

    /// <summary>
    /// Writes row <paramref name="row"/>'s values into the panel layout: panel p = row / 16 holds, for each group g of
    /// 4 depths, 16 rows × 4 bytes, so one 64-byte load feeds the tile's 16 columns.
    /// </summary>
    public static void PackRow(sbyte[] panels, int row, ReadOnlySpan<sbyte> q, int d)
    {
        int depth = Depth(d), lane = row % PanelRows, full = d / 4;
        long start = (long)(row / PanelRows) * PanelRows * depth + lane * 4;
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(q.Slice(0, full * 4));
        var target = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(panels.AsSpan());
        long word = start / 4; // start is a multiple of 4
        for (int g = 0; g < full; g++) target[(int)(word + (long)g * PanelRows)] = words[g];
        for (int g = full; g < depth / 4; g++)
        {
            long at = start + g * PanelRows * 4;
            for (int t = 0; t < 4; t++)
            {
                int k = g * 4 + t;
                panels[at + t] = k < d ? q[k] : (sbyte)0;
            }
        }
    }

    /// <summary>Items quantized for <see cref="Scores"/>: bytes in blocks of <see cref="ItemRows"/>, scales, residual norms.</summary>
    public sealed class Items
    {
        /// <summary>The first block's items (the first <see cref="ItemRows"/>, or all if fewer) as quantized here: a
        /// pilot's items, without quantizing them again (a block is ItemRows items of the packing).</summary>
        public Items FirstBlock(int d)
        {
            int p = Math.Min(ItemRows, Count), splits = Tails.Length / Math.Max(1, Count);
            return new Items
            {
                Packed = Packed.AsSpan(0, ItemRows * Depth(d)).ToArray(),
                Scales = Scales[..p], Residuals = Residuals[..p],
                Tails = Enumerable.Range(0, splits).SelectMany(s => Tails.AsSpan(s * Count, p).ToArray()).ToArray(),
                Count = p, Levels = Levels,
            };
        }

        public required byte[] Packed { get; init; }
        public required float[] Scales { get; init; }
        /// <summary>‖x - s·q‖₂ of each item: what quantization lost.</summary>
        public required double[] Residuals { get; init; }
        /// <summary>‖x[4·h..d)‖₂ of each item for each split h of <see cref="SplitGroups"/> (split-major: [s·Count + i]),
        /// rounded up: the Cauchy-Schwarz term of a partial score.</summary>
        public required double[] Tails { get; init; }
        public required int Count { get; init; }
        /// <summary>The largest |q|: 127, or <see cref="NarrowLevels"/>; bytes hold q + <see cref="Offset"/>.</summary>
        public int Levels { get; init; } = 127;
        /// <summary>What a byte adds to q (Levels + 1): a zero value's byte, and the factor of the rows' sums that the
        /// product subtracts.</summary>
        public int Offset => Levels + 1;
    }

    /// <summary>Quantizes <paramref name="m"/> items (row-major, dimension <paramref name="d"/>) to bytes q + L + 1, q in [-L, L]
    /// for L = <paramref name="levels"/> (127, or <see cref="NarrowLevels"/>: see <see cref="ScanLevels"/>);
    /// <paramref name="staged"/>: also their tail norms, for a staged <see cref="Scores{TSink}"/>.</summary>
    public static Items Quantize(ReadOnlySpan<float> items, int m, int d, bool staged = false, int levels = 127)
    {
        if (levels != 127 && levels != NarrowLevels)
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"items are quantized to 127 or {NarrowLevels} levels.");
        int offset = levels + 1;
        int depth = Depth(d), blocks = (m + ItemRows - 1) / ItemRows;
        var packed = GC.AllocateUninitializedArray<byte>(checked(blocks * ItemRows * depth));
        packed.AsSpan().Fill((byte)offset); // padding (depth and rows) is a zero value
        var scales = new float[m];
        var residuals = new double[m];
        var splits = staged ? SplitGroups(d) : [];
        var tails = new double[splits.Length * m];
        if (items.Length < (long)m * d) throw new ArgumentException($"{m} items of dimension {d} need {(long)m * d} values.", nameof(items));
        var po = new ParallelOptions { MaxDegreeOfParallelism = (long)m * d < 200_000 ? 1 : Environment.ProcessorCount };
        // Read in place, pinned for the loop (a copy of a 512-item chunk is 1 MB on the large-object heap per call).
        fixed (float* pinned = items)
        {
        nint source = (nint)pinned;
        Parallel.For(0, m, po, i =>
        {
            var x = new ReadOnlySpan<float>((float*)source + (long)i * d, d);
            for (int t = 0; t < splits.Length; t++) tails[t * m + i] = DistanceKernels.Norm(x[(4 * splits[t])..]) * (1 + 1e-12) + 1e-300;
            float max = TensorPrimitives.MaxMagnitude(x);
            float s = Math.Abs(max) / levels;
            int start = (i / ItemRows) * ItemRows * depth + (i % ItemRows) * 4;
            if (s == 0 || !float.IsNormal(s) || !float.IsFinite(max))
            {
                // A zero, tiny or non-finite item: no quantized value; its whole norm is the residual (non-finite
                // values make every score non-finite, and the caller then measures every row exactly).
                residuals[i] = float.IsFinite(max) ? DistanceKernels.Norm(x) : double.PositiveInfinity;
                return;
            }
            float inv = 1f / s;
            double res = 0;
            int k = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                // 8 values (two groups of 4) at a time: 256 bits is what every machine running the product has (AVX2
                // or AVX-VNNI), and quantizing is a small part of a call, so one width serves both.
                var vs = Vector256.Create(s);
                var vinv = Vector256.Create(inv);
                var lo = Vector256.Create((float)-levels);
                var hi = Vector256.Create((float)levels);
                var acc = Vector256<float>.Zero;
                Span<int> lanes = stackalloc int[8];
                for (; k + 8 <= d; k += 8)
                {
                    var v = Vector256.LoadUnsafe(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x), (nuint)k);
                    var q = Vector256.Min(Vector256.Max(Vector256.Round(v * vinv), lo), hi);
                    var t = Vector256.FusedMultiplyAdd(-vs, q, v); // x - s·q with one rounding
                    acc = Vector256.FusedMultiplyAdd(t, t, acc);
                    (Vector256.ConvertToInt32(q) + Vector256.Create(offset)).CopyTo(lanes);
                    for (int g = 0; g < 2; g++)
                    {
                        int at = start + ((k >> 2) + g) * ItemRows * 4;
                        packed[at] = (byte)lanes[4 * g];
                        packed[at + 1] = (byte)lanes[4 * g + 1];
                        packed[at + 2] = (byte)lanes[4 * g + 2];
                        packed[at + 3] = (byte)lanes[4 * g + 3];
                    }
                }
                // float32 sums of squares in 8 lanes: a relative (d/8 + 8)·2^-23 at most; 1e-3 covers any d up to MaxDimension.
                res = Vector256.Sum(acc) * (1 + 1e-3);
            }
            for (; k < d; k++)
            {
                int v = Math.Clamp((int)Math.Round(x[k] * inv), -levels, levels);
                packed[start + (k >> 2) * ItemRows * 4 + (k & 3)] = (byte)(v + offset);
                double t = x[k] - (double)s * v;
                res += t * t;
            }
            scales[i] = s;
            residuals[i] = Math.Sqrt(res) * (1 + 1e-6) + 1e-30;
        });
        }
        return new Items { Packed = packed, Scales = scales, Residuals = residuals, Tails = tails, Count = m, Levels = levels };
    }

    /// <summary>
    /// One item quantized row-major to q in [-127, 127] (<paramref name="q"/>, length d) with scale s, as
    /// <see cref="Quantize"/> does at 127 levels: returns s (0 when the item has no quantized value: zero, tiny or
    /// non-finite) and ‖x - s·q‖₂ rounded up. With <see cref="QuantizedRows.IntDot"/> it re-scores a few rows at the
    /// full 127 levels after a product at <see cref="NarrowLevels"/>.
    /// </summary>
    public static (float Scale, double Residual) QuantizeRow(ReadOnlySpan<float> x, Span<sbyte> q)
    {
        float max = x.IsEmpty ? 0 : TensorPrimitives.MaxMagnitude(x);
        float s = Math.Abs(max) / 127f;
        if (s == 0 || !float.IsNormal(s) || !float.IsFinite(max)) return (0, double.PositiveInfinity);
        float inv = 1f / s;
        double res = 0;
        for (int k = 0; k < x.Length; k++)
        {
            int v = Math.Clamp((int)Math.Round(x[k] * inv), -127, 127);
            q[k] = (sbyte)v;
            double t = x[k] - (double)s * v;
            res += t * t;
        }
        return (s, Math.Sqrt(res) * (1 + 1e-6) + 1e-30);
    }

    /// <summary>
    /// A bound E on |score − true score| - 1e-6·(|score| + 1) for every score of an item (norm <paramref name="xn"/>) against
    /// any row of an index with these maxima: the dot product errs by at most ‖x‖·e_c + r_x·(‖c‖ + e_c) (x = x̂ + r,
    /// c = ĉ + e with the stored bounds); the float32 arithmetic of <see cref="Scores"/> adds a relative 1e-6 at most,
    /// and the final rounding of the score is the 1e-6·(|score| + 1) term.
    /// </summary>
    public static double ItemScoreError(DistanceMetric metric, double xn, double residual, double maxNorm, double maxError,
        double maxErrorOverNorm)
    {
        if (metric == DistanceMetric.Cosine)
        {
            if (xn == 0) return double.PositiveInfinity;
            double rho = residual / xn;
            return maxErrorOverNorm + rho * (1 + maxErrorOverNorm) + 1e-6;
        }
        return 2.0 * (xn * maxError + residual * (maxNorm + maxError)) + 2e-6 * (xn * xn + maxNorm * maxNorm) + 1e-9;
    }

    /// <summary>
    /// The bound of <see cref="ItemScoreError"/> for one index row (norm <paramref name="cn"/>, int8 error bound
    /// <paramref name="ec"/>) instead of the index's maxima: never larger.
    /// </summary>
    public static double RowScoreError(DistanceMetric metric, double xn, double residual, double cn, double ec)
    {
        if (metric == DistanceMetric.Cosine)
        {
            if (cn == 0) return 1e-6; // scored 1, as the exact distance is
            if (xn == 0) return double.PositiveInfinity;
            double rho = residual / xn, a = ec / cn;
            return a + rho * (1 + a) + 1e-6;
        }
        return 2.0 * (xn * ec + residual * (cn + ec)) + 2e-6 * (xn * xn + cn * cn) + 1e-9;
    }

    /// <summary>
    /// scores[i*n + j] for items i &lt; m against index rows j &lt; n: cosine distance, or squared euclidean distance,
    /// from the integer product (a zero row under cosine scores 1, as <see cref="DistanceKernels"/> does), with the
    /// rows' norms as recorded by <see cref="QuantizedRows.SetNorm"/>. Parallel
    /// over groups of panels; every score depends only on its own pair, so the result does not depend on threads.
    /// </summary>
    public static void Scores(DistanceMetric metric, Items items, double[] itemNorms, QuantizedRows index, int n, int d, float[] scores) =>
        Scores(metric, items, itemNorms, index, n, d, new StoreSink(scores, n));

    /// <summary>
    /// Takes the scores of a block of items against 16 consecutive index rows as the product makes them, so that a
    /// caller that only needs a test of each score (the list index's ball test) never writes the m x n matrix to
    /// memory and reads it back. A tile is 16-float rows: row r holds item i0 + r's scores against rows j0 .. j0 + 15
    /// (lanes from <c>cols</c> on are padding past the last row); only the rows whose bit is set in
    /// <c>open</c> are filled. Calls for one task come from one thread, in order (panels, then items); tasks run in parallel.
    /// </summary>
    internal interface IScoreSink
    {
        /// <summary>Task <paramref name="task"/> (of <see cref="TaskCount"/>) starts on the calling thread.</summary>
        void Begin(int task);

        /// <summary>The full scores of the open rows of the tile.</summary>
        void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores);

        /// <summary>
        /// A staged product's partial scores at split <paramref name="split"/> (an index into <see cref="SplitGroups"/>),
        /// from the dot over the first values only (the rows' other values taken as zero), and their slack: the true
        /// score is at least the partial one less the slack, less the item's usual error bound. Returns the open rows
        /// that still need more (the others are settled: the product reads no more of them, and they get no
        /// <see cref="TakeTile"/>).
        /// </summary>
        uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack);
    }

    private const int PanelsPerTask = 8;

    /// <summary>Index rows per task of <see cref="Scores{TSink}"/>: task t takes rows [t·this, (t + 1)·this).</summary>
    public const int RowsPerTask = PanelsPerTask * PanelRows;

    /// <summary>How many tasks <see cref="Scores{TSink}"/> splits <paramref name="n"/> index rows into.</summary>
    public static int TaskCount(int n) => (n + RowsPerTask - 1) / RowsPerTask;

    /// <summary>Writes the scores row-major into an m x n array.</summary>
    private readonly struct StoreSink(float[] scores, int n) : IScoreSink
    {
        public void Begin(int task) { }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void TakeTile(int task, int i0, uint open, int j0, int cols, float* tile)
        {
            for (; open != 0; open &= open - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(open);
                long at = (long)(i0 + r) * n + j0;
                new ReadOnlySpan<float>(tile + r * PanelRows, cols).CopyTo(scores.AsSpan((int)at, cols));
            }
        }

        public uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack) => open; // never staged
    }

    /// <summary>The scores of <see cref="Scores(DistanceMetric, Items, double[], QuantizedRows, int, int, float[])"/>,
    /// handed to <paramref name="sink"/> 16 at a time instead of stored. <paramref name="stages"/> (ascending indices
    /// into <see cref="SplitGroups"/>; null or empty: none): stop at each of those splits and ask the sink
    /// (<see cref="IScoreSink.PartialTile"/>) whether to go on, per item and panel: a 6 x 16 tile goes on while any of
    /// its items does.</summary>
    public static void Scores<TSink>(DistanceMetric metric, Items items, double[] itemNorms, QuantizedRows index, int n, int d, TSink sink,
        int[]? stages = null)
        where TSink : struct, IScoreSink
    {
        stages ??= [];
        bool staged = stages.Length > 0;
        int m = items.Count;
        if (m == 0 || n == 0) return;
        if (!IsSupported) throw new PlatformNotSupportedException("the int8 product needs AVX-VNNI or AVX2.");
        if (d > MaxDimension) throw new ArgumentOutOfRangeException(nameof(d), d, $"the int8 product is exact up to dimension {MaxDimension}.");
        if (staged && !index.Staged) throw new ArgumentException("a staged product needs rows that keep their head sums and tail norms (QuantizedRows staged).", nameof(index));
        if (staged && items.Tails.Length != SplitGroups(d).Length * m) throw new ArgumentException("a staged product needs the items' tail norms (Quantize staged).", nameof(items));
        var allSplits = SplitGroups(d);
        for (int t = 0; t < stages.Length; t++)
            if (stages[t] < 0 || stages[t] >= allSplits.Length || (t > 0 && stages[t] <= stages[t - 1]))
                throw new ArgumentException($"stages must ascend within the {allSplits.Length} splits of dimension {d}.", nameof(stages));
        int depth = Depth(d), panels = (n + PanelRows - 1) / PanelRows, blocks = (m + ItemRows - 1) / ItemRows, groups = depth / 4;
        int tasks = TaskCount(n);
        var po = new ParallelOptions { MaxDegreeOfParallelism = (long)m * n * d < 4_000_000 ? 1 : Environment.ProcessorCount };
        var packedA = items.Packed;
        var kind = Vnni ? (AvxVnni.IsSupported ? KernelKind.Vnni : KernelKind.Vnni512)
            : items.Levels <= NarrowLevels ? KernelKind.Narrow : KernelKind.Wide;
        // The widening kernels read the item bytes widened to 16 bits, in the same layout (a broadcast of 4 values each).
        short[] packedWide = kind == KernelKind.Wide ? Widened(packedA) : [];
        bool cosine = metric == DistanceMetric.Cosine;
        // score = base_i + base_j - factor_i·factor_j·(Σ q_x·q_c) with, under cosine, base 1 and 0, factors
        // s_x/|x| and s_c/|c| (0 for a zero centre: score 1); under euclidean |x|², |c|², 2·s_x and s_c. The float32
        // arithmetic adds a few ulps (a relative 1e-6 is in the bound).
        var rowBase = new float[m];
        var rowFactor = new float[m];
        for (int i = 0; i < m; i++)
        {
            double xn = itemNorms[i], sx = items.Scales[i];
            rowBase[i] = cosine ? 1f : (float)(xn * xn);
            rowFactor[i] = cosine ? (float)(sx / xn) : (float)(2.0 * sx);
        }
        // Per-row factors, kept by the index (QuantizedRows.SetNorm); padded to whole panels for the vector loads.
        int padded = panels * PanelRows;
        var colBase = Padded(ref t_base, cosine ? null : index.NormSquared, n, padded);
        var colFactor = Padded(ref t_factor, cosine ? index.ScaleOverNorm : index.Scales, n, padded);
        int offset = items.Offset;
        var colSum = PaddedSums(ref t_sums, index.Sums, n, padded, offset);
        // The stages: per stage the rows' head sums (as colSum) and tail factors, the items' tail factors; the slack
        // of a pair is their product (cosine: |x_R|/|x| times |c_R|/|c|; euclidean: 2|x_R| times |c_R|), rounded up.
        int ns = stages.Length;
        var splits = new int[ns];
        var headSums = new int[ns][];
        var colTail = new float[ns][];
        var rowTail = new float[ns * m];
        for (int t = 0; t < ns; t++)
        {
            int split = stages[t];
            splits[t] = allSplits[split];
            headSums[t] = PaddedSums(ref t_headSums, t, index.HeadSums(split), n, padded, offset);
            colTail[t] = PaddedTails(t, cosine ? index.TailsOverNorm(split) : index.Tails(split), n, padded);
            for (int i = 0; i < m; i++)
            {
                double xn = itemNorms[i], tail = items.Tails[split * m + i];
                rowTail[t * m + i] = FloatRounding.Up((cosine ? (xn > 0 ? tail / xn : 0) : 2 * tail) * (1 + 1e-6));
            }
        }
        var panelsB = index.Panels;
        // Optimised from the first call: the body is the hot loop, and tiered compilation would first run it (and the
        // sink it inlines) unoptimised for the first tasks, a visible share of a short batch.
        Parallel.For(0, tasks, po, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (task) =>
        {
            int* tile = stackalloc int[ItemRows * PanelRows];
            float* scores = stackalloc float[ItemRows * PanelRows], slack = stackalloc float[ItemRows * PanelRows];
            sink.Begin(task);
            fixed (byte* pa = packedA)
            fixed (short* pw = packedWide)
            fixed (sbyte* pb = panelsB)
            fixed (float* cb = colBase, cf = colFactor)
            fixed (int* cs = colSum)
            {
                int p1 = Math.Min(panels, (task + 1) * PanelsPerTask);
                for (int p = task * PanelsPerTask; p < p1; p++)
                {
                    sbyte* panel = pb + (long)p * PanelRows * depth;
                    int j0 = p * PanelRows, cols = Math.Min(PanelRows, n - j0);
                    // 256-bit halves throughout: on Intel, 512-bit instructions between the AVX-VNNI kernel's 256-bit
                    // vpdpbusd would shut one of the two ports that run it, and a 512-bit load of the tile's 256-bit
                    // stores cannot be forwarded from them (the AVX512-VNNI kernels' 512-bit rows are read in halves).
                    var vb0 = Vector256.Load(cb + j0);
                    var vb1 = Vector256.Load(cb + j0 + 8);
                    var vf0 = Vector256.Load(cf + j0);
                    var vf1 = Vector256.Load(cf + j0 + 8);
                    for (int blk = 0; blk < blocks; blk++)
                    {
                        long blockAt = (long)blk * ItemRows * depth;
                        byte* block = pa + blockAt;
                        short* wide = kind == KernelKind.Wide ? pw + blockAt : null;
                        int i0 = blk * ItemRows, rows = Math.Min(ItemRows, m - i0);
                        uint open = (1u << rows) - 1; // the block's items still going on
                        int g = 0;
                        for (int t = 0; t < ns && open != 0; t++)
                        {
                            Run(kind, block, wide, panel, g, splits[t], tile, open, m == 1);
                            g = splits[t];
                            TileScores(tile, open, i0, Vector256.LoadUnsafe(ref headSums[t][j0]), Vector256.LoadUnsafe(ref headSums[t][j0 + 8]),
                                vb0, vb1, vf0, vf1, rowBase, rowFactor, scores);
                            var ct0 = Vector256.LoadUnsafe(ref colTail[t][j0]);
                            var ct1 = Vector256.LoadUnsafe(ref colTail[t][j0 + 8]);
                            for (uint left = open; left != 0; left &= left - 1)
                            {
                                int r = System.Numerics.BitOperations.TrailingZeroCount(left);
                                var rt = Vector256.Create(rowTail[t * m + i0 + r]);
                                (rt * ct0).Store(slack + r * PanelRows);
                                (rt * ct1).Store(slack + r * PanelRows + 8);
                            }
                            open = sink.PartialTile(task, i0, open, j0, cols, stages[t], scores, slack);
                        }
                        if (open == 0) continue;
                        Run(kind, block, wide, panel, g, groups, tile, open, m == 1);
                        TileScores(tile, open, i0, Vector256.Load(cs + j0), Vector256.Load(cs + j0 + 8), vb0, vb1, vf0, vf1, rowBase, rowFactor, scores);
                        sink.TakeTile(task, i0, open, j0, cols, scores);
                    }
                }
            }
        });
    }

    /// <summary>The scores of the open rows of a tile of integer sums: base_i + base_j - factor_i·factor_j·(sum - offset·Σq_j),
    /// with the rows' sums <paramref name="sums0"/>, <paramref name="sums1"/> (all of the depth, or a split's head).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileScores(int* tile, uint open, int i0, Vector256<int> sums0, Vector256<int> sums1, Vector256<float> vb0,
        Vector256<float> vb1, Vector256<float> vf0, Vector256<float> vf1, float[] rowBase, float[] rowFactor, float* scores)
    {
        for (; open != 0; open &= open - 1)
        {
            int r = System.Numerics.BitOperations.TrailingZeroCount(open), i = i0 + r;
            var dot0 = Vector256.ConvertToSingle(Vector256.Load(tile + r * PanelRows) - sums0);
            var dot1 = Vector256.ConvertToSingle(Vector256.Load(tile + r * PanelRows + 8) - sums1);
            var rb = Vector256.Create(rowBase[i]);
            var rf = Vector256.Create(rowFactor[i]);
            (rb + vb0 - rf * vf0 * dot0).Store(scores + r * PanelRows);
            (rb + vb1 - rf * vf1 * dot1).Store(scores + r * PanelRows + 8);
        }
    }

    /// <summary>Groups [g0, g1) of a block against a panel, added to the tile's sums of the groups before g0 (g0 = 0:
    /// a fresh tile), for the rows in <paramref name="open"/> (the others' sums are left behind: nobody reads them).
    /// One item alone (the one-at-a-time path) is bound by reading the panels: a one-row kernel. After a split, a tile
    /// with at most <see cref="SparseRows"/> rows still open runs them one by one: a row costs the one-row kernel's
    /// two multiplies per group against the 6-row kernel's twelve for the whole tile, and the panel is in L1.
    /// The byte kernels read the block's bytes (<paramref name="block"/>), the widening ones its widened copy
    /// (<paramref name="wide"/>, null for the others).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Run(KernelKind kind, byte* block, short* wide, sbyte* panel, int g0, int g1, int* tile, uint open, bool oneRow)
    {
        // Item r's values start 4·r elements into a group (bytes or widened).
        byte* a = block + g0 * ItemRows * 4;
        short* w = kind == KernelKind.Wide ? wide + g0 * ItemRows * 4 : null;
        sbyte* b = panel + g0 * PanelRows * 4;
        int groups = g1 - g0;
        bool add = g0 > 0;
        if (oneRow) OneRow(kind, a, w, 0, b, groups, tile, add);
        else if (add && System.Numerics.BitOperations.PopCount(open) <= SparseRows)
            for (; open != 0; open &= open - 1)
            {
                int r = System.Numerics.BitOperations.TrailingZeroCount(open);
                OneRow(kind, a, w, r, b, groups, tile + r * PanelRows, true);
            }
        else if (kind == KernelKind.Vnni) Kernel<VnniDot>(a, b, groups, tile, add);
        else if (kind == KernelKind.Vnni512) Int8VnniCode.Tile(a, b, groups, tile, add ? 1 : 0);
        else if (kind == KernelKind.Narrow) Kernel<NarrowDot>(a, b, groups, tile, add);
        else WideKernel(w, b, groups, tile, add);
    }

    /// <summary>Item <paramref name="r"/> of the block through the one-row kernel of the given kind.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneRow(KernelKind kind, byte* a, short* w, int r, sbyte* b, int groups, int* tile, bool add)
    {
        if (kind == KernelKind.Vnni) KernelOneRow<VnniDot>(a + r * 4, b, groups, tile, add);
        else if (kind == KernelKind.Vnni512) Int8VnniCode.Row(a + r * 4, b, groups, tile, add ? 1 : 0);
        else if (kind == KernelKind.Narrow) KernelOneRow<NarrowDot>(a + r * 4, b, groups, tile, add);
        else WideKernelOneRow(w + r * 4, b, groups, tile, add);
    }

    /// <summary>Adds to each 32-bit lane k the sum of the 4 products of its bytes: row k's group against the item's 4
    /// bytes broadcast.</summary>
    private interface IByteDot
    {
        static abstract Vector256<int> Add(Vector256<int> sums, Vector256<byte> item, Vector256<sbyte> rows);
    }

    private readonly struct VnniDot : IByteDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> item, Vector256<sbyte> rows) =>
            AvxVnni.MultiplyWideningAndAdd(sums, item, rows);
    }

    /// <summary>The same sums on AVX2 for items within <see cref="NarrowLevels"/>: pairs in 16 bits (exact there),
    /// then the pairs of pairs by <c>vpmaddwd</c> with ones.</summary>
    private readonly struct NarrowDot : IByteDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Add(Vector256<int> sums, Vector256<byte> item, Vector256<sbyte> rows) =>
            sums + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(item, rows), Vector256<short>.One);
    }

    /// <summary>Open rows up to which a tile's rest runs row by row (<see cref="Run"/>).</summary>
    private const int SparseRows = 3;

    /// <summary>
    /// Row 0 of <see cref="Kernel"/>'s tile (the others are not written; row r from a + 4r into tile + 16r): four
    /// independent pairs of accumulators, so the adds do not wait on each other's latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelOneRow<TDot>(byte* a, sbyte* b, int groups, int* tile, bool add) where TDot : IByteDot
    {
        Vector256<int> p0 = default, p1 = default, q0 = default, q1 = default, r0 = default, r1 = default, s0 = default, s1 = default;
        if (add) { p0 = Vector256.Load(tile); p1 = Vector256.Load(tile + 8); }
        int g = 0;
        const int stepA = ItemRows * 4, stepB = PanelRows * 4;
        for (; g + 4 <= groups; g += 4)
        {
            var x = Vector256.Create(*(int*)a).AsByte();
            p0 = TDot.Add(p0, x, Vector256.Load(b)); p1 = TDot.Add(p1, x, Vector256.Load(b + 32));
            x = Vector256.Create(*(int*)(a + stepA)).AsByte();
            q0 = TDot.Add(q0, x, Vector256.Load(b + stepB)); q1 = TDot.Add(q1, x, Vector256.Load(b + stepB + 32));
            x = Vector256.Create(*(int*)(a + 2 * stepA)).AsByte();
            r0 = TDot.Add(r0, x, Vector256.Load(b + 2 * stepB)); r1 = TDot.Add(r1, x, Vector256.Load(b + 2 * stepB + 32));
            x = Vector256.Create(*(int*)(a + 3 * stepA)).AsByte();
            s0 = TDot.Add(s0, x, Vector256.Load(b + 3 * stepB)); s1 = TDot.Add(s1, x, Vector256.Load(b + 3 * stepB + 32));
            a += 4 * stepA;
            b += 4 * stepB;
        }
        for (; g < groups; g++)
        {
            var x = Vector256.Create(*(int*)a).AsByte();
            p0 = TDot.Add(p0, x, Vector256.Load(b)); p1 = TDot.Add(p1, x, Vector256.Load(b + 32));
            a += stepA;
            b += stepB;
        }
        ((p0 + q0) + (r0 + s0)).Store(tile);
        ((p1 + q1) + (r1 + s1)).Store(tile + 8);
    }

    [ThreadStatic] private static float[]? t_base, t_factor;
    [ThreadStatic] private static int[]? t_sums;
    [ThreadStatic] private static int[]?[]? t_headSums;
    [ThreadStatic] private static float[]?[]? t_tails;

    /// <summary>The first n values (zeros for null), then zeros up to <paramref name="padded"/>, in the calling thread's buffer.</summary>
    private static float[] Padded(ref float[]? cache, float[]? values, int n, int padded)
    {
        var buffer = cache is { } c && c.Length >= padded ? c : (cache = new float[padded]);
        if (values is null) buffer.AsSpan(0, padded).Clear();
        else { values.AsSpan(0, n).CopyTo(buffer); buffer.AsSpan(n, padded - n).Clear(); }
        return buffer;
    }

    /// <summary>offset·Σq of the first n rows (the correction for the unsigned item values, <see cref="Items.Offset"/>),
    /// zeros up to <paramref name="padded"/>.</summary>
    private static int[] PaddedSums(ref int[]? cache, int[] sums, int n, int padded, int offset)
    {
        var buffer = cache is { } c && c.Length >= padded ? c : (cache = new int[padded]);
        for (int j = 0; j < n; j++) buffer[j] = offset * sums[j];
        buffer.AsSpan(n, padded - n).Clear();
        return buffer;
    }

    /// <summary><see cref="PaddedSums(ref int[], int[], int, int, int)"/> for split <paramref name="split"/>'s head sums.</summary>
    private static int[] PaddedSums(ref int[]?[]? cache, int split, int[] sums, int n, int padded, int offset)
    {
        if (cache is null || cache.Length <= split) Array.Resize(ref cache, split + 1);
        return PaddedSums(ref cache[split], sums, n, padded, offset);
    }

    /// <summary>Split <paramref name="split"/>'s row tail factors, zeros up to <paramref name="padded"/>.</summary>
    private static float[] PaddedTails(int split, float[] tails, int n, int padded)
    {
        if (t_tails is null || t_tails.Length <= split) Array.Resize(ref t_tails, split + 1);
        return Padded(ref t_tails[split], tails, n, padded);
    }

    /// <summary>
    /// A 6x16 tile of Σ bytes(a)·bytes(b) over <paramref name="groups"/> groups of 4: <paramref name="a"/> holds 6
    /// items × 4 bytes per group, <paramref name="b"/> 16 rows × 4 bytes per group; the tile is written row-major
    /// (<paramref name="add"/>: added to what it holds).
    /// The accumulators stay in registers only when nothing in this method takes an address (hence the out pointer).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TDot>(byte* a, sbyte* b, int groups, int* tile, bool add) where TDot : IByteDot
    {
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (add)
        {
            c00 = Vector256.Load(tile); c01 = Vector256.Load(tile + 8);
            c10 = Vector256.Load(tile + 16); c11 = Vector256.Load(tile + 24);
            c20 = Vector256.Load(tile + 32); c21 = Vector256.Load(tile + 40);
            c30 = Vector256.Load(tile + 48); c31 = Vector256.Load(tile + 56);
            c40 = Vector256.Load(tile + 64); c41 = Vector256.Load(tile + 72);
            c50 = Vector256.Load(tile + 80); c51 = Vector256.Load(tile + 88);
        }
        for (int g = 0; g < groups; g++)
        {
            var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 32);
            int* ai = (int*)a;
            var x = Vector256.Create(ai[0]).AsByte();
            c00 = TDot.Add(c00, x, b0); c01 = TDot.Add(c01, x, b1);
            x = Vector256.Create(ai[1]).AsByte();
            c10 = TDot.Add(c10, x, b0); c11 = TDot.Add(c11, x, b1);
            x = Vector256.Create(ai[2]).AsByte();
            c20 = TDot.Add(c20, x, b0); c21 = TDot.Add(c21, x, b1);
            x = Vector256.Create(ai[3]).AsByte();
            c30 = TDot.Add(c30, x, b0); c31 = TDot.Add(c31, x, b1);
            x = Vector256.Create(ai[4]).AsByte();
            c40 = TDot.Add(c40, x, b0); c41 = TDot.Add(c41, x, b1);
            x = Vector256.Create(ai[5]).AsByte();
            c50 = TDot.Add(c50, x, b0); c51 = TDot.Add(c51, x, b1);
            a += ItemRows * 4;
            b += PanelRows * 4;
        }
        // Lanes: b0 holds rows 0-7 of the panel, b1 rows 8-15.
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72);
        c50.Store(tile + 80); c51.Store(tile + 88);
    }

    /// <summary>The item bytes widened to 16 bits (the calling thread's buffer).</summary>
    private static short[] Widened(byte[] packed)
    {
        var buffer = t_wide is { } w && w.Length >= packed.Length ? w : (t_wide = new short[packed.Length]);
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 32 <= packed.Length; k += 32)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref packed[k]));
                lo.AsInt16().StoreUnsafe(ref buffer[k]);
                hi.AsInt16().StoreUnsafe(ref buffer[k + 16]);
            }
        for (; k < packed.Length; k++) buffer[k] = packed[k];
        return buffer;
    }

    [ThreadStatic] private static short[]? t_wide;

    /// <summary>
    /// <see cref="Kernel"/> for AVX2 without VNNI, the same sums: per group, a row's 4 bytes widened to 16 bits
    /// (<c>vpmovsxbw</c>), times the item's 4 widened values broadcast, summed in pairs by <c>vpmaddwd</c> (exact: a
    /// pair is at most 2·255·127), so each 32-bit lane holds half of a row's group. Six items against 16 rows would
    /// need 24 accumulators of the 16 registers, so the panel goes in two halves of 8 rows (12 accumulators, 2 row
    /// registers, 1 item); at the end each item's two registers of half-sums fold into its 8 rows' sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideKernel(short* a, sbyte* b, int groups, int* tile, bool add)
    {
        for (int h = 0; h < 2; h++)
        {
            Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            short* ap = a;
            sbyte* bp = b + 32 * h;
            for (int g = 0; g < groups; g++)
            {
                var b0 = Avx2.ConvertToVector256Int16(bp);      // rows 8h .. 8h + 3, 4 values each
                var b1 = Avx2.ConvertToVector256Int16(bp + 16); // rows 8h + 4 .. 8h + 7
                var x = Vector256.Create(*(long*)ap).AsInt16();
                c00 = Avx2.Add(c00, Avx2.MultiplyAddAdjacent(x, b0)); c01 = Avx2.Add(c01, Avx2.MultiplyAddAdjacent(x, b1));
                x = Vector256.Create(*(long*)(ap + 4)).AsInt16();
                c10 = Avx2.Add(c10, Avx2.MultiplyAddAdjacent(x, b0)); c11 = Avx2.Add(c11, Avx2.MultiplyAddAdjacent(x, b1));
                x = Vector256.Create(*(long*)(ap + 8)).AsInt16();
                c20 = Avx2.Add(c20, Avx2.MultiplyAddAdjacent(x, b0)); c21 = Avx2.Add(c21, Avx2.MultiplyAddAdjacent(x, b1));
                x = Vector256.Create(*(long*)(ap + 12)).AsInt16();
                c30 = Avx2.Add(c30, Avx2.MultiplyAddAdjacent(x, b0)); c31 = Avx2.Add(c31, Avx2.MultiplyAddAdjacent(x, b1));
                x = Vector256.Create(*(long*)(ap + 16)).AsInt16();
                c40 = Avx2.Add(c40, Avx2.MultiplyAddAdjacent(x, b0)); c41 = Avx2.Add(c41, Avx2.MultiplyAddAdjacent(x, b1));
                x = Vector256.Create(*(long*)(ap + 20)).AsInt16();
                c50 = Avx2.Add(c50, Avx2.MultiplyAddAdjacent(x, b0)); c51 = Avx2.Add(c51, Avx2.MultiplyAddAdjacent(x, b1));
                ap += ItemRows * 4;
                bp += PanelRows * 4;
            }
            int* t = tile + 8 * h;
            StoreRows(t, Fold(c00, c01), add); StoreRows(t + 16, Fold(c10, c11), add);
            StoreRows(t + 32, Fold(c20, c21), add); StoreRows(t + 48, Fold(c30, c31), add);
            StoreRows(t + 64, Fold(c40, c41), add); StoreRows(t + 80, Fold(c50, c51), add);
        }
    }

    /// <summary>Row 0 of <see cref="WideKernel"/> (as <see cref="KernelOneRow"/>): the 16 rows in four registers of
    /// half-sums, two groups at a time into separate accumulators so the adds do not wait on each other.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideKernelOneRow(short* a, sbyte* b, int groups, int* tile, bool add)
    {
        Vector256<int> p0 = default, p1 = default, p2 = default, p3 = default, q0 = default, q1 = default, q2 = default, q3 = default;
        const int stepA = ItemRows * 4, stepB = PanelRows * 4;
        int g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            var x = Vector256.Create(*(long*)a).AsInt16();
            p0 = Avx2.Add(p0, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b)));
            p1 = Avx2.Add(p1, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 16)));
            p2 = Avx2.Add(p2, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 32)));
            p3 = Avx2.Add(p3, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 48)));
            x = Vector256.Create(*(long*)(a + stepA)).AsInt16();
            q0 = Avx2.Add(q0, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + stepB)));
            q1 = Avx2.Add(q1, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + stepB + 16)));
            q2 = Avx2.Add(q2, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + stepB + 32)));
            q3 = Avx2.Add(q3, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + stepB + 48)));
            a += 2 * stepA;
            b += 2 * stepB;
        }
        if (g < groups)
        {
            var x = Vector256.Create(*(long*)a).AsInt16();
            p0 = Avx2.Add(p0, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b)));
            p1 = Avx2.Add(p1, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 16)));
            p2 = Avx2.Add(p2, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 32)));
            p3 = Avx2.Add(p3, Avx2.MultiplyAddAdjacent(x, Avx2.ConvertToVector256Int16(b + 48)));
        }
        StoreRows(tile, Fold(p0 + q0, p1 + q1), add);
        StoreRows(tile + 8, Fold(p2 + q2, p3 + q3), add);
    }

    /// <summary>8 rows' sums from two registers of half-sums (lanes 2k, 2k + 1: row k of 4, of <paramref name="lo"/>
    /// then <paramref name="hi"/>): the in-lane pairwise add gives rows 0 1 4 5 | 2 3 6 7, the 64-bit permute orders them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Fold(Vector256<int> lo, Vector256<int> hi) =>
        Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(int* at, Vector256<int> sums, bool add) => (add ? Vector256.Load(at) + sums : sums).Store(at);
}
