using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Tests.Oracles;

namespace LabelAssignment.Tests.Online;

/// <summary>Small clumpy data sets and a naive, obviously-correct reference of the nearest-centre loop (DBSCAN and
/// distances: <see cref="DbscanOracle"/>, <see cref="Distances"/>).</summary>
internal static class OnlineTestData
{
    /// <summary>n rows of dimension d: most are noisy copies of a few directions, some are random.</summary>
    public static EmbeddingMatrix Clumps(int n, int d, int clumps, double spread, int seed)
    {
        var rng = new Random(seed);
        var means = new double[clumps, d];
        for (int c = 0; c < clumps; c++)
            for (int k = 0; k < d; k++) means[c, k] = Gauss(rng);
        var m = EmbeddingMatrix.Zeros(n, d);
        for (int i = 0; i < n; i++)
        {
            bool background = rng.NextDouble() < 0.2;
            int c = rng.Next(clumps);
            for (int k = 0; k < d; k++)
                m.Data[i * d + k] = (float)(background ? Gauss(rng) : means[c, k] + spread * Gauss(rng));
        }
        return m;
    }

    /// <summary>
    /// The core-point tests' set-up: 500 clumped rows (seed 9), the brute-force DBSCAN (cosine, eps <see cref="CoreEps"/>,
    /// min_samples 3) of the first 300 as the tables, and a core-point assigner over them; rows 300..499 are to stream.
    /// </summary>
    public static (EmbeddingMatrix X, EmbeddingMatrix Init, int[] Labels, int[] CoreRows, ClusterTables Tables, CorePointAssigner Assigner) CorePointSetup()
    {
        var x = Clumps(500, 16, 8, 0.2, seed: 9);
        var init = Rows(x, 0, 300);
        var (labels, core) = DbscanOracle.FitCoreRows(init, CoreEps, 3, DistanceMetric.Cosine);
        var t = ClusterTables.Initialise(Ids(0, 300), init, labels, core);
        return (x, init, labels, core, t, new CorePointAssigner(t, new CorePointOptions { Eps = CoreEps }));
    }

    /// <summary>Eps of <see cref="CorePointSetup"/>.</summary>
    public const double CoreEps = 0.06;

    /// <summary>The assignment with an opened cluster's nearest distance set aside (NaN, which records compare equal):
    /// unless <see cref="NearestCentroidOptions.ExactNearestDistance"/> is set it is a lower bound whose value depends
    /// on how the item was screened (a batch's chunk, one at a time, the lists).</summary>
    public static Assignment Decision(Assignment a) => a.CreatedCluster ? a with { NearestDistance = double.NaN } : a;

    public static List<Assignment> Decisions(IEnumerable<Assignment> results) => results.Select(Decision).ToList();

    /// <summary>Asserts that <paramref name="bounded"/> decided as <paramref name="exact"/> (which reports exact nearest
    /// distances) and that each opened cluster's nearest distance in it lies in (eps, exact nearest distance].</summary>
    public static void AssertOpenerBounds(IReadOnlyList<Assignment> bounded, IReadOnlyList<Assignment> exact, double eps)
    {
        Assert.Equal(Decisions(exact), Decisions(bounded));
        for (int i = 0; i < bounded.Count; i++)
            if (bounded[i].CreatedCluster)
                Assert.True(bounded[i].NearestDistance > eps && bounded[i].NearestDistance <= exact[i].NearestDistance,
                    $"item {i}: nearest-distance bound {bounded[i].NearestDistance}, exact {exact[i].NearestDistance}, eps {eps}");
    }

    public static double Gauss(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static long[] Ids(long from, int count) => Enumerable.Range(0, count).Select(i => from + i).ToArray();

    public static EmbeddingMatrix Rows(EmbeddingMatrix x, int from, int count) =>
        x.SelectRows(Enumerable.Range(from, count).ToArray());

    /// <summary>
    /// The nearest-centre loop written the slow, obvious way: a list of (id, member rows), centres recomputed as
    /// the float64 mean of the members, every distance computed directly.
    /// </summary>
    public sealed class ReferenceLoop
    {
        private readonly List<(int Id, List<float[]> Members)> _clusters = [];
        private readonly HashSet<int> _live = [];
        private readonly DistanceMetric _metric;
        private readonly double _eps;
        private readonly bool _first;

        public ReferenceLoop(EmbeddingMatrix x, int[] tableIds, DistanceMetric metric, double eps, bool firstWithinEps)
        {
            _metric = metric; _eps = eps; _first = firstWithinEps;
            foreach (int id in tableIds.Distinct().Order())
            {
                _clusters.Add((id, []));
                _live.Add(id);
            }
            for (int i = 0; i < x.Count; i++)
                _clusters.First(c => c.Id == tableIds[i]).Members.Add(x.Row(i).ToArray());
        }

        private static double[] Mean(List<float[]> rows)
        {
            var c = new double[rows[0].Length];
            foreach (var r in rows) for (int k = 0; k < c.Length; k++) c[k] += r[k];
            for (int k = 0; k < c.Length; k++) c[k] /= rows.Count;
            return c;
        }

        /// <summary>What <see cref="Assign"/> would answer, without changing anything (a new cluster: the smallest free ID).</summary>
        public (int Id, bool Created) Predict(float[] x)
        {
            int chosen = Choose(x);
            if (chosen >= 0) return (_clusters[chosen].Id, false);
            int id = 0;
            while (_live.Contains(id)) id++;
            return (id, true);
        }

        private int Choose(float[] x)
        {
            int chosen = -1;
            double best = double.PositiveInfinity;
            for (int j = 0; j < _clusters.Count; j++)
            {
                double dist = Distances.Between(_metric, x, Mean(_clusters[j].Members));
                if (dist > _eps) continue;
                if (_first) return j;
                if (dist < best) { best = dist; chosen = j; }
            }
            return chosen;
        }

        public (int Id, bool Created) Assign(float[] x)
        {
            int chosen = -1;
            double best = double.PositiveInfinity;
            for (int j = 0; j < _clusters.Count; j++)
            {
                double dist = Distances.Between(_metric, x, Mean(_clusters[j].Members));
                if (dist > _eps) continue;
                if (_first) { chosen = j; break; }
                if (dist < best) { best = dist; chosen = j; }
            }
            if (chosen >= 0)
            {
                _clusters[chosen].Members.Add(x);
                return (_clusters[chosen].Id, false);
            }
            int id = 0;
            while (_live.Contains(id)) id++;
            _live.Add(id);
            _clusters.Add((id, [x]));
            return (id, true);
        }
    }
}
