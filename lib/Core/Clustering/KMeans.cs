using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LabelAssignment.Numerics;

namespace LabelAssignment.Clustering;

/// <summary>
/// K-means clustering as scikit-learn 1.2.1 does it: greedy k-means++ seeding (2 + ln k local trials per centre),
/// Lloyd iterations until the centres stop moving (tolerance relative to the data's variance) or the labels stop
/// changing, and <see cref="KMeansOptions.NInit"/> restarts keeping the lowest inertia.
/// </summary>
/// <remarks>
/// Distances are ||x||² + ||c||² - 2 x·c with x·c from <see cref="Gemm"/>, over fixed blocks of rows run in
/// parallel; every reduction adds the blocks' partial results in block order, and each restart draws from its own
/// random stream derived from the seed, so a seed gives bitwise the same result whatever the thread count.
/// As in scikit-learn the data are centred (a copy) before clustering, which keeps the float32 expansion accurate.
/// Lloyd's assignment step skips the all-centres product for items that Hamerly's bound proves keep their centre
/// (the bound is checked with a margin above float32 rounding, so labels are those of the full product).
/// </remarks>
public static unsafe class KMeans
{
    // Rows per parallel work item: large enough that packing the centres once per block is cheap next to the
    // product (k x 384 x d), small enough that the block and its k x 384 products stay in L2.
    private const int BlockRows = 384;

    /// <summary>
    /// Clusters the rows of <paramref name="data"/> (n x d, finite) into <see cref="KMeansOptions.K"/> clusters.
    /// </summary>
    /// <param name="data">n x d embeddings; not modified.</param>
    /// <param name="options">K, restarts, tolerance, seed, spherical mode, threads.</param>
    /// <param name="progress">Receives one report per Lloyd iteration of each restart.</param>
    /// <param name="cancellationToken">Checked between k-means++ steps and iterations.</param>
    /// <returns>Labels (length n), K x d centres, inertia and iteration count of the best restart.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN or infinity, K larger than n, a zero row when spherical.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range (see <see cref="KMeansOptions.Validate"/>).</exception>
    public static KMeansResult Fit(EmbeddingMatrix data, KMeansOptions options,
        IProgress<KMeansProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (data.Count == 0)
            throw new ArgumentException("data is empty (0 rows): KMeans needs at least one item.", nameof(data));
        if (options.K > data.Count)
            throw new ArgumentException(
                $"n_samples={data.Count} should be >= n_clusters={options.K}: options.K must not exceed the number of rows of data.",
                nameof(options));
        data.EnsureFinite(nameof(data));

        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.MaxDegreeOfParallelism,
            CancellationToken = cancellationToken,
        };
        var work = new Work(data, options, parallel);

        KMeansRun? best = null;
        var inertias = new double[options.NInit];
        for (int r = 0; r < options.NInit; r++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var rng = new Xoshiro256(options.Seed, (ulong)r);
            float[] centres = work.PlusPlus(ref rng);
            var run = work.Lloyd(centres, r, progress);
            inertias[r] = run.Inertia;
            if (best is null || run.Inertia < best.Inertia)
                best = run with { Restart = r };
        }

        float[] finalCentres = best!.Centres;
        if (work.Mean is { } mean)
            for (int j = 0; j < options.K; j++)
                for (int t = 0; t < data.Dimension; t++)
                    finalCentres[j * data.Dimension + t] = (float)(finalCentres[j * data.Dimension + t] + mean[t]);
        return new KMeansResult(best.Labels, new EmbeddingMatrix(finalCentres, options.K, data.Dimension),
            best.Inertia, best.Iterations, best.Converged, best.Restart, inertias);
    }

    private sealed record KMeansRun(int[] Labels, float[] Centres, double Inertia, int Iterations, bool Converged, int Restart);

    /// <summary>The prepared data shared by all restarts.</summary>
    private sealed class Work
    {
        private readonly float[] _x;        // n x d, centred (or unit rows when spherical)
        private readonly float[] _xNorms;   // ||x_i||²
        private readonly int _n, _d, _k, _blocks;
        private readonly KMeansOptions _options;
        private readonly ParallelOptions _parallel;
        private readonly double _tolerance; // absolute: options.Tolerance x mean feature variance
        private readonly bool _small;       // too little work per pass to pay for waking threads

        public double[]? Mean { get; }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public Work(EmbeddingMatrix data, KMeansOptions options, ParallelOptions parallel)
        {
            _n = data.Count; _d = data.Dimension; _k = options.K;
            _options = options; _parallel = parallel;
            _blocks = (_n + BlockRows - 1) / BlockRows;
            _small = (long)_n * _d * _k < 1 << 22;
            _x = (float[])data.Data.Clone();
            int n = _n, d = _d;
            if (options.Spherical)
            {
                for (int i = 0; i < n; i++)
                {
                    var row = _x.AsSpan(i * d, d);
                    float norm = TensorPrimitives.Norm(row);
                    if (norm == 0f)
                        throw new ArgumentException($"data row {i} is all zeros: spherical k-means needs rows with a direction.", nameof(data));
                    TensorPrimitives.Divide(row, norm, row);
                }
            }
            // Column means: float partial sums over blocks of rows (vectorised), accumulated in double.
            var mean = new double[d];
            var block = new float[d];
            for (int i0 = 0; i0 < n; i0 += 64)
            {
                block.AsSpan().Clear();
                for (int i = i0; i < Math.Min(n, i0 + 64); i++)
                    TensorPrimitives.Add(block, _x.AsSpan(i * d, d), block);
                for (int t = 0; t < d; t++) mean[t] += block[t];
            }
            for (int t = 0; t < d; t++) mean[t] /= n;
            var meanF = new float[d];
            for (int t = 0; t < d; t++) meanF[t] = (float)mean[t];
            if (!options.Spherical)
            {
                // Centre the copy so that ||x||² + ||c||² - 2x·c does not cancel catastrophically in float32.
                for (int i = 0; i < n; i++)
                {
                    var row = _x.AsSpan(i * d, d);
                    TensorPrimitives.Subtract(row, meanF, row);
                }
                Mean = mean;
            }
            _xNorms = new float[n];
            double sumSquares = 0;
            for (int i = 0; i < n; i++)
            {
                _xNorms[i] = TensorPrimitives.SumOfSquares(_x.AsSpan(i * d, d));
                sumSquares += _xNorms[i];
            }
            // scikit-learn: tol * mean(var(X, axis=0)); Σ var = Σ ||x - mean||² / n = (Σ ||x||² - n ||mean||²) / n.
            double meanSquares = 0;
            if (options.Spherical)
                foreach (double m in mean) meanSquares += m * m;
            double variance = Math.Max(0, sumSquares / n - meanSquares);
            _tolerance = options.Tolerance * variance / d;
        }

        /// <summary>Greedy k-means++ (scikit-learn's _kmeans_plusplus without sample weights).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public float[] PlusPlus(ref Xoshiro256 rng)
        {
            int n = _n, d = _d, k = _k;
            int trials = 2 + (int)Math.Log(k);
            var centres = new float[k * d];
            int first = rng.NextInt(n);
            _x.AsSpan(first * d, d).CopyTo(centres);

            var closest = new float[n];
            var candidates = new int[trials];
            var dist = new float[trials * n];
            var partial = new double[_blocks * trials];
            var pots = new double[trials];
            var cumulative = new double[n];

            candidates[0] = first;
            double pot = Distances(candidates.AsSpan(0, 1), dist, partial, closest: null);
            dist.AsSpan(0, n).CopyTo(closest);

            for (int c = 1; c < k; c++)
            {
                _parallel.CancellationToken.ThrowIfCancellationRequested();
                double running = 0;
                for (int i = 0; i < n; i++)
                {
                    running += closest[i];
                    cumulative[i] = running;
                }
                for (int t = 0; t < trials; t++)
                {
                    double target = rng.NextDouble() * pot;
                    // np.searchsorted(cumsum, target), side='left', clipped to n - 1.
                    int id = cumulative.AsSpan().BinarySearch(target);
                    if (id < 0) id = ~id;
                    else while (id > 0 && cumulative[id - 1] == target) id--;
                    candidates[t] = Math.Min(id, n - 1);
                }
                Distances(candidates, dist, partial, closest);
                Array.Clear(pots);
                for (int b = 0; b < _blocks; b++)
                    for (int t = 0; t < trials; t++)
                        pots[t] += partial[b * trials + t];
                int bestTrial = 0;
                for (int t = 1; t < trials; t++)
                    if (pots[t] < pots[bestTrial]) bestTrial = t;
                pot = pots[bestTrial];
                var bestDist = dist.AsSpan(bestTrial * n, n);
                TensorPrimitives.Min(closest, bestDist, closest);
                _x.AsSpan(candidates[bestTrial] * d, d).CopyTo(centres.AsSpan(c * d, d));
            }
            return centres;
        }

        /// <summary>
        /// dist[t * n + i] = ||x_i - x_candidate[t]||²; partial[b * T + t] = block b's sum of
        /// min(closest, dist) (or of dist when closest is null). Returns the total for candidate 0.
        /// </summary>
        private double Distances(ReadOnlySpan<int> candidates, float[] dist, double[] partial, float[]? closest)
        {
            int n = _n, d = _d, trials = candidates.Length;
            // Candidate rows gathered and padded to an even count (the kernel's width) by repeating the last one.
            int padded = (trials + 1) & ~1;
            var cand = new float[padded * d];
            var cNorms = new float[trials];
            for (int t = 0; t < padded; t++)
                _x.AsSpan(candidates[Math.Min(t, trials - 1)] * d, d).CopyTo(cand.AsSpan(t * d, d));
            for (int t = 0; t < trials; t++) cNorms[t] = _xNorms[candidates[t]];
            int[] ids = candidates.ToArray();
            For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
            {
                int i0 = b * BlockRows, rows = Math.Min(BlockRows, n - i0);
                float[] dots = ArrayPool<float>.Shared.Rent(padded * rows);
                try
                {
                    DotsWithFew(_x.AsSpan(i0 * d, rows * d), rows, d, cand, padded, dots);
                    for (int t = 0; t < trials; t++)
                    {
                        int cid = ids[t];
                        float cn = cNorms[t];
                        double sum = 0;
                        for (int r = 0; r < rows; r++)
                        {
                            int i = i0 + r;
                            float v = _xNorms[i] + cn - 2f * dots[t * rows + r];
                            if (v < 0f || i == cid) v = 0f;
                            dist[t * n + i] = v;
                            sum += closest is null ? v : Math.Min(v, closest[i]);
                        }
                        partial[b * trials + t] = sum;
                    }
                }
                finally { ArrayPool<float>.Shared.Return(dots); }
            });
            double total = 0;
            for (int b = 0; b < _blocks; b++) total += partial[b * trials];
            return total;
        }

        /// <summary>Lloyd iterations from the given centres (scikit-learn's _kmeans_single_lloyd).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public KMeansRun Lloyd(float[] centres, int restart, IProgress<KMeansProgress>? progress)
        {
            int n = _n, d = _d, k = _k;
            var labels = new int[n];
            var labelsOld = new int[n];
            Array.Fill(labelsOld, -1);
            var minDist = new float[n];
            // Hamerly's lower bound on each item's distance to its second-nearest centre (NaN: unknown yet).
            var lower = new float[n];
            Array.Fill(lower, float.NaN);
            var next = new float[k * d];
            var blockInertia = new double[_blocks];
            bool strict = false, converged = false;
            int iteration = 0;
            while (iteration < _options.MaxIterations)
            {
                _parallel.CancellationToken.ThrowIfCancellationRequested();
                iteration++;
                double inertia = Assign(centres, labels, minDist, blockInertia, lower);
                Update(labels, minDist, next);
                double shift = 0;
                float maxMove = 0;
                for (int j = 0; j < k; j++)
                {
                    float s = TensorPrimitives.Distance(centres.AsSpan(j * d, d), next.AsSpan(j * d, d));
                    shift += (double)s * s;
                    maxMove = Math.Max(maxMove, s);
                }
                // No centre came closer to any item than it moved: the bounds stay valid after subtracting that.
                TensorPrimitives.Subtract(lower, maxMove, lower);
                (centres, next) = (next, centres);
                progress?.Report(new KMeansProgress(restart, _options.NInit, iteration, inertia, shift));
                if (labels.AsSpan().SequenceEqual(labelsOld))
                {
                    strict = true;
                    converged = true;
                    break;
                }
                if (shift <= _tolerance)
                {
                    converged = true;
                    break;
                }
                labels.CopyTo(labelsOld, 0);
            }
            // The last update moved the centres: label the items once more so labels and centres agree.
            if (!strict)
                Assign(centres, labels, minDist, blockInertia, lower);
            return new KMeansRun(labels, centres, ExactInertia(centres, labels), iteration, converged, restart);
        }

        /// <summary>
        /// Nearest centre of every item (ties: lowest index); returns the inertia of that assignment.
        /// Hamerly's test skips the all-centres product for an item whose exact distance to its current centre is
        /// below its lower bound to every other centre (<paramref name="lower"/>, NaN when unknown); the other items
        /// of a block are gathered and go through <see cref="Gemm"/> together, which also refreshes their bounds.
        /// Each item's outcome depends only on its own data, so the result does not depend on the thread count.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private double Assign(float[] centres, int[] labels, float[] minDist, double[] blockInertia, float[] lower)
        {
            int n = _n, d = _d, k = _k;
            var cNorms = new float[k];
            for (int j = 0; j < k; j++) cNorms[j] = TensorPrimitives.SumOfSquares(centres.AsSpan(j * d, d));
            float cMax = TensorPrimitives.Max(cNorms);
            For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
            {
                int i0 = b * BlockRows, rows = Math.Min(BlockRows, n - i0);
                int[] pending = ArrayPool<int>.Shared.Rent(rows);
                float[]? gathered = null;
                float[] dots = ArrayPool<float>.Shared.Rent(rows * k);
                float[] best = ArrayPool<float>.Shared.Rent(rows);
                float[] second = ArrayPool<float>.Shared.Rent(rows);
                int[] bestJ = ArrayPool<int>.Shared.Rent(rows);
                try
                {
                    var x = _x.AsSpan();
                    int count = 0;
                    for (int r = 0; r < rows; r++)
                    {
                        int i = i0 + r;
                        float l = lower[i];
                        if (!float.IsNaN(l) && l > 0f)
                        {
                            int a = labels[i];
                            float dist = Math.Max(0f, _xNorms[i] + cNorms[a] - 2f * TensorPrimitives.Dot(x.Slice(i * d, d), centres.AsSpan(a * d, d)));
                            // Slack well above float32 rounding of the expansion (about 1e-7 of the norms).
                            if (dist + 1e-5f * (_xNorms[i] + cMax) < l * l)
                            {
                                minDist[i] = dist;
                                continue;
                            }
                        }
                        pending[count++] = r;
                    }
                    ReadOnlySpan<float> block;
                    if (count == rows)
                        block = x.Slice(i0 * d, rows * d);
                    else
                    {
                        gathered = ArrayPool<float>.Shared.Rent(Math.Max(1, count * d));
                        for (int p = 0; p < count; p++)
                            x.Slice((i0 + pending[p]) * d, d).CopyTo(gathered.AsSpan(p * d, d));
                        block = gathered.AsSpan(0, count * d);
                    }
                    if (count > 0)
                    {
                        // Centres x items (not items x centres): k fills the kernel's short side better than its
                        // long one, and the argmin below then runs down contiguous items, vectorised.
                        Gemm.MultiplyTransposed(centres, k, block, count, d, dots, count);
                        NearestCentre(dots, cNorms, k, count, best, second, bestJ);
                    }
                    for (int p = 0; p < count; p++)
                    {
                        int i = i0 + pending[p];
                        float xn = _xNorms[i];
                        labels[i] = bestJ[p];
                        minDist[i] = Math.Max(0f, xn + best[p]);
                        lower[i] = MathF.Sqrt(Math.Max(0f, xn + second[p]));
                    }
                    double sum = 0;
                    for (int r = 0; r < rows; r++) sum += minDist[i0 + r];
                    blockInertia[b] = sum;
                }
                finally
                {
                    ArrayPool<int>.Shared.Return(bestJ);
                    ArrayPool<float>.Shared.Return(second);
                    ArrayPool<float>.Shared.Return(best);
                    ArrayPool<float>.Shared.Return(dots);
                    if (gathered is not null) ArrayPool<float>.Shared.Return(gathered);
                    ArrayPool<int>.Shared.Return(pending);
                }
            });
            double total = 0;
            for (int b = 0; b < _blocks; b++) total += blockInertia[b];
            return total;
        }

        /// <summary>
        /// For each row r: best[r] = min over j of ||c_j||² - 2 dots[j * rows + r], bestJ[r] the first j reaching it,
        /// second[r] the next smallest value (+infinity when k = 1).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void NearestCentre(float[] dots, float[] cNorms, int k, int rows, float[] best, float[] second, int[] bestJ)
        {
            int r0 = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var two = Vector256.Create(2f);
                for (; r0 + 8 <= rows; r0 += 8)
                {
                    var b = Vector256.Create(cNorms[0]) - two * Vector256.LoadUnsafe(ref dots[r0]);
                    var s2 = Vector256.Create(float.PositiveInfinity);
                    var bj = Vector256<int>.Zero;
                    for (int j = 1; j < k; j++)
                    {
                        var v = Vector256.Create(cNorms[j]) - two * Vector256.LoadUnsafe(ref dots[j * rows + r0]);
                        var less = Vector256.LessThan(v, b);
                        s2 = Vector256.ConditionalSelect(less, b, Vector256.Min(s2, v));
                        b = Vector256.ConditionalSelect(less, v, b);
                        bj = Vector256.ConditionalSelect(less.AsInt32(), Vector256.Create(j), bj);
                    }
                    b.StoreUnsafe(ref best[r0]);
                    s2.StoreUnsafe(ref second[r0]);
                    bj.StoreUnsafe(ref bestJ[r0]);
                }
            }
            for (int r = r0; r < rows; r++)
            {
                float b = cNorms[0] - 2f * dots[r], s2 = float.PositiveInfinity;
                int bj = 0;
                for (int j = 1; j < k; j++)
                {
                    float v = cNorms[j] - 2f * dots[j * rows + r];
                    if (v < b) { s2 = b; b = v; bj = j; }
                    else if (v < s2) s2 = v;
                }
                best[r] = b;
                second[r] = s2;
                bestJ[r] = bj;
            }
        }

        /// <summary>New centres: means of their items; empty clusters take the items farthest from their centre.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Update(int[] labels, float[] minDist, float[] next)
        {
            int n = _n, d = _d, k = _k;
            var counts = new int[k];
            foreach (int l in labels) counts[l]++;
            // Counting sort of items by label, each cluster's items in index order: the sums below then do not
            // depend on how the clusters are spread over threads.
            var start = new int[k + 1];
            for (int j = 0; j < k; j++) start[j + 1] = start[j] + counts[j];
            var order = new int[n];
            var fill = start.AsSpan(0, k).ToArray();
            for (int i = 0; i < n; i++) order[fill[labels[i]]++] = i;
            For(k, (long)n * d < 1 << 18, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (j) =>
            {
                var sum = next.AsSpan(j * d, d);
                sum.Clear();
                for (int p = start[j]; p < start[j + 1]; p++)
                    TensorPrimitives.Add(sum, _x.AsSpan(order[p] * d, d), sum);
            });

            int empty = 0;
            for (int j = 0; j < k; j++) if (counts[j] == 0) empty++;
            if (empty > 0)
            {
                // scikit-learn's _relocate_empty_clusters: the items farthest from their centre seed the empty
                // clusters (ties broken by index so the choice is deterministic).
                var far = Enumerable.Range(0, n).OrderByDescending(i => minDist[i]).ThenBy(i => i).Take(empty).ToArray();
                int f = 0;
                for (int j = 0; j < k; j++)
                {
                    if (counts[j] != 0) continue;
                    int i = far[f++];
                    var xi = _x.AsSpan(i * d, d);
                    var old = next.AsSpan(labels[i] * d, d);
                    TensorPrimitives.Subtract(old, xi, old);
                    counts[labels[i]]--;
                    xi.CopyTo(next.AsSpan(j * d, d));
                    counts[j] = 1;
                }
            }
            for (int j = 0; j < k; j++)
            {
                var c = next.AsSpan(j * d, d);
                if (counts[j] > 1)
                    TensorPrimitives.Divide(c, counts[j], c);
                if (_options.Spherical)
                {
                    float norm = TensorPrimitives.Norm(c);
                    if (norm > 0f) TensorPrimitives.Divide(c, norm, c);
                }
            }
        }

        /// <summary>Σ ||x_i - c_label(i)||², computed directly (not through the expansion), blocks added in order.</summary>
        private double ExactInertia(float[] centres, int[] labels)
        {
            int n = _n, d = _d;
            var partial = new double[_blocks];
            For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
            {
                int i0 = b * BlockRows, i1 = Math.Min(n, i0 + BlockRows);
                double sum = 0;
                for (int i = i0; i < i1; i++)
                {
                    double dist = TensorPrimitives.Distance(_x.AsSpan(i * d, d), centres.AsSpan(labels[i] * d, d));
                    sum += dist * dist;
                }
                partial[b] = sum;
            });
            double total = 0;
            foreach (double p in partial) total += p;
            return total;
        }
    }

    /// <summary>
    /// body(0) .. body(count - 1), in parallel, or inline when there is one item or too little work to pay for
    /// waking threads. Every body writes only its own slots, so the result is the same either way.
    /// </summary>
    private static void For(int count, bool inline, ParallelOptions options, Action<int> body)
    {
        if (inline || count == 1 || options.MaxDegreeOfParallelism == 1)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < count; i++) body(i);
        }
        else
            Parallel.For(0, count, options, body);
    }

    /// <summary>
    /// dots[t * rows + r] = x_r · c_t for a few candidates (count even): four rows by two candidates in eight
    /// vector accumulators, streaming the rows once without packing. k-means++ calls it with 2 + ln k candidates,
    /// too few for <see cref="Gemm"/>'s tiles to pay for packing all rows at every step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void DotsWithFew(ReadOnlySpan<float> x, int rows, int d, ReadOnlySpan<float> candidates, int count, Span<float> dots)
    {
        if (count % 2 != 0 || x.Length < rows * d || candidates.Length < count * d || dots.Length < count * rows)
            throw new ArgumentException("DotsWithFew: inconsistent shapes.");
        float* s = stackalloc float[8];
        fixed (float* px = x, pc = candidates, po = dots)
        {
            for (int r = 0; r < rows; r += 4)
            {
                int valid = Math.Min(4, rows - r);
                // Short last group: repeat the last row (its results are not stored).
                float* x0 = px + (long)r * d;
                float* x1 = valid > 1 ? x0 + d : x0;
                float* x2 = valid > 2 ? x0 + 2 * d : x0;
                float* x3 = valid > 3 ? x0 + 3 * d : x0;
                for (int t = 0; t < count; t += 2)
                {
                    float* c0 = pc + (long)t * d, c1 = c0 + d;
                    if (Vector512.IsHardwareAccelerated)
                        Dots4x2V512(x0, x1, x2, x3, c0, c1, d, s);
                    else
                        Dots4x2V256(x0, x1, x2, x3, c0, c1, d, s);
                    for (int q = 0; q < valid; q++)
                    {
                        po[(long)t * rows + r + q] = s[q];
                        po[(long)(t + 1) * rows + r + q] = s[4 + q];
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots4x2V512(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int d, float* s)
    {
        int dv = d & ~15;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int q = 0; q < dv; q += 16)
        {
            var u = Vector512.Load(c0 + q);
            var v = Vector512.Load(c1 + q);
            var w = Vector512.Load(x0 + q);
            a0 = Vector512.FusedMultiplyAdd(w, u, a0); b0 = Vector512.FusedMultiplyAdd(w, v, b0);
            w = Vector512.Load(x1 + q);
            a1 = Vector512.FusedMultiplyAdd(w, u, a1); b1 = Vector512.FusedMultiplyAdd(w, v, b1);
            w = Vector512.Load(x2 + q);
            a2 = Vector512.FusedMultiplyAdd(w, u, a2); b2 = Vector512.FusedMultiplyAdd(w, v, b2);
            w = Vector512.Load(x3 + q);
            a3 = Vector512.FusedMultiplyAdd(w, u, a3); b3 = Vector512.FusedMultiplyAdd(w, v, b3);
        }
        s[0] = Vector512.Sum(a0); s[1] = Vector512.Sum(a1); s[2] = Vector512.Sum(a2); s[3] = Vector512.Sum(a3);
        s[4] = Vector512.Sum(b0); s[5] = Vector512.Sum(b1); s[6] = Vector512.Sum(b2); s[7] = Vector512.Sum(b3);
        ScalarTail(x0, x1, x2, x3, c0, c1, dv, d, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Dots4x2V256(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int d, float* s)
    {
        int dv = Vector256.IsHardwareAccelerated ? d & ~7 : 0;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        for (int q = 0; q < dv; q += 8)
        {
            var u = Vector256.Load(c0 + q);
            var v = Vector256.Load(c1 + q);
            var w = Vector256.Load(x0 + q);
            a0 = Vector256.FusedMultiplyAdd(w, u, a0); b0 = Vector256.FusedMultiplyAdd(w, v, b0);
            w = Vector256.Load(x1 + q);
            a1 = Vector256.FusedMultiplyAdd(w, u, a1); b1 = Vector256.FusedMultiplyAdd(w, v, b1);
            w = Vector256.Load(x2 + q);
            a2 = Vector256.FusedMultiplyAdd(w, u, a2); b2 = Vector256.FusedMultiplyAdd(w, v, b2);
            w = Vector256.Load(x3 + q);
            a3 = Vector256.FusedMultiplyAdd(w, u, a3); b3 = Vector256.FusedMultiplyAdd(w, v, b3);
        }
        s[0] = Vector256.Sum(a0); s[1] = Vector256.Sum(a1); s[2] = Vector256.Sum(a2); s[3] = Vector256.Sum(a3);
        s[4] = Vector256.Sum(b0); s[5] = Vector256.Sum(b1); s[6] = Vector256.Sum(b2); s[7] = Vector256.Sum(b3);
        ScalarTail(x0, x1, x2, x3, c0, c1, dv, d, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ScalarTail(float* x0, float* x1, float* x2, float* x3, float* c0, float* c1, int from, int d, float* s)
    {
        for (int q = from; q < d; q++)
        {
            s[0] += x0[q] * c0[q]; s[1] += x1[q] * c0[q]; s[2] += x2[q] * c0[q]; s[3] += x3[q] * c0[q];
            s[4] += x0[q] * c1[q]; s[5] += x1[q] * c1[q]; s[6] += x2[q] * c1[q]; s[7] += x3[q] * c1[q];
        }
    }

    /// <summary>
    /// xoshiro256** seeded through SplitMix64 from (seed, stream): independent, reproducible streams per restart
    /// that do not depend on the .NET version (unlike System.Random's unspecified algorithm).
    /// </summary>
    internal struct Xoshiro256
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro256(ulong seed, ulong stream)
        {
            ulong sm = seed ^ (0x9E3779B97F4A7C15UL * (stream + 1));
            _s0 = SplitMix(ref sm); _s1 = SplitMix(ref sm); _s2 = SplitMix(ref sm); _s3 = SplitMix(ref sm);
        }

        private static ulong SplitMix(ref ulong x)
        {
            ulong z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public ulong Next()
        {
            ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            ulong t = _s1 << 17;
            _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }

        /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        /// <summary>Uniform in [0, n) (Lemire's multiply-high; the bias is below 2⁻³²).</summary>
        public int NextInt(int n) => (int)Math.BigMul(Next(), (ulong)n, out _);
    }
}
