using System.Numerics;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// Undirected neighbour lists in compressed sparse row form: the neighbours of row i are
/// <c>Indices[Offsets[i] .. Offsets[i + 1])</c>, in ascending order, never including i itself.
/// Memory is linear in the number of rows plus twice the number of pairs.
/// </summary>
public sealed class NeighborGraph
{
    /// <summary>Row starts into <see cref="Indices"/>: length <see cref="Count"/> + 1.</summary>
    public long[] Offsets { get; }

    /// <summary>Neighbour indices, row after row (each pair appears twice, once per end).</summary>
    public int[] Indices { get; }

    /// <summary>Number of rows (points).</summary>
    public int Count => Offsets.Length - 1;

    /// <summary>Number of unordered pairs {i, j}, i ≠ j, within the radius.</summary>
    public long PairCount => Indices.LongLength / 2;

    /// <summary>Blocks settled by the low-rank first pass, and blocks that needed the full product (diagnostics).</summary>
    internal (int FirstPass, int Full) Blocks { get; init; }

    /// <summary>Wraps CSR arrays (not copied).</summary>
    public NeighborGraph(long[] offsets, int[] indices)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(indices);
        if (offsets.Length < 1 || offsets[0] != 0 || offsets[^1] != indices.LongLength)
            throw new ArgumentException(
                $"offsets must start at 0 and end at indices.Length={indices.LongLength}; got length {offsets.Length}.",
                nameof(offsets));
        Offsets = offsets;
        Indices = indices;
    }

    /// <summary>The neighbours of row <paramref name="i"/> (ascending, without i).</summary>
    public ReadOnlySpan<int> Neighbors(int i)
    {
        if ((uint)i >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"row index must be in [0, {Count}).");
        long start = Offsets[i];
        return Indices.AsSpan((int)start, (int)(Offsets[i + 1] - start));
    }

    /// <summary>How many other rows lie within the radius of row <paramref name="i"/>.</summary>
    public int Degree(int i)
    {
        if ((uint)i >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(i), i, $"row index must be in [0, {Count}).");
        return (int)(Offsets[i + 1] - Offsets[i]);
    }
}

/// <summary>
/// All pairs of rows within a radius of each other (cosine or euclidean distance), computed like a matrix product:
/// the rows are cut into blocks, each block of rows is multiplied against each block of columns on or above the
/// diagonal with <see cref="Gemm.MultiplyTransposed"/>, and the dot products are thresholded inside the block, so
/// the n x n distance matrix never exists. Blocks run in parallel; the output does not depend on the thread count.
/// </summary>
/// <remarks>
/// <para>Precision. The block product runs in float32. Its rounding error is bounded (for any summation order) by
/// about d·2⁻²⁴·(|x||y|); pairs whose float32 distance is farther than that bound from the radius are decided by
/// the float32 value, and the few inside that band are recomputed in double precision from the original rows
/// (cosine: 1 - x·y/(|x||y|); euclidean: Σ(xₖ - yₖ)²) and kept when distance &lt;= radius. The result therefore
/// equals the exact (double precision) answer. scikit-learn decides cosine pairs in float32 (OpenBLAS order) and
/// euclidean pairs in float64, so a pair lying within about 1e-6 of the radius may fall on the other side there;
/// such pairs are rare (none changed a label on the anchor data).</para>
/// <para>Speed. When d &gt;= 384 and n &gt;= 2048, a first pass runs the same blocked product on 129-value rows
/// z(x) = [Qx, |x - Πx|] (Q: a rank-128 basis of the data's dominant subspace, found by a randomised range finder on
/// 1024 sample rows). By Cauchy-Schwarz on the residuals, z(x)·z(y) plus a bounded rounding slack is an upper bound on
/// x·y, so the pairs it rules out cannot be neighbours; the rest (a few percent on embedding-like data) get one full
/// dot product each and the same decision as above. A block where more than 1/16 of the pairs survive (data without
/// low-rank structure) takes the full block product instead; rows are first grouped by their nearest of 64 seed
/// rows, so the surviving pairs gather in a few such blocks. Either way the pairs found are exactly the same.</para>
/// </remarks>
public static class RadiusNeighbors
{
    /// <summary>Rank of the low-rank first pass (0: off); settable for benchmark tuning only.</summary>
    internal static int ProjectionRank { get; set; } = 128;

    /// <summary>Whether the first pass reorders rows to gather candidate pairs; settable for benchmark tuning only.</summary>
    internal static bool Reordering { get; set; } = true;

    /// <summary>Stage name of the progress reports.</summary>
    internal const string ProgressStage = "radius neighbours";

    /// <summary>Block edge (rows per block); settable for benchmark tuning only.</summary>
    internal static int DefaultBlock { get; set; } = 512;

    /// <summary>
    /// Every unordered pair {i, j}, i ≠ j, with distance(x[i], x[j]) &lt;= <paramref name="radius"/>.
    /// </summary>
    /// <param name="x">n x d embeddings; must be finite, and without zero rows for cosine.</param>
    /// <param name="radius">Largest distance that counts as a neighbour (&gt; 0).</param>
    /// <param name="metric">Cosine (1 - cos, rows need not be normalised) or euclidean.</param>
    /// <param name="progress">Stage "radius neighbours": tiles (pairs of row blocks) done, in order, ending with Done == Total.</param>
    /// <param name="cancellationToken">Stops the computation between blocks.</param>
    public static NeighborGraph Compute(EmbeddingMatrix x, double radius, DistanceMetric metric,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(radius > 0) || !double.IsFinite(radius))
            throw new ArgumentOutOfRangeException(nameof(radius), radius, "radius must be a finite number > 0.");
        ValidateInput(x, metric, nameof(x));
        return ComputeCore(x, radius, metric, DefaultBlock, progress, cancellationToken);
    }

    /// <summary>Throws when <paramref name="x"/> holds NaN/infinity, or (cosine) a zero row.</summary>
    internal static void ValidateInput(EmbeddingMatrix x, DistanceMetric metric, string parameterName)
    {
        if (metric is not (DistanceMetric.Cosine or DistanceMetric.Euclidean))
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "metric must be Cosine or Euclidean.");
        x.EnsureFinite(parameterName);
        if (metric == DistanceMetric.Cosine)
        {
            for (int i = 0; i < x.Count; i++)
            {
                if (TensorPrimitives.IndexOfMaxMagnitude(x.Row(i)) is int k && x.Row(i)[k] == 0)
                    throw new ArgumentException(
                        $"{parameterName} row {i} is a zero vector: cosine distance is undefined for it " +
                        "(remove the row or use the euclidean metric).", parameterName);
            }
        }
    }

    /// <summary>
    /// 1 for ordinary data; otherwise the power of two that brings the largest |value| to [1, 2), when it lies
    /// outside [2^-40, 2^40] (squares of d such values would overflow or underflow a float dot product).
    /// </summary>
    internal static double EuclideanScale(EmbeddingMatrix x)
    {
        if (x.Data.Length == 0) return 1;
        double max = Math.Abs(x.Data[TensorPrimitives.IndexOfMaxMagnitude(x.Data)]);
        if (max == 0 || max is >= 9.094947017729282e-13 and <= 1099511627776.0 /* 2^-40, 2^40 */) return 1;
        return Math.ScaleB(1.0, -Math.ILogB(max));
    }

    internal static NeighborGraph ComputeCore(EmbeddingMatrix x, double radius, DistanceMetric metric, int block,
        IProgress<WorkProgress>? progress, CancellationToken cancellationToken, int? projectionRank = null, bool? reorder = null)
    {
        int n = x.Count, d = x.Dimension;
        if (n == 0) return new NeighborGraph([0], []);
        if (metric == DistanceMetric.Euclidean && EuclideanScale(x) is double scale and not 1)
        {
            // Values so large that a float dot product overflows (or so small that it underflows): scale rows and
            // radius by the same power of two, which is exact (but for components that fall below float's normal range,
            // negligible beside the largest), so every distance scales with it and no decision changes.
            var scaled = new float[x.Data.Length];
            TensorPrimitives.Multiply(x.Data, (float)scale, scaled);
            x = new EmbeddingMatrix(scaled, n, d);
            radius *= scale;
        }
        // The low-rank first pass pays off when d is well above its rank and there are enough blocks to amortise it.
        int rank = projectionRank ?? (d >= 3 * ProjectionRank && n >= 4 * block ? ProjectionRank : 0);
        var prep = new Prepared(x, radius, metric, rank);
        if (reorder ?? Reordering) prep.Reorder();

        int nb = (n + block - 1) / block;
        int tiles = nb * (nb + 1) / 2;
        var tileI = new int[tiles];
        var tileJ = new int[tiles];
        for (int I = 0, t = 0; I < nb; I++)
            for (int J = I; J < nb; J++, t++) { tileI[t] = I; tileJ[t] = J; }

        // Pairs of each tile as (row, col) packed in one long, in row-major order within the tile.
        var found = new long[tiles][];
        int done = 0, firstPass = 0;
        var reportGate = new object();
        var options = new ParallelOptions { CancellationToken = cancellationToken };
        Parallel.For(0, tiles, options,
            () => new Worker(block),
            (t, _, w) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                found[t] = w.Tile(prep, tileI[t] * block, Math.Min(block, n - tileI[t] * block),
                    tileJ[t] * block, Math.Min(block, n - tileJ[t] * block));
                if (w.LastWasFirstPass) Interlocked.Increment(ref firstPass);
                // Counted and reported under one lock so that reports from the workers arrive in increasing order.
                if (progress is not null)
                    lock (reportGate) progress.Report(new WorkProgress(ProgressStage, ++done, tiles));
                return w;
            },
            _ => { });

        // CSR assembly in tile order (block row by block row, pairs row-major inside a tile): for row i the pairs (j, i)
        // with j < i come before the pairs (i, j) with j > i, each ascending, so every list comes out sorted without a
        // sort, and the same whatever the thread count.
        var offsets = new long[n + 1];
        foreach (var pairs in found)
            foreach (long p in pairs)
            {
                offsets[(int)(p >> 32) + 1]++;
                offsets[(int)p + 1]++;
            }
        for (int i = 0; i < n; i++) offsets[i + 1] += offsets[i];
        if (offsets[n] > Array.MaxLength)
            throw new InvalidOperationException(
                $"{offsets[n] / 2} pairs lie within radius={radius}: too many to store; use a smaller radius.");
        var indices = new int[offsets[n]];
        var fill = offsets.AsSpan(0, n).ToArray();
        foreach (var pairs in found)
            foreach (long p in pairs)
            {
                int i = (int)(p >> 32), j = (int)p;
                indices[fill[i]++] = j;
                indices[fill[j]++] = i;
            }
        if (prep.Order is not null)
        {
            // Found in the reordered positions: sort each list back into row order.
            Parallel.For(0, (n + 255) / 256, blk =>
            {
                for (int i = blk * 256; i < Math.Min(n, blk * 256 + 256); i++)
                    Array.Sort(indices, (int)offsets[i], (int)(offsets[i + 1] - offsets[i]));
            });
        }
        return new NeighborGraph(offsets, indices) { Blocks = (firstPass, tiles - firstPass) };
    }

    /// <summary>The rows in the form the block product needs, plus what the thresholds and the exact check need.</summary>
    private sealed class Prepared
    {
        public readonly EmbeddingMatrix Original;
        public float[] Rows;                    // unit rows (cosine) or the original rows (euclidean), by position
        // Position -> row of x, when the rows were reordered (see Reorder); null when position = row.
        public int[]? Order;
        public readonly int Dimension;
        public readonly DistanceMetric Metric;
        public readonly double Radius;
        public readonly double[] Norms;         // cosine: |x_i| in double, for the exact check
        // Candidate iff dot >= RowLo[i] + ColLo[j]; certainly within iff dot >= RowHi[i] + ColHi[j].
        public float[] RowLo, ColLo, RowHi, ColHi;
        // Optional first pass on the low-rank bound rows: a pair can be a candidate only if z_i·z_j >= ZRowLo[i] + ZColLo[j].
        public readonly ProjectionBound? Bound;
        public float[] ZRowLo = [], ZColLo = [], ZRows = [];

        public Prepared(EmbeddingMatrix x, double radius, DistanceMetric metric, int projectionRank)
        {
            Original = x;
            Dimension = x.Dimension;
            Metric = metric;
            Radius = radius;
            int n = x.Count, d = x.Dimension;
            // Bound on the float32 error of one dot product of the prepared rows, relative to |x||y|, with room for
            // the rounding of the normalisation and of the thresholds themselves.
            double rel = 2.0 * (d + 8) * Math.Pow(2, -24);
            RowLo = new float[n]; ColLo = new float[n]; RowHi = new float[n]; ColHi = new float[n];
            if (metric == DistanceMetric.Cosine)
            {
                Rows = GC.AllocateUninitializedArray<float>(x.Data.Length);  // every value is written below
                Norms = new double[n];
                var rows = Rows;
                var norms = Norms;
                Parallel.For(0, (n + 255) / 256, blk =>
                {
                    for (int i = blk * 256; i < Math.Min(n, blk * 256 + 256); i++)
                    {
                        var row = x.Data.AsSpan(i * d, d);
                        double norm = Math.Sqrt(SquaredNorm(row));
                        norms[i] = norm;
                        // Each value within 2 ulp of x/|x|, inside the "+ 8" of the error band above. The reciprocal
                        // stays in double: as a float it underflows for norms near float's range (1/|x| < 2^-126) and
                        // overflows for rows of subnormal values, and then the directions come out wrong.
                        var dst = rows.AsSpan(i * d, d);
                        double inv = 1 / norm;
                        if (inv is >= 7.888609052210118e-31 and <= 1.2676506002282294e30 /* 2^-100, 2^100 */)
                            TensorPrimitives.Multiply(row, (float)inv, dst);
                        else
                            for (int k = 0; k < d; k++) dst[k] = (float)(row[k] * inv);
                    }
                });
                // distance = 1 - dot <= radius  <=>  dot >= 1 - radius.
                float lo = FloatRounding.Down(1 - radius - rel), hi = FloatRounding.Up(1 - radius + rel);
                Array.Fill(RowLo, lo);
                Array.Fill(RowHi, hi);
                if (projectionRank > 0)
                {
                    var sq = new double[n];
                    Parallel.For(0, (n + 255) / 256, blk =>
                    {
                        for (int i = blk * 256; i < Math.Min(n, blk * 256 + 256); i++)
                            sq[i] = SquaredNorm(rows.AsSpan(i * d, d));
                    });
                    (Bound, ZRowLo, ZColLo) = BuildBound(n, d, sq, projectionRank);
                }
            }
            else
            {
                Rows = x.Data;
                Norms = [];
                double r2 = radius * radius;
                var sq = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double s = SquaredNorm(x.Row(i));
                    sq[i] = s;
                    // |x-y|² = s_i + s_j - 2 dot <= r²  <=>  dot >= (s_i + s_j - r²) / 2, with a band of
                    // rel·(s_i + s_j) / 2 >= rel·|x||y| around it for the float32 dot product.
                    RowLo[i] = FloatRounding.Down((s * (1 - rel) - r2) / 2);
                    ColLo[i] = FloatRounding.Down(s * (1 - rel) / 2);
                    RowHi[i] = FloatRounding.Up((s * (1 + rel) - r2) / 2);
                    ColHi[i] = FloatRounding.Up(s * (1 + rel) / 2);
                }
                if (projectionRank > 0)
                    (Bound, ZRowLo, ZColLo) = BuildBound(n, d, sq, projectionRank);
            }
        }

        /// <summary>
        /// The first-pass thresholds: the full float32 product can reach RowLo[i] + ColLo[j] only if
        /// fl(z_i·z_j) &gt;= that - (Slack + γ_d)|x||y|, and |x||y| &lt;= (s_i + s_j) / 2. Doubled, plus a few ulps of each
        /// threshold, to cover the rounding of the thresholds and of their sum.
        /// </summary>
        private (ProjectionBound?, float[], float[]) BuildBound(int n, int d, double[] sq, int rank)
        {
            var bound = ProjectionBound.Build(Rows, n, d, sq, rank);
            if (bound is null) return (null, [], []);
            ZRows = bound.Z;
            double u = Math.Pow(2, -24);
            double delta = 2 * (bound.Slack + d * u / (1 - d * u)) + 1e-7;
            var zr = new float[n];
            var zc = new float[n];
            for (int i = 0; i < n; i++)
            {
                zr[i] = FloatRounding.Down(RowLo[i] - delta * sq[i] / 2 - 4 * u * Math.Abs(RowLo[i]));
                zc[i] = FloatRounding.Down(ColLo[i] - delta * sq[i] / 2 - 4 * u * Math.Abs(ColLo[i]));
            }
            return (bound, zr, zc);
        }

        /// <summary>The exact decision for a pair in the uncertainty band, in double precision.</summary>
        public bool Within(int i, int j)
        {
            if (Order is { } order) (i, j) = (order[i], order[j]);
            var a = Original.Row(i);
            var b = Original.Row(j);
            if (Metric == DistanceMetric.Cosine)
            {
                double dot = 0;
                for (int k = 0; k < a.Length; k++) dot += (double)a[k] * b[k];
                return 1 - dot / (Norms[i] * Norms[j]) <= Radius;
            }
            double s = 0;
            for (int k = 0; k < a.Length; k++)
            {
                double t = (double)a[k] - b[k];
                s += t * t;
            }
            return s <= Radius * Radius;
        }

        /// <summary>
        /// Puts rows that share their nearest of 64 seed rows (in the bound's space) next to each other, so that the
        /// pairs the first pass cannot rule out gather in fewer blocks, which then take the full block product,
        /// instead of being spread thinly over all of them. Only the speed depends on this order.
        /// </summary>
        public void Reorder()
        {
            if (Bound is null) return;
            int n = RowLo.Length, zd = Bound.Dimension, d = Dimension;
            const int seeds = 64;
            if (n < 4 * seeds) return;
            var seedRows = new float[seeds * zd];
            for (int t = 0; t < seeds; t++)
                ZRows.AsSpan((int)((long)t * n / seeds) * zd, zd).CopyTo(seedRows.AsSpan(t * zd, zd));
            var sim = new float[(long)n * seeds];
            Gemm.MultiplyTransposedParallel(ZRows, n, seedRows, seeds, zd, sim, seeds);
            var group = new int[n];
            var count = new int[seeds + 1];
            for (int i = 0; i < n; i++)
            {
                group[i] = TensorPrimitives.IndexOfMax(sim.AsSpan(i * seeds, seeds));
                count[group[i] + 1]++;
            }
            for (int g = 0; g < seeds; g++) count[g + 1] += count[g];
            var order = new int[n];
            for (int i = 0; i < n; i++) order[count[group[i]]++] = i;   // stable: by group, then by row

            float[] Take(float[] a, int width)
            {
                var b = GC.AllocateUninitializedArray<float>(a.Length);
                Parallel.For(0, (n + 255) / 256, blk =>
                {
                    for (int k = blk * 256; k < Math.Min(n, blk * 256 + 256); k++)
                        a.AsSpan(order[k] * width, width).CopyTo(b.AsSpan(k * width, width));
                });
                return b;
            }
            Rows = Take(Rows, d);
            ZRows = Take(ZRows, zd);
            RowLo = Take(RowLo, 1); ColLo = Take(ColLo, 1); RowHi = Take(RowHi, 1); ColHi = Take(ColHi, 1);
            ZRowLo = Take(ZRowLo, 1); ZColLo = Take(ZColLo, 1);
            Order = order;
        }

        /// <summary>Σ v², accumulated in double.</summary>
        private static double SquaredNorm(ReadOnlySpan<float> v)
        {
            double s = 0;
            int k = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var acc0 = Vector256<double>.Zero;
                var acc1 = Vector256<double>.Zero;
                for (; k + 8 <= v.Length; k += 8)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.Create(v.Slice(k, 8)));
                    acc0 += lo * lo;
                    acc1 += hi * hi;
                }
                s = Vector256.Sum(acc0 + acc1);
            }
            for (; k < v.Length; k++) s += (double)v[k] * v[k];
            return s;
        }
    }

    /// <summary>Per-thread scratch: the block product and the pairs found in it.</summary>
    private sealed class Worker(int block)
    {
        private readonly float[] _c = new float[block * block];
        private readonly float[] _lo = new float[block];
        private readonly List<int> _hits = new(1024);
        private readonly List<long> _pairs = new(1024);

        public bool LastWasFirstPass { get; private set; }

        public long[] Tile(Prepared p, int r0, int rows, int c0, int cols)
        {
            _pairs.Clear();
            LastWasFirstPass = false;
            int d = p.Dimension;
            if (p.Bound is { } bound)
            {
                var zRows = p.ZRows;
                // First pass on the (k + 1)-dimensional bound rows; only the pairs it cannot rule out get the full
                // product, one dot product each. When too many survive (no low-rank structure here), the block
                // falls back to the full block product, which gives the same pairs.
                Product(zRows, bound.Dimension, r0, rows, c0, cols);
                if (Scan(p.ZRowLo, p.ZColLo, r0, rows, c0, cols, limit: rows * cols / 16))
                {
                    foreach (int h in _hits)
                    {
                        int i = r0 + h / cols, j = c0 + h % cols;
                        float dot = TensorPrimitives.Dot(p.Rows.AsSpan(i * d, d), p.Rows.AsSpan(j * d, d));
                        if (dot >= p.RowLo[i] + p.ColLo[j]) Decide(p, dot, i, j);
                    }
                    LastWasFirstPass = true;
                    return _pairs.ToArray();
                }
            }
            Product(p.Rows, d, r0, rows, c0, cols);
            Scan(p.RowLo, p.ColLo, r0, rows, c0, cols, int.MaxValue);
            foreach (int h in _hits)
                Decide(p, _c[h], r0 + h / cols, c0 + h % cols);
            return _pairs.ToArray();
        }

        /// <summary>_c[a * cols + b] = row (r0 + a) · row (c0 + b), at least where the scan reads it.</summary>
        private void Product(float[] data, int d, int r0, int rows, int c0, int cols)
        {
            if (r0 != c0)
            {
                Gemm.MultiplyTransposed(data.AsSpan(r0 * d, rows * d), rows, data.AsSpan(c0 * d, cols * d), cols, d, _c, cols);
                return;
            }
            // Diagonal block: only the upper triangle is read, so the lower half of the rows needs only the right half
            // of the columns, which saves a quarter of the block's work.
            int half = rows / 2;
            Gemm.MultiplyTransposed(data.AsSpan(r0 * d, half * d), half, data.AsSpan(c0 * d, cols * d), cols, d, _c, cols);
            Gemm.MultiplyTransposed(data.AsSpan((r0 + half) * d, (rows - half) * d), rows - half,
                data.AsSpan((c0 + half) * d, (cols - half) * d), cols - half, d, _c.AsSpan(half * cols + half), cols);
        }

        /// <summary>
        /// Collects in _hits, in row-major order, the positions a * cols + b (b &gt; a on the diagonal block) where
        /// _c &gt;= rowLo[r0 + a] + colLo[c0 + b]; false as soon as there are more than <paramref name="limit"/>.
        /// </summary>
        private bool Scan(float[] rowLo, float[] colLo, int r0, int rows, int c0, int cols, int limit)
        {
            _hits.Clear();
            var cLo = colLo.AsSpan(c0, cols);
            var lo = _lo.AsSpan(0, cols);
            int w = Vector<float>.Count;
            for (int a = 0; a < rows; a++)
            {
                var c = _c.AsSpan(a * cols, cols);
                TensorPrimitives.Add(cLo, rowLo[r0 + a], lo);
                int b = r0 == c0 ? a + 1 : 0;
                if (Vector.IsHardwareAccelerated)
                {
                    for (; b < cols && b % w != 0; b++)
                        if (c[b] >= lo[b]) _hits.Add(a * cols + b);
                    for (; b + w <= cols; b += w)
                    {
                        var ge = Vector.GreaterThanOrEqual(new Vector<float>(c.Slice(b, w)), new Vector<float>(lo.Slice(b, w)));
                        if (ge == Vector<int>.Zero) continue;
                        for (int k = 0; k < w; k++)
                            if (ge[k] != 0) _hits.Add(a * cols + b + k);
                    }
                }
                for (; b < cols; b++)
                    if (c[b] >= lo[b]) _hits.Add(a * cols + b);
                if (_hits.Count > limit) return false;
            }
            return true;
        }

        /// <summary>Keeps the candidate pair (i, j) whose float32 dot product is <paramref name="dot"/>.</summary>
        private void Decide(Prepared p, float dot, int i, int j)
        {
            if (dot >= p.RowHi[i] + p.ColHi[j] || p.Within(i, j))
            {
                if (p.Order is { } order)
                {
                    (i, j) = (order[i], order[j]);
                    if (i > j) (i, j) = (j, i);
                }
                _pairs.Add(((long)i << 32) | (uint)j);
            }
        }
    }
}
