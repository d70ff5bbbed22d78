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
    private int _count;                   // lists in use; the arrays below have room for more (lists open while streaming)
    private float[] _g;                   // capacity x d: list centroids (float32, exact as stored: radii are measured from them)
    private double[] _gNorm;
    private readonly CentreIndex _gIndex;  // the centroids with their int8 copy, for the screening product
    private double[] _radius;
    private List<int>[] _members;
    // The ball test in float32, eight lists at a time (Candidates): |p(x) - g|² ≥ A + B·(score - e), rounded down
    // with a margin for the float32 arithmetic; C + B·score orders the centroids by distance; the radius rounded up.
    private float[] _a, _b, _c, _radiusUp;
    private int[] _listOf;                // centre row -> list; -1 for a zero centre under cosine (kept apart)
    private double[] _ring;               // centre row -> |p(c) - g| of its list (rounded up), kept current as it moves
    private readonly List<int> _zeroRows; // cosine: zero centres have distance 1 to everything, no direction
    // A new centre farther than this from its nearest list's centroid, and outside that list's ball, starts a list
    // of its own instead of widening that one (the build's limit: 1.5x the median radius). Without it, the centres
    // opened while streaming widened the lists they joined until items probed hundreds of lists (10^6 x 512: 4.3
    // lists per item on a first 2,000 items, 62 and 760 on the next two batches of 2,000).
    private double _startListAbove = double.PositiveInfinity;

    private CentreLists(int d, DistanceMetric metric, float[] g, int count, int[] listOf, int builtAt)
    {
        _d = d;
        _metric = metric;
        int capacity = Math.Max(4, count + count / 8);
        _g = new float[(long)capacity * d];
        _gNorm = new double[capacity];
        _gIndex = new CentreIndex(d, capacity);
        _radius = new double[capacity];
        _members = new List<int>[capacity];
        _a = new float[capacity];
        _b = new float[capacity];
        _c = new float[capacity];
        _radiusUp = new float[capacity];
        _listOf = listOf;
        _ring = new double[listOf.Length];
        _zeroRows = [];
        BuiltAt = builtAt;
        for (int l = 0; l < count; l++) AppendList(g.AsSpan(l * d, d));
    }

    /// <summary>An independent copy of <paramref name="from"/> (lists open in each copy on their own).</summary>
    private CentreLists(CentreLists from)
    {
        _d = from._d;
        _metric = from._metric;
        _count = from._count;
        _g = (float[])from._g.Clone();
        _gNorm = (double[])from._gNorm.Clone();
        _gIndex = from._gIndex.Clone(from._count);
        _radius = (double[])from._radius.Clone();
        _members = new List<int>[from._members.Length];
        for (int l = 0; l < from._count; l++) _members[l] = [.. from._members[l]];
        _a = (float[])from._a.Clone();
        _b = (float[])from._b.Clone();
        _c = (float[])from._c.Clone();
        _radiusUp = (float[])from._radiusUp.Clone();
        _listOf = (int[])from._listOf.Clone();
        _ring = (double[])from._ring.Clone();
        _zeroRows = [.. from._zeroRows];
        _startListAbove = from._startListAbove;
        BuiltAt = from.BuiltAt;
    }

    /// <summary>Appends an empty list with the given centroid; returns it.</summary>
    private int AppendList(ReadOnlySpan<float> centroid)
    {
        int l = _count, d = _d;
        if (l == _gNorm.Length)
        {
            int capacity = checked(l + Math.Max(4, l / 4));
            Array.Resize(ref _g, checked(capacity * d));
            Array.Resize(ref _gNorm, capacity);
            _gIndex.Resize(capacity);
            Array.Resize(ref _radius, capacity);
            Array.Resize(ref _members, capacity);
            Array.Resize(ref _a, capacity);
            Array.Resize(ref _b, capacity);
            Array.Resize(ref _c, capacity);
            Array.Resize(ref _radiusUp, capacity);
        }
        centroid.CopyTo(_g.AsSpan(l * d, d));
        _gIndex.Set(l, centroid);
        double gn = DistanceKernels.Norm(centroid), gsq = gn * gn;
        _gNorm[l] = gn;
        _radius[l] = 0;
        _radiusUp[l] = 0;
        _members[l] = [];
        // The terms of SquaredBounds' lower bound, so that A + B·(score - e) is it; 1e-5 (relative under euclidean)
        // covers the float32 arithmetic of Candidates on values of a few units.
        if (_metric == DistanceMetric.Cosine)
        {
            _a[l] = Down(1 + gsq - 2 * gn - 1e-9 * (1 + gsq) - 1e-5);
            _b[l] = (float)(2 * gn);
            _c[l] = (float)(gsq - 2 * gn);
        }
        else
        {
            _a[l] = Down(-1e-9 * gsq - 1e-5 * (gsq + 1));
            _b[l] = 1;
            _c[l] = 0;
        }
        _count = l + 1;
        return l;
    }

    /// <summary>v rounded to a float32 at most v.</summary>
    private static float Down(double v)
    {
        float f = (float)v;
        return f > v ? MathF.BitDecrement(f) : f;
    }

    /// <summary>v rounded to a float32 at least v.</summary>
    private static float Up(double v)
    {
        float f = (float)v;
        return f < v ? MathF.BitIncrement(f) : f;
    }

    private void GrowRadius(int l, double r)
    {
        if (r <= _radius[l]) return;
        _radius[l] = r;
        _radiusUp[l] = Up(r);
    }

    /// <summary>Lists per √k (faiss's IVF guidance is 4-16·√k: many small lists give tight balls, each costs a
    /// centroid score per item). 8 measured fastest at 10^5 x 512 (4: 0.08-0.75x of faiss's IVF, the 50% join share
    /// falling back to the full scan; 16: slower than 8 at every share). Internal so the bench can compare.</summary>
    internal static double ListsPerRootK { get; set; } = 8;

    /// <summary>Parts a wide list is split into per round (0: parts of about 8 members).</summary>
    internal static int WideSplitParts { get; set; } = 0;

    /// <summary>Rounds of splitting wide lists.</summary>
    internal static int WideSplitRounds { get; set; } = 2;

    /// <summary>Most members a list is split down to (about): the mean list size at 10^5 centres is 37.</summary>
    private const int MaxListSize = 64;

    /// <summary>K-means sample per list (only the speed depends on the lists' quality, never the answer).</summary>
    private const int SamplePerList = 16;

    /// <summary>Number of lists.</summary>
    public int Count => _count;

    /// <summary>List <paramref name="l"/>'s centroid (tests check the radius bound against it).</summary>
    internal ReadOnlySpan<float> Centroid(int l) => _g.AsSpan(l * _d, _d);

    /// <summary>List <paramref name="l"/>'s radius R: every member c has |p(c) - g| ≤ R.</summary>
    internal double Radius(int l) => _radius[l];

    /// <summary>The centre rows of list <paramref name="l"/>.</summary>
    internal IReadOnlyList<int> Members(int l) => _members[l];

    /// <summary>The distance from a list's centroid beyond which a new centre starts a list of its own, and above which
    /// the build leaves no list's radius.</summary>
    internal double StartListAbove => _startListAbove;

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
        // Every centre to the nearest list centroid (the choice only affects speed, never the answer).
        var label = NearestCentroids(rows, norms, Enumerable.Range(0, count).ToArray(), d, metric, g, lists);
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
            var result = new CentreLists(d, metric, all, lists, new int[Math.Max(count, 4)], count);
            var members = result._members;
            for (int r = 0; r < count; r++) result.Place(r, label[r], centres, norms);
            // A list far wider than the others (members of several groups around a centroid of small norm) is probed
            // by nearly every item: split it again, into parts of a few members.
            var radii = Enumerable.Range(0, lists).Where(l => members[l].Count > 1).Select(l => result._radius[l]).Order().ToArray();
            if (radii.Length == 0) return result;
            double wide = 1.5 * radii[radii.Length / 2];
            var bad = Enumerable.Range(0, lists).Where(l => members[l].Count > 1 && result._radius[l] > wide).ToArray();
            if (round == WideSplitRounds || bad.Length == 0)
            {
                result._startListAbove = wide;
                result.PlaceOutliers(wide, rows, centres, norms);
                return result;
            }
            foreach (int l in bad)
                Split(l, members[l], WideSplitParts > 0 ? WideSplitParts : Math.Max(2, (members[l].Count + 7) / 8), seed + 7919 * (round + 1) + l);
        }
    }

    /// <summary>For each of the given centre rows the nearest of the first <paramref name="lists"/> centroids in
    /// <paramref name="g"/> (-1 for a zero centre under cosine), by float32 products in blocks.</summary>
    private static int[] NearestCentroids(float[] rows, double[] norms, int[] of, int d, DistanceMetric metric, float[] g, int lists)
    {
        var label = new int[of.Length];
        const int block = 1024;
        var points = new float[block * d];
        var dots = new float[block * lists];
        var gNorm = new double[lists];
        for (int l = 0; l < lists; l++) gNorm[l] = DistanceKernels.Norm(g.AsSpan(l * d, d));
        for (int i0 = 0; i0 < of.Length; i0 += block)
        {
            int nb = Math.Min(block, of.Length - i0);
            for (int i = 0; i < nb; i++) Point(rows, norms, of[i0 + i], d, metric, points.AsSpan(i * d, d));
            Gemm.MultiplyTransposedParallel(points.AsMemory(0, nb * d), nb, g.AsMemory(0, lists * d), lists, d, dots.AsMemory(0, nb * lists), lists);
            Parallel.For(0, nb, i =>
            {
                int r = of[i0 + i];
                if (metric == DistanceMetric.Cosine && norms[r] == 0) { label[i0 + i] = -1; return; }
                var row = dots.AsSpan(i * lists, lists);
                int best = 0;
                double bestD = double.PositiveInfinity;
                for (int l = 0; l < lists; l++)
                {
                    double dist = gNorm[l] * gNorm[l] - 2.0 * row[l];
                    if (dist < bestD) { bestD = dist; best = l; }
                }
                label[i0 + i] = best;
            });
        }
        return label;
    }

    /// <summary>
    /// The members farther than <paramref name="wide"/> from their list's centroid leave it (its radius shrinks to
    /// the others'): each joins the list with the nearest centroid when it lies within that list's radius or
    /// <paramref name="wide"/>, else starts a list of its own. Afterwards no list is wider than
    /// <paramref name="wide"/>. At 10^6 x 512 a few hundred lists of stray members (members of different groups
    /// that k-means left together, too few to split) kept radii above 1 and were probed by most items.
    /// </summary>
    private void PlaceOutliers(double wide, float[] rows, double[] centres, double[] norms)
    {
        var outliers = new List<int>();
        for (int l = 0; l < _count; l++)
        {
            if (_radius[l] <= wide) continue;
            var keep = new List<int>();
            double r = 0;
            foreach (int m in _members[l])
                if (_ring[m] <= wide) { keep.Add(m); r = Math.Max(r, _ring[m]); }
                else outliers.Add(m);
            _members[l] = keep;
            _radius[l] = r;
            _radiusUp[l] = Up(r);
        }
        if (outliers.Count == 0) return;
        var of = outliers.ToArray();
        var nearest = NearestCentroids(rows, norms, of, _d, _metric, _g, _count);
        var p = new float[_d];
        for (int i = 0; i < of.Length; i++)
        {
            int row = of[i], l = nearest[i];
            if (DistanceToCentroid(l, centres.AsSpan(row * _d, _d), norms[row]) > Math.Max(_radius[l], wide))
            {
                Point(rows, norms, row, _d, _metric, p);
                l = AppendList(p);
            }
            Place(row, l, centres, norms);
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
        GrowRadius(list, _ring[row]);
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
        var centre = centres.AsSpan(row * _d, _d);
        if (DistanceToCentroid(list, centre, norms[row]) > Math.Max(_radius[list], _startListAbove))
        {
            var p = new float[_d];
            double inv = _metric == DistanceMetric.Cosine ? 1.0 / norms[row] : 1.0;
            for (int k = 0; k < _d; k++) p[k] = (float)(centre[k] * inv);
            list = AppendList(p);
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
        GrowRadius(l, _ring[row]);
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
    /// (<paramref name="probedLists"/>, <paramref name="probedDots"/>), from its screening score otherwise (from the
    /// dot with <paramref name="x"/> for a list opened after the screening). Zero
    /// centres under cosine (no list) always pass.
    /// </summary>
    public bool MayHold(int row, ReadOnlySpan<float> x, ReadOnlySpan<float> scores, double error, ReadOnlySpan<int> probedLists,
        ReadOnlySpan<float> probedDots, double xn, double reach, out double lowerBound)
    {
        lowerBound = 0;
        int l = _listOf[row];
        if (l < 0 || xn == 0) return true;
        int at = probedLists.IndexOf(l);
        double dLo, dHi;
        if (at >= 0)
            (dLo, dHi) = CentroidDistance(probedDots[at], xn, l);
        else if (l >= scores.Length) // a list opened after the item's screening: no score, the exact dot
            (dLo, dHi) = CentroidDistance(TensorPrimitives.Dot(x, _g.AsSpan(l * _d, _d)), xn, l);
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
        var test = new BallTest(this, error, xn, Reach(eps));
        int lists = Math.Min(Count, scores.Length), l = 0;
        if (test.Vectorised)
            for (; l + 8 <= lists; l += 8)
            {
                uint probe = test.Probed(scores, l, out _);
                while (probe != 0)
                {
                    members += _members[l + System.Numerics.BitOperations.TrailingZeroCount(probe)].Count;
                    probe &= probe - 1;
                }
            }
        for (; l < lists; l++)
            if (!test.Skips(scores[l], l, out _)) members += _members[l].Count;
        return members;
    }

    /// <summary>
    /// The ball test of one item against the lists (float32, eight at a time where the machine has 256-bit vectors):
    /// a list is skipped when A + B·(score - e) — a lower bound on |p(x) - g|², e the screening bound plus the
    /// score's own rounding — exceeds (R + reach)², with a relative margin for the float32 square. The float64 form
    /// is <see cref="SquaredBounds"/>; these terms are rounded so that the float32 bound stays below it.
    /// </summary>
    private readonly ref struct BallTest
    {
        private readonly ReadOnlySpan<float> _a, _b, _c, _radiusUp;
        private readonly Vector256<float> _vE, _vReach;
        private readonly float _e, _reach;
        private const float Rounding = 2e-6f, Margin = 1 + 1e-5f;

        public BallTest(CentreLists lists, double error, double xn, double reach)
        {
            _a = lists._a;
            _b = lists._b;
            _c = lists._c;
            _radiusUp = lists._radiusUp;
            // The score's own rounding (1e-6·(|score| + 1)) doubled for float32; the item's slack under euclidean.
            double e = error + 2e-6 + (lists._metric == DistanceMetric.Cosine ? 0 : 1e-9 * (xn * xn + 1) + 1e-5 * (xn * xn + 1));
            _e = Up(e);
            _reach = Up(reach);
            _vE = Vector256.Create(_e);
            _vReach = Vector256.Create(_reach);
            Vectorised = Vector256.IsHardwareAccelerated && xn > 0;
            ZeroItem = xn == 0;
        }

        public bool Vectorised { get; }

        /// <summary>A zero item under cosine (no direction): every list is probed.</summary>
        public bool ZeroItem { get; }

        /// <summary>Lists [l, l + 8) this item probes (bit i: list l + i); the lower bound on |p(x) - g|² of each in
        /// <paramref name="sqLo"/>.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public uint Probed(ReadOnlySpan<float> scores, int l, out Vector256<float> sqLo)
        {
            var sc = Vector256.Create(scores.Slice(l, 8));
            var e = _vE + Vector256.Create(Rounding) * Vector256.Abs(sc);
            sqLo = Vector256.Create(_a.Slice(l, 8)) + Vector256.Create(_b.Slice(l, 8)) * (sc - e);
            var within = Vector256.Create(_radiusUp.Slice(l, 8)) + _vReach;
            var skip = Vector256.GreaterThan(sqLo, within * within * Vector256.Create(Margin));
            return ~skip.ExtractMostSignificantBits() & 0xFF;
        }

        /// <summary>The nearest-centroid keys of lists [l, l + 8) (smaller is nearer).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        public Vector256<float> NearKeys(ReadOnlySpan<float> scores, int l) =>
            Vector256.Create(_c.Slice(l, 8)) + Vector256.Create(_b.Slice(l, 8)) * Vector256.Create(scores.Slice(l, 8));

        /// <summary>The scalar form of <see cref="Probed"/> for one list: true when it is skipped.</summary>
        public bool Skips(float score, int l, out float sqLo)
        {
            float e = _e + Rounding * MathF.Abs(score);
            sqLo = _a[l] + _b[l] * (score - e);
            float within = _radiusUp[l] + _reach;
            return !ZeroItem && sqLo > within * within * Margin;
        }

        public float NearKey(float score, int l) => _c[l] + _b[l] * score;

        public float RadiusUp(int l) => _radiusUp[l];

        public Vector256<float> RadiiUp(int l) => Vector256.Create(_radiusUp.Slice(l, 8));
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
        double reach = Reach(eps);
        float nearest = float.PositiveInfinity;
        double skipped = double.PositiveInfinity; // the smallest |p(x) - g| - R over skipped lists, in the geometry of p
        var test = new BallTest(this, error, xn, reach);
        float skippedF = float.PositiveInfinity;
        int l = 0;
        if (test.Vectorised)
        {
            var inf = Vector256.Create(float.PositiveInfinity);
            var vSkipped = inf;
            var vBest = inf;
            var vBestL = Vector256<int>.Zero;
            var vL = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var eight = Vector256.Create(8);
            for (; l + 8 <= lists; l += 8, vL += eight)
            {
                var key = test.NearKeys(scores, l);
                var better = Vector256.LessThan(key, vBest);
                vBest = Vector256.ConditionalSelect(better, key, vBest);
                vBestL = Vector256.ConditionalSelect(better.AsInt32(), vL, vBestL);
                uint probe = test.Probed(scores, l, out var sqLo);
                // Lower bound of a skipped list: |p(x) - g| - R (probed lanes +∞).
                var bound = Vector256.Sqrt(Vector256.Max(sqLo, Vector256<float>.Zero)) - test.RadiiUp(l);
                if (probe == 0) { vSkipped = Vector256.Min(vSkipped, bound); continue; }
                var skippedLanes = Vector256.Equals(Vector256.Create((int)probe) & Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128), Vector256<int>.Zero);
                vSkipped = Vector256.Min(vSkipped, Vector256.ConditionalSelect(skippedLanes.AsSingle(), bound, inf));
                while (probe != 0)
                {
                    int q = l + System.Numerics.BitOperations.TrailingZeroCount(probe);
                    probe &= probe - 1;
                    ProbeList(q, x, xn, reach, rows, probedLists, probedDots, ref skipped);
                }
            }
            for (int q = 0; q < 8; q++)
            {
                skippedF = Math.Min(skippedF, vSkipped[q]);
                if (vBest[q] < nearest || (vBest[q] == nearest && vBestL[q] < nearestList)) { nearest = vBest[q]; nearestList = vBestL[q]; }
            }
        }
        for (; l < lists; l++)
        {
            float key = test.NearKey(scores[l], l);
            if (key < nearest) { nearest = key; nearestList = l; }
            if (test.Skips(scores[l], l, out float sqLo))
            {
                skippedF = Math.Min(skippedF, MathF.Sqrt(Math.Max(0, sqLo)) - test.RadiusUp(l));
                continue;
            }
            if (xn == 0) { probedLists.Add(l); probedDots.Add(0); rows.AddRange(_members[l]); continue; }
            ProbeList(l, x, xn, reach, rows, probedLists, probedDots, ref skipped);
        }
        // The float32 bound, less its rounding (a relative 1e-6 covers the square root's and the subtraction's).
        if (float.IsFinite(skippedF)) skipped = Math.Min(skipped, skippedF - 1e-6 * (1 + Math.Abs(skippedF)));
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
    public CentreLists Clone() => new(this);
}
