using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
/// Extreme but finite data (largest |value| above 2^40 or below 2^-40) are scaled by a power of two for the fit,
/// which is exact, so values up to float's range neither overflow nor underflow; centres and inertia are reported
/// in the data's units. Under cosine each row is normalised scale-safely: only an exactly zero row is refused.
/// </remarks>
public static class KMeans
{
    // Rows per parallel work item: large enough that packing the centres once per block is cheap next to the
    // product (k x 384 x d), small enough that the block and its k x 384 products stay in L2.
    private const int BlockRows = 384;

    private const string Stage = "k-means";

    /// <summary>
    /// Clusters the rows of <paramref name="data"/> (n x d, finite) into <see cref="KMeansOptions.K"/> clusters.
    /// </summary>
    /// <param name="data">n x d embeddings; not modified.</param>
    /// <param name="options">K, restarts, tolerance, seed, metric, threads.</param>
    /// <param name="progress">
    /// Stage "k-means", out of <c>NInit x MaxIterations</c>: one report per Lloyd iteration of each restart (Detail:
    /// restart, iteration, inertia, centre shift), and at the end of a restart that stopped early a report that skips
    /// its unused iterations, so the last report has <c>Done == Total</c>.
    /// </param>
    /// <param name="cancellationToken">Checked between k-means++ steps and iterations.</param>
    /// <returns>Labels (length n), K x d centres, inertia and iteration count of the best restart.</returns>
    /// <exception cref="ArgumentException">Empty data, NaN or infinity, K larger than n, a zero row when the metric is
    /// cosine, or <see cref="KMeansOptions.InitialCentres"/> of another dimension (or with a zero row under cosine).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range (see <see cref="KMeansOptions.Validate"/>).</exception>
    public static KMeansResult Fit(EmbeddingMatrix data, KMeansOptions options,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
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
        if (options.InitialCentres is { } given)
        {
            if (given.Dimension != data.Dimension)
                throw new ArgumentException(
                    $"InitialCentres has dimension {given.Dimension} but data has {data.Dimension}: warm-start centres must live in the data's space.",
                    nameof(options));
            // All K given: every restart would start from the same centres.
            if (given.Count == options.K) options = options with { NInit = 1 };
        }

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
            // (ulong)(long): seeds >= 0 give the streams the former ulong seed gave.
            var rng = new Xoshiro256((ulong)(long)options.Seed, (ulong)r);
            float[] centres = options.InitialCentres is null ? work.PlusPlus(ref rng) : work.PlusPlusFrom(options.InitialCentres, ref rng);
            var run = work.Lloyd(centres, r, progress);
            inertias[r] = run.Inertia;
            if (run.Iterations < options.MaxIterations)
                progress?.Report(new WorkProgress(Stage, (r + 1L) * options.MaxIterations, (long)options.NInit * options.MaxIterations,
                    string.Create(CultureInfo.InvariantCulture, $"restart {r + 1} of {options.NInit} stopped after {run.Iterations} iterations: inertia {work.Unscale(run.Inertia):G6}")));
            if (best is null || run.Inertia < best.Inertia)
                best = run with { Restart = r };
        }

        float[] finalCentres = best!.Centres;
        // Back to the caller's units: add the mean, then undo the power-of-two scale (exact; 2^0 for ordinary data).
        double unscale = Math.ScaleB(1.0, work.Exponent);
        if (work.Mean is { } mean)
            for (int j = 0; j < options.K; j++)
                for (int t = 0; t < data.Dimension; t++)
                    finalCentres[j * data.Dimension + t] = (float)((finalCentres[j * data.Dimension + t] + mean[t]) * unscale);
        for (int r = 0; r < inertias.Length; r++) inertias[r] = work.Unscale(inertias[r]);
        return new KMeansResult(best.Labels, new EmbeddingMatrix(finalCentres, options.K, data.Dimension),
            work.Unscale(best.Inertia), best.Iterations, best.Converged, best.Restart, inertias);
    }

    private sealed record KMeansRun(int[] Labels, float[] Centres, double Inertia, int Iterations, bool Converged, int Restart);

    /// <summary>The prepared data shared by all restarts.</summary>
    private sealed class Work
    {
        private readonly float[] _x;        // n x d, centred (or unit rows when the metric is cosine)
        private readonly float[] _xNorms;   // ||x_i||²
        private readonly int _n, _d, _k, _blocks;
        private readonly KMeansOptions _options;
        private readonly ParallelOptions _parallel;
        private readonly double _tolerance; // absolute: options.Tolerance x mean feature variance
        private readonly bool _small;       // too little work per pass to pay for waking threads

        public double[]? Mean { get; }

        /// <summary>The working copy is the data times 2^-Exponent (euclidean only; 0 unless the data are extreme).</summary>
        public int Exponent { get; }

        /// <summary>A sum of squares of the working copy in the caller's units (exact: a power of two).</summary>
        public double Unscale(double sumOfSquares) => Exponent == 0 ? sumOfSquares : Math.ScaleB(sumOfSquares, 2 * Exponent);

        // Data whose largest |value| lies in [Small, Large] are used as they are (ordinary data: same bits). Far
        // outside, float32 squared norms and products overflow (|x| ~ 1e19) or underflow (|x| ~ 1e-19), so the copy
        // is scaled by a power of two (exact) to bring its largest value near 1.
        private const float Large = 1.099511627776e12f;   // 2^40
        private const float Small = 9.094947017729282e-13f; // 2^-40

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public Work(EmbeddingMatrix data, KMeansOptions options, ParallelOptions parallel)
        {
            _n = data.Count; _d = data.Dimension; _k = options.K;
            _options = options; _parallel = parallel;
            _blocks = (_n + BlockRows - 1) / BlockRows;
            _small = (long)_n * _d * _k < 1 << 22;
            _x = (float[])data.Data.Clone();
            int n = _n, d = _d;
            if (options.Metric == DistanceMetric.Cosine)
            {
                for (int i = 0; i < n; i++)
                {
                    var row = _x.AsSpan(i * d, d);
                    // Scale-safe: a tiny or huge row keeps its direction; only an exactly zero row has none.
                    if (!DistanceKernels.TryNormalise(row, row))
                        throw new ArgumentException(
                            $"data row {i} is the zero vector (all {d} values are exactly 0): Metric = Cosine (spherical k-means) needs rows with a direction.",
                            nameof(data));
                }
            }
            else if (_x.Length > 0)
            {
                float largest = Math.Abs(_x[TensorPrimitives.IndexOfMaxMagnitude(_x)]);
                if (largest > Large || (largest < Small && largest > 0f))
                {
                    Exponent = Math.ILogB(largest);
                    ScaleByPowerOfTwo(_x, -Exponent);
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
            if (options.Metric != DistanceMetric.Cosine)
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
            if (options.Metric == DistanceMetric.Cosine)
                foreach (double m in mean) meanSquares += m * m;
            double variance = Math.Max(0, sumSquares / n - meanSquares);
            _tolerance = options.Tolerance * variance / d;
        }

        /// <summary>v *= 2^e, through double so that factors beyond float32's exponent range stay exact.</summary>
        private static void ScaleByPowerOfTwo(Span<float> v, int e)
        {
            double f = Math.ScaleB(1.0, e);
            for (int k = 0; k < v.Length; k++) v[k] = (float)(v[k] * f);
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
            candidates[0] = first;
            double pot = Distances(candidates.AsSpan(0, 1), dist, partial, closest: null);
            dist.AsSpan(0, n).CopyTo(closest);
            GreedySteps(1, centres, closest, pot, trials, ref rng);
            return centres;
        }

        private float[]? _givenClosest;   // ||x_i - nearest given centre||², the same for every restart

        /// <summary>
        /// Warm start: the given centres (prepared as the rows are: unit length, or centred) as centres 0..m-1, the
        /// rest by PlusPlus's greedy loop started from the given centres' potential instead of a random first centre.
        /// A separate path so the cold start stays exactly PlusPlus.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public float[] PlusPlusFrom(EmbeddingMatrix given, ref Xoshiro256 rng)
        {
            int n = _n, d = _d, k = _k, m = given.Count;
            var centres = new float[k * d];
            given.Data.AsSpan(0, m * d).CopyTo(centres);
            for (int j = 0; j < m; j++)
            {
                var c = centres.AsSpan(j * d, d);
                if (_options.Metric == DistanceMetric.Cosine)
                {
                    float norm = TensorPrimitives.Norm(c);
                    if (norm == 0f)
                        throw new ArgumentException(
                            $"InitialCentres row {j} is all zeros: Metric = Cosine (spherical k-means) needs centres with a direction.", "options");
                    TensorPrimitives.Divide(c, norm, c);
                }
                else if (Mean is { } mean)
                    for (int t = 0; t < d; t++) c[t] -= (float)mean[t];
            }
            if (m == k) return centres;

            if (_givenClosest is null)
            {
                var closestGiven = new float[n];
                var prepared = centres.AsSpan(0, m * d).ToArray();
                BlockParallel.For(_blocks, _small, _parallel, b =>
                {
                    int i1 = Math.Min(n, (b + 1) * BlockRows);
                    for (int i = b * BlockRows; i < i1; i++)
                    {
                        float best = float.PositiveInfinity;
                        for (int j = 0; j < m; j++)
                        {
                            float e = TensorPrimitives.Distance(_x.AsSpan(i * d, d), prepared.AsSpan(j * d, d));
                            best = Math.Min(best, e * e);
                        }
                        closestGiven[i] = best;
                    }
                });
                _givenClosest = closestGiven;
            }
            var closest = (float[])_givenClosest.Clone();
            double pot = 0;
            foreach (float v in closest) pot += v;

            GreedySteps(m, centres, closest, pot, 2 + (int)Math.Log(k), ref rng);
            return centres;
        }

        /// <summary>
        /// Greedy k-means++ from centre <paramref name="from"/> on: each step draws <paramref name="trials"/> candidates
        /// with probability proportional to <paramref name="closest"/> (squared distance to the nearest centre so far,
        /// potential <paramref name="pot"/>) and keeps the one that lowers the potential most. Shared by the cold start
        /// (from 1) and the warm start (from the number of given centres), so both draw the same way.
        /// </summary>
        private void GreedySteps(int from, float[] centres, float[] closest, double pot, int trials, ref Xoshiro256 rng)
        {
            int n = _n, d = _d, k = _k;
            var candidates = new int[trials];
            var dist = new float[trials * n];
            var partial = new double[_blocks * trials];
            var pots = new double[trials];
            var cumulative = new double[n];
            for (int c = from; c < k; c++)
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
                TensorPrimitives.Min(closest, dist.AsSpan(bestTrial * n, n), closest);
                _x.AsSpan(candidates[bestTrial] * d, d).CopyTo(centres.AsSpan(c * d, d));
            }
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
            BlockParallel.For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
            {
                int i0 = b * BlockRows, rows = Math.Min(BlockRows, n - i0);
                float[] dots = ArrayPool<float>.Shared.Rent(padded * rows);
                try
                {
                    SmallKernels.DotsWithFew(_x.AsSpan(i0 * d, rows * d), rows, d, cand, padded, dots);
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
        public KMeansRun Lloyd(float[] centres, int restart, IProgress<WorkProgress>? progress)
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
                progress?.Report(new WorkProgress(Stage, (long)restart * _options.MaxIterations + iteration,
                    (long)_options.NInit * _options.MaxIterations,
                    string.Create(CultureInfo.InvariantCulture,
                        $"restart {restart + 1} of {_options.NInit}, iteration {iteration}: inertia {Unscale(inertia):G6}, centre shift {Unscale(shift):G3}")));
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
            BlockParallel.For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
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
                        SmallKernels.NearestTwo(dots, cNorms, k, count, best, second, bestJ);
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
            BlockParallel.For(k, (long)n * d < 1 << 18, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (j) =>
            {
                var sum = next.AsSpan(j * d, d);
                sum.Clear();
                for (int p = start[j]; p < start[j + 1]; p++)
                    TensorPrimitives.Add(sum, _x.AsSpan(order[p] * d, d), sum);
            });

            // The clusters empty now: a relocation below may empty another (a cluster of one far item), which then
            // stays empty this iteration, as in scikit-learn (it would otherwise take more items than were picked).
            var emptyClusters = Enumerable.Range(0, k).Where(j => counts[j] == 0).ToArray();
            if (emptyClusters.Length > 0)
            {
                // scikit-learn's _relocate_empty_clusters: the items farthest from their centre seed the empty
                // clusters (ties broken by index so the choice is deterministic).
                var far = Enumerable.Range(0, n).OrderByDescending(i => minDist[i]).ThenBy(i => i).Take(emptyClusters.Length).ToArray();
                for (int f = 0; f < emptyClusters.Length; f++)
                {
                    int j = emptyClusters[f], i = far[f];
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
                if (_options.Metric == DistanceMetric.Cosine)
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
            BlockParallel.For(_blocks, _small, _parallel, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
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
}
