using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// An exact within-eps index over a large centre table: the centres are split into lists (k-means over a sample of
/// them, about 8·√k lists of at most twice the mean size), and each list keeps a fixed centroid g and a radius R with |p(c) - g| ≤ R for every
/// member c, where p(c) is the centre itself (euclidean) or its direction c/|c| (cosine: cosine distance =
/// |x̂ - ĉ|²/2). By the triangle inequality a list with |p(x) - g| - R above the eps radius holds no centre within
/// eps, so an item scans only the other lists; no centre within eps is ever skipped, so the decision is the
/// brute-force scan's. Within a probed list the same inequality prunes members: each centre's distance r_c to its
/// list centroid is kept (updated when it moves), and only members with | |p(x) - g| - r_c | within the eps radius
/// are scanned. Moves and new centres only grow radii (never shrink them), so the bound stays valid between
/// rebuilds; the tables rebuild the lists when the centre count has doubled. Items are screened against the
/// centroids in batches with the int8 product and its error bound (<see cref="Screen"/>); the ring test of a probed
/// list uses the exact float32 dot.
/// Not thread-safe by itself: the owning ClusterTables' lock guards it (searches under the read lock, Add and Moved
/// under the write lock with the commit that causes them, the build under the tables' list gate).
/// </summary>
internal sealed class CentreLists
{
    private readonly int _d;
    private readonly DistanceMetric _metric;
    private readonly float[] _g;          // lists x d: list centroids (float32, exact as stored: radii are measured from them)
    private readonly double[] _gNorm;
    private readonly CentreIndex _gIndex;  // the centroids with their int8 copy, for the screening product
    private readonly double[] _radius;
    private readonly List<int>[] _members;
    private int[] _listOf;                // centre row -> list; -1 for a zero centre under cosine (kept apart)
    private double[] _ring;               // centre row -> |p(c) - g| of its list (rounded up), kept current as it moves
    private readonly List<int> _zeroRows; // cosine: zero centres have distance 1 to everything, no direction

    private CentreLists(int d, DistanceMetric metric, float[] g, double[] gNorm, double[] radius, List<int>[] members, int[] listOf,
        List<int> zeroRows, int builtAt, double[]? ring = null, CentreIndex? gIndex = null)
    {
        if (gIndex is null)
        {
            int lists = radius.Length;
            gIndex = new CentreIndex(d, lists);
            for (int l = 0; l < lists; l++) gIndex.Set(l, g.AsSpan(l * d, d));
        }
        _gIndex = gIndex;
        _ring = ring ?? new double[listOf.Length];
        _d = d;
        _metric = metric;
        _g = g;
        _gNorm = gNorm;
        _radius = radius;
        _members = members;
        _listOf = listOf;
        _zeroRows = zeroRows;
        BuiltAt = builtAt;
    }

    /// <summary>Lists per √k (faiss's IVF guidance is 4-16·√k: many small lists give tight balls, each costs a
    /// centroid score per item). 8 measured fastest at 10^5 x 512 (4: 0.08-0.75x of faiss's IVF, the 50% join share
    /// falling back to the full scan; 16: slower than 8 at every share). Internal so the bench can compare.</summary>
    internal static double ListsPerRootK { get; set; } = 8;

    /// <summary>Most members a list is split down to (about): the mean list size at 10^5 centres is 37.</summary>
    private const int MaxListSize = 64;

    /// <summary>K-means sample per list (only the speed depends on the lists' quality, never the answer).</summary>
    private const int SamplePerList = 16;

    /// <summary>Number of lists.</summary>
    public int Count => _radius.Length;

    /// <summary>Centre count when the lists were built.</summary>
    public int BuiltAt { get; }

    /// <summary>
    /// Builds lists over centre rows [0, count): k-means on a sample, every centre to its nearest list centroid, then
    /// every list of more than twice the mean size split by k-means over its own members. Without the split, a
    /// centroid near the mean of many directions collects the centres that no other centroid fits (thousands at
    /// 10^5 x 512) with a radius that no item's ball test can rule out.
    /// </summary>
    public static CentreLists Build(float[] rows, double[] centres, double[] norms, int count, int d, DistanceMetric metric, int seed)
    {
        int lists = Math.Max(1, (int)Math.Round(ListsPerRootK * Math.Sqrt(count)));
        // Points in the metric's geometry: directions under cosine.
        var nonZero = Enumerable.Range(0, count).Where(r => metric == DistanceMetric.Euclidean || norms[r] > 0).ToArray();
        lists = Math.Min(lists, Math.Max(1, nonZero.Length));
        var rng = new Random(seed);
        int sampleSize = Math.Min(nonZero.Length, Math.Max(lists * SamplePerList, 1));
        var sample = nonZero.OrderBy(_ => rng.Next()).Take(sampleSize).ToArray();
        var g = sample.Length == 0 ? new float[lists * d] : Partition(rows, norms, sample, d, metric, lists, seed, out _);
        lists = g.Length / d;
        // Every centre to the nearest list centroid (Gemm in blocks; the choice only affects speed, never the answer).
        var label = new int[count];
        const int block = 1024;
        var points = new float[block * d];
        var dots = new float[block * lists];
        var gNorm = new double[lists];
        for (int l = 0; l < lists; l++) gNorm[l] = DistanceKernels.Norm(g.AsSpan(l * d, d));
        for (int r0 = 0; r0 < count; r0 += block)
        {
            int nb = Math.Min(block, count - r0);
            for (int i = 0; i < nb; i++) Point(rows, norms, r0 + i, d, metric, points.AsSpan(i * d, d));
            Gemm.MultiplyTransposedParallel(points.AsMemory(0, nb * d), nb, g.AsMemory(), lists, d, dots.AsMemory(0, nb * lists), lists);
            Parallel.For(0, nb, i =>
            {
                int r = r0 + i;
                if (metric == DistanceMetric.Cosine && norms[r] == 0) { label[r] = -1; return; }
                var row = dots.AsSpan(i * lists, lists);
                int best = 0;
                double bestD = double.PositiveInfinity;
                for (int l = 0; l < lists; l++)
                {
                    double dist = gNorm[l] * gNorm[l] - 2.0 * row[l];
                    if (dist < bestD) { bestD = dist; best = l; }
                }
                label[r] = best;
            });
        }
        // Split the oversized lists: their members to k-means of about the mean list size each.
        var groups = new List<int>[lists];
        for (int l = 0; l < lists; l++) groups[l] = [];
        for (int r = 0; r < count; r++) if (label[r] >= 0) groups[label[r]].Add(r);
        // At most MaxListSize members a list: with 8·√k lists alone the mean grows with √k (125 at 10^6, lists that
        // mixed groups and were probed by most items), while splitting costs little (k-means within a list).
        int mean = Math.Max(1, nonZero.Length / lists), target = Math.Min(mean, MaxListSize);
        int splitAbove = mean > MaxListSize ? MaxListSize : 2 * target;
        var centroids = new List<float[]>();
        for (int l = 0; l < lists; l++) centroids.Add(g.AsSpan(l * d, d).ToArray());
        // List l's members to k-means of `parts` centroids: the first replaces l's centroid, the others are new lists.
        void Split(int l, List<int> group, int parts, int splitSeed)
        {
            var sub = Partition(rows, norms, [.. group], d, metric, parts, splitSeed, out var subLabels);
            int made = sub.Length / d;
            var ids = new int[made];
            ids[0] = l;
            centroids[l] = sub.AsSpan(0, d).ToArray();
            for (int q = 1; q < made; q++) { ids[q] = centroids.Count; centroids.Add(sub.AsSpan(q * d, d).ToArray()); }
            for (int i = 0; i < group.Count; i++) label[group[i]] = ids[subLabels[i]];
        }
        for (int l = 0; l < lists; l++)
            if (groups[l].Count > splitAbove) Split(l, groups[l], (groups[l].Count + target - 1) / target, seed + l);
        for (int round = 0; ; round++)
        {
            lists = centroids.Count;
            var all = new float[lists * d];
            for (int l = 0; l < lists; l++) centroids[l].CopyTo(all.AsSpan(l * d, d));
            gNorm = new double[lists];
            for (int l = 0; l < lists; l++) gNorm[l] = DistanceKernels.Norm(all.AsSpan(l * d, d));
            var members = new List<int>[lists];
            for (int l = 0; l < lists; l++) members[l] = [];
            var result = new CentreLists(d, metric, all, gNorm, new double[lists], members, new int[Math.Max(count, 4)], [], count);
            for (int r = 0; r < count; r++) result.Place(r, label[r], centres, norms);
            // A list far wider than the others (members of several groups around a centroid of small norm) is probed
            // by nearly every item: split it again, into parts of a few members.
            var radii = Enumerable.Range(0, lists).Where(l => members[l].Count > 1).Select(l => result._radius[l]).Order().ToArray();
            if (round == 2 || radii.Length == 0) return result;
            double wide = 1.5 * radii[radii.Length / 2];
            var bad = Enumerable.Range(0, lists).Where(l => members[l].Count > 1 && result._radius[l] > wide).ToArray();
            if (bad.Length == 0) return result;
            foreach (int l in bad) Split(l, members[l], Math.Max(2, (members[l].Count + 7) / 8), seed + 7919 * (round + 1) + l);
        }
    }

    /// <summary>
    /// K-means (at most <paramref name="k"/> centroids, 8 Lloyd iterations, started from random members: k-means++
    /// seeding would cost more than the rest of the build) over p(c) of the given rows; returns the centroids
    /// (rows x d) and each row's centroid in <paramref name="labels"/>.
    /// </summary>
    private static float[] Partition(float[] rows, double[] norms, int[] of, int d, DistanceMetric metric, int k, int seed, out int[] labels)
    {
        var points = EmbeddingMatrix.Zeros(of.Length, d);
        for (int i = 0; i < of.Length; i++) Point(rows, norms, of[i], d, metric, points.Row(i));
        k = Math.Min(k, of.Length);
        var rng = new Random(seed);
        var start = EmbeddingMatrix.Zeros(k, d);
        var picks = Enumerable.Range(0, of.Length).OrderBy(_ => rng.Next()).Take(k).ToArray();
        for (int q = 0; q < k; q++) points.Row(picks[q]).CopyTo(start.Row(q));
        var km = KMeans.Fit(points, new KMeansOptions
        {
            K = k, NInit = 1, MaxIterations = 8, Seed = seed, Metric = DistanceMetric.Euclidean, InitialCentres = start,
        });
        labels = km.Labels.ToArray();
        return km.Centres.Data.AsSpan(0, km.Centres.Count * d).ToArray();
    }

    /// <summary>p(c) of centre row r as float32 (the direction under cosine).</summary>
    private static void Point(float[] rows, double[] norms, int r, int d, DistanceMetric metric, Span<float> into)
    {
        var c = rows.AsSpan(r * d, d);
        if (metric == DistanceMetric.Cosine && norms[r] > 0)
            for (int k = 0; k < d; k++) into[k] = (float)(c[k] / norms[r]);
        else
            c.CopyTo(into);
    }

    /// <summary>|p(c) - g_l| for the float64 centre c (row r), rounded up.</summary>
    private double DistanceToCentroid(int l, ReadOnlySpan<double> c, double cn)
    {
        var g = _g.AsSpan(l * _d, _d);
        double s = 0, inv = _metric == DistanceMetric.Cosine ? 1.0 / cn : 1.0;
        for (int k = 0; k < _d; k++)
        {
            double t = c[k] * inv - g[k];
            s += t * t;
        }
        return Math.Sqrt(s) * (1 + 1e-12) + 1e-300;
    }

    private void Place(int row, int list, double[] centres, double[] norms)
    {
        if (row >= _listOf.Length)
        {
            Array.Resize(ref _listOf, Math.Max(row + 1, _listOf.Length * 2));
            Array.Resize(ref _ring, _listOf.Length);
        }
        _listOf[row] = list;
        if (list < 0) { _zeroRows.Add(row); return; }
        _members[list].Add(row);
        _ring[row] = DistanceToCentroid(list, centres.AsSpan(row * _d, _d), norms[row]);
        _radius[list] = Math.Max(_radius[list], _ring[row]);
    }

    /// <summary>
    /// A new centre row (appended): joins list <paramref name="list"/> when given (an item's nearest list centroid,
    /// from <see cref="NearestList"/>: the choice only affects speed), else the list with the nearest centroid.
    /// </summary>
    public void Add(int row, double[] centres, double[] norms, int list = -1)
    {
        if (_metric == DistanceMetric.Cosine && norms[row] == 0) { Place(row, -1, centres, norms); return; }
        if (list < 0 || list >= Count)
        {
            // The nearest centroid by float32 dots (the choice only affects speed).
            var x = new float[_d];
            var c = centres.AsSpan(row * _d, _d);
            for (int k = 0; k < _d; k++) x[k] = (float)c[k];
            var dots = new float[Count];
            for (int l = 0; l < Count; l++) dots[l] = TensorPrimitives.Dot(x, _g.AsSpan(l * _d, _d));
            list = NearestList(dots, norms[row]);
        }
        Place(row, list, centres, norms);
    }

    /// <summary>Centre row <paramref name="row"/> moved: its list's radius grows to cover it (a centre that became zero, or
    /// stopped being zero, under cosine changes list).</summary>
    public void Moved(int row, double[] centres, double[] norms)
    {
        int l = _listOf[row];
        bool zero = _metric == DistanceMetric.Cosine && norms[row] == 0;
        if (l < 0 || zero)
        {
            if (l < 0 && zero) return;
            if (l < 0) _zeroRows.Remove(row); else _members[l].Remove(row);
            if (zero) { Place(row, -1, centres, norms); return; }
            Add(row, centres, norms);
            return;
        }
        _ring[row] = DistanceToCentroid(l, centres.AsSpan(row * _d, _d), norms[row]);
        _radius[l] = Math.Max(_radius[l], _ring[row]);
    }

    /// <summary>
    /// Screening scores of <paramref name="m"/> items against every list centroid (m x <see cref="Count"/>,
    /// row-major: cosine distance, or squared euclidean distance) into <paramref name="scores"/>, and for each item a
    /// bound E on the error of all its scores except their own rounding, 1e-6·(|score| + 1), into
    /// <paramref name="errors"/>: the input of <see cref="Candidates"/> and <see cref="MayHold"/>. One integer product
    /// (<see cref="Int8Product"/>) where the machine has AVX-VNNI, a float32 one otherwise. The centroids never move
    /// between rebuilds, so these stay valid while centres move and open.
    /// </summary>
    public void Screen(ReadOnlySpan<float> items, int m, ReadOnlySpan<double> norms, float[] scores, double[] errors)
    {
        int count = Count, d = _d;
        var itemNorms = norms[..m].ToArray();
        var index = _gIndex;
        if (Int8Product.IsSupported && d <= Int8Product.MaxDimension && count >= Int8Product.PanelRows)
        {
            var q = Int8Product.Quantize(items[..(m * d)], m, d);
            Int8Product.Scores(_metric, q, itemNorms, index.Quantized, count, d, scores);
            for (int i = 0; i < m; i++)
                errors[i] = Int8Product.ItemScoreError(_metric, itemNorms[i], q.Residuals[i], index.MaxNorm, index.MaxQuantError, index.MaxQuantErrorOverNorm);
            return;
        }
        DistanceKernels.Scores(_metric, items[..(m * d)], m, itemNorms, index.Rows, count, index.Norms, d, scores, null);
        double factor = DistanceKernels.DotErrorFactor(d), gMax = index.MaxNorm;
        for (int i = 0; i < m; i++)
            errors[i] = _metric == DistanceMetric.Cosine
                ? factor
                : 2.0 * factor * itemNorms[i] * gMax + 1e-6 * (itemNorms[i] * itemNorms[i] + gMax * gMax);
    }

    /// <summary>Bounds [lo, hi] on |p(x) - g_l|² from the item's screening score against g_l and its bound
    /// <paramref name="e"/> (cosine p(x) = x/|x|: x̂·g = |g|·(1 - score)).</summary>
    private (double Lo, double Hi) SquaredBounds(float score, double e, double xn, int l)
    {
        double gn = _gNorm[l], gsq = gn * gn;
        e += 1e-6 * (Math.Abs(score) + 1.0);
        if (_metric == DistanceMetric.Cosine)
        {
            if (xn == 0) return (0, double.PositiveInfinity);
            double slack = 1e-9 * (1 + gsq);
            return (1 + gsq - 2 * gn * (1 - score + e) - slack, 1 + gsq - 2 * gn * (1 - score - e) + slack);
        }
        double eSlack = 1e-9 * (xn * xn + gsq + 1);
        return (score - e - eSlack, score + e + eSlack);
    }

    /// <summary>Radius of eps in the geometry of p: the chord sqrt(2·eps) under cosine, eps itself under euclidean.</summary>
    public double Reach(double eps) => _metric == DistanceMetric.Cosine ? Math.Sqrt(2 * eps) : eps;

    /// <summary>Bounds [lo, hi] on |p(x) - g_l| from the float32 dot x·g_l (its rounding error included).</summary>
    private (double Lo, double Hi) CentroidDistance(float dot, double xn, int l)
    {
        double gn = _gNorm[l], err = DistanceKernels.DotErrorFactor(_d) * xn * gn;
        bool cosine = _metric == DistanceMetric.Cosine;
        double slack = 1e-9 * (1 + gn * gn + (cosine ? 0 : xn * xn));
        // |p(x) - g|²: cosine p(x) = x/|x| (norm 1).
        double sqLo = (cosine ? 1 + gn * gn - 2 * (dot + err) / xn : xn * xn + gn * gn - 2 * (dot + err)) - slack;
        double sqHi = (cosine ? 1 + gn * gn - 2 * (dot - err) / xn : xn * xn + gn * gn - 2 * (dot - err)) + slack;
        return (Math.Sqrt(Math.Max(0, sqLo)), Math.Sqrt(Math.Max(0, sqHi)) * (1 + 1e-12));
    }

    /// <summary>
    /// The ring test for one centre row as it is now: false when |p(x) - p(c)| ≥ | |p(x) - g| - |p(c) - g| | proves it
    /// farther than the eps radius <paramref name="reach"/> (then <paramref name="lowerBound"/> bounds its distance
    /// from below). |p(x) - g| comes from the float32 dot where the item probed the row's list
    /// (<paramref name="probedLists"/>, <paramref name="probedDots"/>), from its screening score otherwise. Zero
    /// centres under cosine (no list) always pass.
    /// </summary>
    public bool MayHold(int row, ReadOnlySpan<float> scores, double error, ReadOnlySpan<int> probedLists, ReadOnlySpan<float> probedDots,
        double xn, double reach, out double lowerBound)
    {
        lowerBound = 0;
        int l = _listOf[row];
        if (l < 0 || xn == 0) return true;
        int at = probedLists.IndexOf(l);
        double dLo, dHi;
        if (at >= 0)
            (dLo, dHi) = CentroidDistance(probedDots[at], xn, l);
        else
        {
            var (lo, hi) = SquaredBounds(scores[l], error, xn, l);
            (dLo, dHi) = (Math.Sqrt(Math.Max(0, lo)), Math.Sqrt(Math.Max(0, hi)) * (1 + 1e-12));
        }
        double gap = RingGap(_ring[row], dLo, dHi);
        if (gap <= reach) return true;
        lowerBound = AsDistance(gap);
        return false;
    }

    /// <summary>The ring's lower bound on |p(x) - p(c)|; the stored ring is rounded up, and a relative and an absolute
    /// margin cover its rounding both ways.</summary>
    private static double RingGap(double ring, double dLo, double dHi)
    {
        double ringHi = ring + 1e-12, ringLo = ring * (1 - 4e-12) - 1e-12;
        return Math.Max(dLo - ringHi, ringLo - dHi);
    }

    /// <summary>The list whose centroid is nearest to the item by its dots (where a centre opened by it goes).</summary>
    public int NearestList(ReadOnlySpan<float> dots, double xn)
    {
        int best = 0;
        double bestD = double.PositiveInfinity;
        double scale = _metric == DistanceMetric.Cosine && xn > 0 ? 1 / xn : 1;
        for (int l = 0; l < Count; l++)
        {
            double dist = _gNorm[l] * _gNorm[l] - 2.0 * dots[l] * scale;
            if (dist < bestD) { bestD = dist; best = l; }
        }
        return best;
    }

    /// <summary>How many centres the lists whose ball comes within <paramref name="eps"/> of the item hold (what
    /// <see cref="Candidates"/> would ring-test), from its screening scores: the cost of the lists for this item.</summary>
    public long ProbedMembers(ReadOnlySpan<float> scores, double error, double xn, double eps)
    {
        long members = _zeroRows.Count;
        double reach = Reach(eps);
        for (int l = 0; l < Count; l++)
        {
            double within = _radius[l] + reach;
            if (xn == 0 || !(SquaredBounds(scores[l], error, xn, l).Lo > within * within * (1 + 1e-12))) members += _members[l].Count;
        }
        return members;
    }

    /// <summary>
    /// The rows of every list whose ball comes within <paramref name="eps"/> of the item and that pass the ring test
    /// (in no particular order), given the item's screening scores against the list centroids and their bound
    /// (<see cref="Screen"/>), into <paramref name="rows"/>; the lists probed, with the item's float32 dot with their
    /// centroid (the ring test needs it exact), into <paramref name="probedLists"/> and <paramref name="probedDots"/>.
    /// Returns a lower bound on the distance to every centre left out (+∞ when none was) and the list whose centroid
    /// looks nearest (where a centre opened by the item goes: only speed depends on it).
    /// </summary>
    public (double SkippedLowerBound, int NearestList) Candidates(ReadOnlySpan<float> x, double xn, ReadOnlySpan<float> scores, double error,
        double eps, List<int> rows, List<int> probedLists, List<float> probedDots)
    {
        rows.Clear();
        probedLists.Clear();
        probedDots.Clear();
        rows.AddRange(_zeroRows);
        int lists = Count, nearestList = 0;
        double reach = Reach(eps), nearestSq = double.PositiveInfinity;
        double skipped = double.PositiveInfinity; // the smallest |p(x) - g| - R over skipped lists, in the geometry of p
        bool cosine = _metric == DistanceMetric.Cosine;
        var gNorm = _gNorm;
        var radius = _radius;
        // A list is skipped when the lower bound on |p(x) - g|² exceeds (R + reach)², with a relative margin for the
        // rounding of the square. Four lists at a time: most are skipped, so only the probed ones leave the loop.
        int l = 0;
        if (Vector256.IsHardwareAccelerated && xn > 0)
        {
            var one = Vector256.Create(1.0);
            var two = Vector256.Create(2.0);
            var vE = Vector256.Create(error + 1e-6);
            var vRound = Vector256.Create(1e-6);
            var vXSlack = Vector256.Create(cosine ? 0 : 1e-9 * (xn * xn + 1));
            var vReach = Vector256.Create(reach);
            var vMargin = Vector256.Create(1 + 1e-12);
            var inf = Vector256.Create(double.PositiveInfinity);
            var vSkipped = inf;
            var vBest = inf;
            var vBestL = Vector256<long>.Zero;
            var vL = Vector256.Create(0L, 1, 2, 3);
            var four = Vector256.Create(4L);
            for (; l + 4 <= lists; l += 4, vL += four)
            {
                var sc = Vector256.Create((double)scores[l], scores[l + 1], scores[l + 2], scores[l + 3]);
                var gn = Vector256.LoadUnsafe(ref gNorm[l]);
                var gsq = gn * gn;
                var e = vE + vRound * Vector256.Abs(sc);
                Vector256<double> sqLo, centre;
                if (cosine)
                {
                    sqLo = one + gsq - two * gn * (one - sc + e) - Vector256.Create(1e-9) * (one + gsq);
                    centre = gsq - two * gn * (one - sc);
                }
                else
                {
                    sqLo = sc - e - vXSlack - Vector256.Create(1e-9) * gsq;
                    centre = sc;
                }
                var better = Vector256.LessThan(centre, vBest);
                vBest = Vector256.ConditionalSelect(better, centre, vBest);
                vBestL = Vector256.ConditionalSelect(better.AsInt64(), vL, vBestL);
                var r = Vector256.LoadUnsafe(ref radius[l]);
                var within = r + vReach;
                var skip = Vector256.GreaterThan(sqLo, within * within * vMargin);
                // Lower bound of a skipped list: |p(x) - g| - R (probed lanes +∞).
                var bound = Vector256.Sqrt(Vector256.Max(sqLo, Vector256<double>.Zero)) - r;
                vSkipped = Vector256.Min(vSkipped, Vector256.ConditionalSelect(skip, bound, inf));
                uint probe = ~skip.ExtractMostSignificantBits() & 0xF;
                while (probe != 0)
                {
                    int q = l + System.Numerics.BitOperations.TrailingZeroCount(probe);
                    probe &= probe - 1;
                    ProbeList(q, x, xn, reach, rows, probedLists, probedDots, ref skipped);
                }
            }
            for (int q = 0; q < 4; q++)
            {
                skipped = Math.Min(skipped, vSkipped[q]);
                if (vBest[q] < nearestSq || (vBest[q] == nearestSq && vBestL[q] < nearestList)) { nearestSq = vBest[q]; nearestList = (int)vBestL[q]; }
            }
        }
        for (; l < lists; l++)
        {
            var (sqLo, _) = SquaredBounds(scores[l], error, xn, l);
            double gn = gNorm[l], centre = cosine ? gn * gn - 2 * gn * (1 - scores[l]) : scores[l];
            if (centre < nearestSq) { nearestSq = centre; nearestList = l; }
            double r = radius[l], within = r + reach;
            if (xn > 0 && sqLo > within * within * (1 + 1e-12))
            {
                skipped = Math.Min(skipped, Math.Sqrt(Math.Max(0, sqLo)) - r);
                continue;
            }
            if (xn == 0) { probedLists.Add(l); probedDots.Add(0); rows.AddRange(_members[l]); continue; }
            ProbeList(l, x, xn, reach, rows, probedLists, probedDots, ref skipped);
        }
        return (double.IsPositiveInfinity(skipped) ? skipped : AsDistance(Math.Max(skipped, reach)), nearestList);
    }

    /// <summary>The ring test over list <paramref name="l"/>'s members (from the item's exact float32 dot with its
    /// centroid): only members whose distance to the centroid is within reach of the item's can be within eps; the
    /// others lower <paramref name="skipped"/> at most to their gap.</summary>
    private void ProbeList(int l, ReadOnlySpan<float> x, double xn, double reach, List<int> rows, List<int> probedLists,
        List<float> probedDots, ref double skipped)
    {
        float dot = TensorPrimitives.Dot(x, _g.AsSpan(l * _d, _d));
        probedLists.Add(l);
        probedDots.Add(dot);
        var (dLo, dHi) = CentroidDistance(dot, xn, l);
        var ring = _ring;
        foreach (int m in _members[l])
        {
            double gap = RingGap(ring[m], dLo, dHi);
            if (gap > reach) { skipped = Math.Min(skipped, gap); continue; }
            rows.Add(m);
        }
    }

    /// <summary>A lower bound on |p(x) - p(c)| as a distance of the metric (cosine: chord²/2).</summary>
    private double AsDistance(double chord) => _metric == DistanceMetric.Cosine ? chord * chord / 2 : chord;

    /// <summary>An independent copy.</summary>
    public CentreLists Clone()
    {
        var members = new List<int>[_members.Length];
        for (int l = 0; l < members.Length; l++) members[l] = [.. _members[l]];
        return new CentreLists(_d, _metric, _g, _gNorm, (double[])_radius.Clone(), members, (int[])_listOf.Clone(), [.. _zeroRows], BuiltAt,
            (double[])_ring.Clone(), _gIndex);
    }
}
