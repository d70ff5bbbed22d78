using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Online;

/// <summary>Small clumpy data sets and a naive, obviously-correct reference of the nearest-centre loop.</summary>
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

    public static double Gauss(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static long[] Ids(long from, int count) => Enumerable.Range(0, count).Select(i => from + i).ToArray();

    public static EmbeddingMatrix Rows(EmbeddingMatrix x, int from, int count) =>
        x.SelectRows(Enumerable.Range(from, count).ToArray());

    public static double Distance(DistanceMetric metric, ReadOnlySpan<float> x, double[] c)
    {
        double dot = 0, xx = 0, cc = 0, sq = 0;
        for (int k = 0; k < x.Length; k++)
        {
            dot += x[k] * c[k];
            xx += (double)x[k] * x[k];
            cc += c[k] * c[k];
            sq += (x[k] - c[k]) * (x[k] - c[k]);
        }
        return metric == DistanceMetric.Cosine ? 1 - dot / Math.Sqrt(xx * cc) : Math.Sqrt(sq);
    }

    /// <summary>Brute-force DBSCAN core points (neighbours within eps, counting the point itself, >= minSamples).</summary>
    public static int[] CorePoints(EmbeddingMatrix x, double eps, int minSamples, DistanceMetric metric)
    {
        int n = x.Count, d = x.Dimension;
        var core = new List<int>();
        for (int i = 0; i < n; i++)
        {
            var xi = x.Data.AsSpan(i * d, d).ToArray().Select(v => (double)v).ToArray();
            int count = 0;
            for (int j = 0; j < n; j++)
                if (Distance(metric, x.Data.AsSpan(j * d, d), xi) <= eps) count++;
            if (count >= minSamples) core.Add(i);
        }
        return [.. core];
    }

    /// <summary>
    /// A naive DBSCAN (brute force, the textbook expansion in row order as scikit-learn does) for tests: labels and
    /// core points. Only for small n.
    /// </summary>
    public static (int[] Labels, int[] Core) NaiveDbscan(EmbeddingMatrix x, double eps, int minSamples, DistanceMetric metric)
    {
        int n = x.Count, d = x.Dimension;
        var neighbours = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            var xi = x.Data.AsSpan(i * d, d).ToArray().Select(v => (double)v).ToArray();
            neighbours[i] = [];
            for (int j = 0; j < n; j++)
                if (Distance(metric, x.Data.AsSpan(j * d, d), xi) <= eps) neighbours[i].Add(j);
        }
        var isCore = neighbours.Select(nb => nb.Count >= minSamples).ToArray();
        var labels = Enumerable.Repeat(-1, n).ToArray();
        int next = 0;
        for (int i = 0; i < n; i++)
        {
            if (labels[i] != -1 || !isCore[i]) continue;
            var stack = new Stack<int>();
            stack.Push(i);
            labels[i] = next;
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                if (!isCore[p]) continue;
                foreach (int q in neighbours[p])
                    if (labels[q] == -1) { labels[q] = next; stack.Push(q); }
            }
            next++;
        }
        return (labels, Enumerable.Range(0, n).Where(i => isCore[i]).ToArray());
    }

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
                double dist = Distance(_metric, x, Mean(_clusters[j].Members));
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
                double dist = Distance(_metric, x, Mean(_clusters[j].Members));
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
