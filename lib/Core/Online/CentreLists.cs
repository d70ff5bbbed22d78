using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using LabelAssignment.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// An exact within-eps index over a large centre table: the centres are split into lists (coarse k-means, then
/// bisection while it tightens a list: see <see cref="Build"/>), and each list keeps a fixed centroid g and a radius R
/// with |p(c) - g| ≤ R for every
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
internal sealed partial class CentreLists
{
    private readonly int _d;
    private readonly DistanceMetric _metric;
    private int _count;                   // lists in use; the arrays below have room for more (lists open while streaming)
    private float[] _g;                   // capacity x d: list centroids (float32, exact as stored: radii are measured from them)
    private double[] _gNorm;
    private readonly CentreIndex _gIndex;  // the centroids with their int8 copy, for the screening product
    private double[] _radius;
    private List<int>[] _members;
    // The ball test in float32, 16 lists at a time (BallSink): |p(x) - g|² ≥ A + B·(score - e), rounded down
    // with a margin for the float32 arithmetic; C + B·score orders the centroids by distance; the radius rounded up.
    // One panel (16) longer than the capacity: the test loads whole panels.
    private float[] _a, _b, _c, _radiusUp;
    private int[] _listOf;                // centre row -> list; -1 for a zero centre under cosine (kept apart)
    private double[] _ring;               // centre row -> |p(c) - g| of its list (rounded up), kept current as it moves
    private readonly List<int> _zeroRows; // cosine: zero centres have distance 1 to everything, no direction
    // The limits on a list's radius (Limit): set by the build; a new centre beyond its nearest list's limit starts
    // a list of its own rather than widening that one into reach of more items.
    private double _startListAbove = double.PositiveInfinity;
    private double _minExposure;

    private CentreLists(int d, DistanceMetric metric, float[] g, int count, int[] listOf, int builtAt)
    {
        _d = d;
        _metric = metric;
        int capacity = Math.Max(4, count + count / 8);
        _g = new float[(long)capacity * d];
        _gNorm = new double[capacity];
        _gIndex = new CentreIndex(d, capacity, staged: true); // the screening product stops early on far lists
        _radius = new double[capacity];
        _members = new List<int>[capacity];
        _a = new float[capacity + Int8Product.PanelRows];
        _b = new float[capacity + Int8Product.PanelRows];
        _c = new float[capacity + Int8Product.PanelRows];
        _radiusUp = new float[capacity + Int8Product.PanelRows];
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
        _minExposure = from._minExposure;
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
            Array.Resize(ref _a, capacity + Int8Product.PanelRows);
            Array.Resize(ref _b, capacity + Int8Product.PanelRows);
            Array.Resize(ref _c, capacity + Int8Product.PanelRows);
            Array.Resize(ref _radiusUp, capacity + Int8Product.PanelRows);
        }
        centroid.CopyTo(_g.AsSpan(l * d, d));
        _gIndex.Set(l, centroid);
        double gn = DistanceKernels.Norm(centroid), gsq = gn * gn;
        _gNorm[l] = gn;
        _radius[l] = 0;
        _radiusUp[l] = 0;
        _members[l] = [];
        // The terms of the lower bound on |p(x) - g|² from a score and its bound e (cosine: x̂·g = |g|·(1 - score), so
        // |x̂ - g|² = 1 + |g|² - 2|g|(1 - score)), so that A + B·(score - e) is it; 1e-5 (relative under euclidean)
        // covers the float32 arithmetic of the ball test on values of a few units.
        if (_metric == DistanceMetric.Cosine)
        {
            _a[l] = FloatRounding.Down(1 + gsq - 2 * gn - 1e-9 * (1 + gsq) - 1e-5);
            _b[l] = (float)(2 * gn);
            _c[l] = (float)(gsq - 2 * gn);
        }
        else
        {
            _a[l] = FloatRounding.Down(-1e-9 * gsq - 1e-5 * (gsq + 1));
            _b[l] = 1;
            _c[l] = 0;
        }
        _count = l + 1;
        return l;
    }

    private void GrowRadius(int l, double r)
    {
        if (r <= _radius[l]) return;
        _radius[l] = r;
        _radiusUp[l] = FloatRounding.Up(r);
    }

    /// <summary>Coarse lists per √k, the first level of the build (each is then bisected while that tightens it).
    /// Internal so the bench can compare.</summary>
    internal static double ListsPerRootK { get; set; } = 1;

    /// <summary>A list of more members is always bisected (faiss's IVF guidance, 4-16·√k lists, is k/64 at 10^6).</summary>
    private const int MaxListSize = 64;

    /// <summary>A list of fewer members is not bisected unless it is over <see cref="MaxListSize"/>.</summary>
    private const int MinBisected = 16;

    /// <summary>A bisection is kept when the halves' summed squared distances to their means are below this share of
    /// the list's to its mean: an isotropic blob in 512 dimensions gives about 0.95 (its top direction holds little
    /// of its spread), two groups about 0.4.</summary>
    private const double Tightens = 0.64;

    /// <summary>K-means sample per coarse list (only the speed depends on the lists' quality, never the answer).</summary>
    private const int SamplePerList = 128;

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
    /// Builds lists over centre rows [0, count): k-means of about √k coarse lists over a sample, every centre to its
    /// nearest coarse centroid, then every list bisected (2-means over its members) while that tightens it (see
    /// <see cref="Tightens"/>) or while it holds over <see cref="MaxListSize"/> members, so that the lists follow the
    /// groups of the table whatever their number; finally the members far from their list's centroid (strays) move
    /// to a list that holds them within its limit or into lists of their own (<see cref="PlaceOutliers"/>). The earlier build (k-means of 8·√k
    /// lists, lists split into parts of 8) made 44,522 lists at 10^6 x 512 in 175-265 s, fragmenting groups of 50
    /// centres into lists of about 11 (each list costs every item a screening score).
    /// </summary>
    public static CentreLists Build(float[] rows, double[] centres, double[] norms, int count, int d, DistanceMetric metric, int seed)
    {
        // Points in the metric's geometry: directions under cosine; zero centres are kept apart.
        var nonZero = Enumerable.Range(0, count).Where(r => metric == DistanceMetric.Euclidean || norms[r] > 0).ToArray();
        var label = new int[count];
        Array.Fill(label, -1);
        var centroids = new List<float[]>();
        foreach (var (members, centroid) in Groups(rows, norms, nonZero, d, metric, seed))
        {
            foreach (int r in members) label[r] = centroids.Count;
            centroids.Add(centroid);
        }
        if (centroids.Count == 0) centroids.Add(new float[d]);
        int lists = centroids.Count;
        var all = new float[(long)lists * d];
        for (int l = 0; l < lists; l++) centroids[l].CopyTo(all.AsSpan(l * d, d));
        var result = new CentreLists(d, metric, all, lists, new int[Math.Max(count, 4)], count);
        for (int r = 0; r < count; r++) result.Place(r, label[r], centres, norms);
        result.PlaceOutliers(rows, centres, norms);
        return result.WithoutEmptyLists();
    }

    /// <summary>
    /// The given (non-zero) centre rows in groups with their centroids: k-means of about √n coarse groups over a
    /// sample, every row to its nearest coarse centroid, then every group bisected while that tightens it or while it
    /// holds over <see cref="MaxListSize"/> rows (<see cref="Bisect"/>), level by level, the groups of a level in
    /// parallel (each from its own seed, not HashCode's, which differs between processes: the same groups on any
    /// number of threads and in every run).
    /// </summary>
    private static List<(int[] Members, float[] Centroid)> Groups(float[] rows, double[] norms, int[] of, int d, DistanceMetric metric, int seed)
    {
        var done = new List<(int[] Members, float[] Centroid)>();
        if (of.Length == 0) return done;
        int coarse = Math.Clamp((int)Math.Round(ListsPerRootK * Math.Sqrt(of.Length)), 1, of.Length);
        var rng = new Random(seed);
        var sample = of.OrderBy(_ => rng.Next()).Take(Math.Min(of.Length, coarse * SamplePerList)).ToArray();
        var g = Partition(rows, norms, sample, d, metric, coarse, seed, out _);
        coarse = g.Length / d;
        var nearest = NearestCentroids(rows, norms, of, d, metric, g, coarse);
        var groups = new List<int>[coarse];
        for (int l = 0; l < coarse; l++) groups[l] = [];
        for (int i = 0; i < of.Length; i++) groups[nearest[i]].Add(of[i]);
        var level = groups.Where(m => m.Count > 0).Select(m => m.ToArray()).ToList();
        for (int depth = 0; level.Count > 0; depth++)
        {
            var halves = new (int[] Members, float[] Centroid)[level.Count][];
            var levelNow = level;
            Parallel.For(0, levelNow.Count, i => halves[i] = Bisect(rows, norms, levelNow[i], d, metric, unchecked(seed * 1_000_003 + depth * 7919 + i)));
            level = [];
            for (int i = 0; i < halves.Length; i++)
            {
                if (halves[i].Length == 1) done.Add(halves[i][0]);
                else { level.Add(halves[i][0].Members); level.Add(halves[i][1].Members); }
            }
        }
        return done;
    }

    /// <summary>
    /// A list's members as one list (with the mean of their points as centroid), or bisected in two by 2-means (the
    /// second start drawn by distance from the first, as k-means++ does; 8 Lloyd iterations) when the halves are
    /// tighter (see <see cref="Tightens"/>) or the list holds over <see cref="MaxListSize"/> members.
    /// </summary>
    private static (int[] Members, float[] Centroid)[] Bisect(float[] rows, double[] norms, int[] members, int d, DistanceMetric metric, int seed)
    {
        int n = members.Length;
        var points = new float[(long)n * d];
        for (int i = 0; i < n; i++) Point(rows, norms, members[i], d, metric, points.AsSpan(i * d, d));
        var mean = Mean(points, d, Enumerable.Range(0, n));
        if (n < 2 || (n < MinBisected && n <= MaxListSize)) return [(members, mean)];
        var rng = new Random(seed);
        int first = rng.Next(n);
        var c0 = points.AsSpan(first * d, d).ToArray();
        var weights = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) total += weights[i] = SquaredDistance(points.AsSpan(i * d, d), c0);
        if (total == 0) return [(members, mean)]; // all at one point
        double pick = rng.NextDouble() * total;
        int second = 0;
        for (double run = 0; second < n - 1 && (run += weights[second]) < pick; second++) { }
        var c1 = points.AsSpan(second * d, d).ToArray();
        var side = new bool[n]; // true: the second half
        var diff = new float[d];
        for (int iteration = 0; iteration < 8; iteration++)
        {
            // Nearer c1 than c0 ⟺ p·(c1 - c0) > (|c1|² - |c0|²)/2: one dot per point.
            TensorPrimitives.Subtract(c1, c0, diff);
            float half = (TensorPrimitives.Dot(c1, c1) - TensorPrimitives.Dot(c0, c0)) / 2;
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                bool s = TensorPrimitives.Dot(points.AsSpan(i * d, d), diff) > half;
                changed |= s != side[i];
                side[i] = s;
            }
            int ones = side.Count(v => v);
            if (ones == 0 || ones == n) return [(members, mean)];
            if (!changed && iteration > 0) break;
            c0 = Mean(points, d, Enumerable.Range(0, n).Where(i => !side[i]));
            c1 = Mean(points, d, Enumerable.Range(0, n).Where(i => side[i]));
        }
        double whole = 0, halves = 0;
        for (int i = 0; i < n; i++)
        {
            var p = points.AsSpan(i * d, d);
            whole += SquaredDistance(p, mean);
            halves += SquaredDistance(p, side[i] ? c1 : c0);
        }
        if (n <= MaxListSize && !(halves < Tightens * whole)) return [(members, mean)];
        return [([.. Enumerable.Range(0, n).Where(i => !side[i]).Select(i => members[i])], c0),
                ([.. Enumerable.Range(0, n).Where(i => side[i]).Select(i => members[i])], c1)];
    }

    /// <summary>The mean of the given rows of <paramref name="points"/> (n x d), accumulated in float32 (only the
    /// lists' speed depends on it).</summary>
    private static float[] Mean(float[] points, int d, IEnumerable<int> of)
    {
        var sum = new float[d];
        int count = 0;
        foreach (int i in of)
        {
            TensorPrimitives.Add(sum, points.AsSpan(i * d, d), sum);
            count++;
        }
        TensorPrimitives.Multiply(sum, 1f / Math.Max(1, count), sum);
        return sum;
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double t = TensorPrimitives.Distance(a, b);
        return t * t;
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
    /// The farthest list <paramref name="l"/>'s members may lie from its centroid: the build's limit on radii
    /// (<see cref="StartListAbove"/>) and, under cosine, the radius that keeps the ball at least
    /// <see cref="_minExposure"/> from an item orthogonal to the centroid (|p(x) - g| = √(1 + |g|²) for one): a list
    /// whose centroid has a small norm (members in many directions) would otherwise be within reach of every item.
    /// </summary>
    internal double Limit(int l)
    {
        double limit = _startListAbove;
        if (_metric == DistanceMetric.Cosine && _minExposure > 0)
            limit = Math.Min(limit, Math.Sqrt(1 + _gNorm[l] * _gNorm[l]) - _minExposure);
        return limit;
    }

    /// <summary>
    /// Sets the limits (<see cref="Limit"/>) from the lists as built: 1.5x the median radius, and under cosine 0.6x
    /// the median exposure √(1 + |g|²) - R; then the members beyond their list's limit (strays) leave it, and a list
    /// that would lose most of its members is dissolved (a collection of strays around a centroid near none of them).
    /// Each one leaving joins the list with the nearest centroid when within that list's limit, else starts a list of
    /// its own. Afterwards no list is wider than its limit. At 10^6 x 512 a few hundred lists of strays (members of
    /// groups that the coarse lists cut, too few to split off) had radii above 1 and were probed by most items.
    /// </summary>
    private void PlaceOutliers(float[] rows, double[] centres, double[] norms)
    {
        var multi = Enumerable.Range(0, _count).Where(l => _members[l].Count > 1).ToArray();
        if (multi.Length == 0) return;
        _startListAbove = 1.5 * multi.Select(l => _radius[l]).Order().ElementAt(multi.Length / 2);
        if (_metric == DistanceMetric.Cosine)
            _minExposure = 0.6 * multi.Select(l => Math.Sqrt(1 + _gNorm[l] * _gNorm[l]) - _radius[l]).Order().ElementAt(multi.Length / 2);
        var outliers = new List<int>();
        var dissolved = new bool[_count];
        for (int l = 0; l < _count; l++)
        {
            // A list of a few members is most often a fragment of a group that the coarse lists cut: its members go
            // to the group's list when they fit there (10^6 x 512: 29,542 lists for 20,000 groups before).
            if (_members[l].Count < MinBisected)
            {
                outliers.AddRange(_members[l]);
                _members[l] = [];
                _radius[l] = 0;
                _radiusUp[l] = 0;
                dissolved[l] = true;
                continue;
            }
            double limit = Limit(l);
            if (_radius[l] <= limit) continue;
            var keep = new List<int>();
            double r = 0;
            foreach (int m in _members[l])
                if (_ring[m] <= limit) { keep.Add(m); r = Math.Max(r, _ring[m]); }
                else outliers.Add(m);
            if (2 * keep.Count < _members[l].Count)
            {
                outliers.AddRange(keep);
                keep.Clear();
                r = 0;
                dissolved[l] = true;
            }
            _members[l] = keep;
            _radius[l] = r;
            _radiusUp[l] = FloatRounding.Up(r);
        }
        if (outliers.Count == 0) return;
        var of = outliers.ToArray();
        // The nearest of the lists that stay (a dissolved list's centroid would take its members back).
        var stay = Enumerable.Range(0, _count).Where(l => !dissolved[l]).ToArray();
        var nearest = new int[of.Length];
        if (stay.Length > 0)
        {
            var gStay = new float[(long)stay.Length * _d];
            for (int i = 0; i < stay.Length; i++) Centroid(stay[i]).CopyTo(gStay.AsSpan(i * _d, _d));
            nearest = NearestCentroids(rows, norms, of, _d, _metric, gStay, stay.Length);
            for (int i = 0; i < of.Length; i++) nearest[i] = stay[nearest[i]];
        }
        var homeless = new List<int>();
        for (int i = 0; i < of.Length; i++)
        {
            int row = of[i], l = nearest[i];
            if (stay.Length > 0 && DistanceToCentroid(l, centres.AsSpan(row * _d, _d), norms[row]) <= Math.Max(_radius[l], Limit(l)))
                Place(row, l, centres, norms);
            else homeless.Add(row);
        }
        // The rest in lists of their own, grouped as the build groups (the strays of one group cut by the coarse
        // lists belong together: one list each would cost every item a score per stray); a member beyond its new
        // list's limit alone.
        var p = new float[_d];
        foreach (var (members, centroid) in Groups(rows, norms, [.. homeless], _d, _metric, seed: 7919 + homeless.Count))
        {
            int l = AppendList(centroid);
            foreach (int row in members)
            {
                if (DistanceToCentroid(l, centres.AsSpan(row * _d, _d), norms[row]) > Limit(l))
                {
                    Point(rows, norms, row, _d, _metric, p);
                    Place(row, AppendList(p), centres, norms);
                    continue;
                }
                Place(row, l, centres, norms);
            }
        }
    }

    /// <summary>The same lists without the empty ones (each costs every item a screening score): the members, radii
    /// and rings move with their lists (the centroids do not change, so neither do the rings).</summary>
    private CentreLists WithoutEmptyLists()
    {
        var kept = Enumerable.Range(0, _count).Where(l => _members[l].Count > 0).ToArray();
        if (kept.Length == _count || kept.Length == 0) return this;
        var newIndex = new int[_count];
        var g = new float[(long)kept.Length * _d];
        for (int i = 0; i < kept.Length; i++)
        {
            newIndex[kept[i]] = i;
            Centroid(kept[i]).CopyTo(g.AsSpan(i * _d, _d));
        }
        var result = new CentreLists(_d, _metric, g, kept.Length, new int[_listOf.Length], BuiltAt)
        {
            _startListAbove = _startListAbove, _minExposure = _minExposure, _ring = _ring,
        };
        for (int i = 0; i < kept.Length; i++)
        {
            result._members[i] = _members[kept[i]];
            result._radius[i] = _radius[kept[i]];
            result._radiusUp[i] = _radiusUp[kept[i]];
        }
        for (int r = 0; r < _listOf.Length; r++) result._listOf[r] = _listOf[r] < 0 ? -1 : newIndex[_listOf[r]];
        result._zeroRows.AddRange(_zeroRows);
        return result;
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
            TensorPrimitives.Multiply(c, (float)(1 / norms[r]), into); // only the lists' speed depends on its rounding
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
        if (DistanceToCentroid(list, centre, norms[row]) > Math.Max(_radius[list], Limit(list)))
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
