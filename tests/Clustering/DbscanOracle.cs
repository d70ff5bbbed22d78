using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Clustering;

/// <summary>
/// A straightforward DBSCAN for tests: all pairwise distances in double precision, core points by count (the point
/// itself included), then breadth-first expansion seeded at the core points in row order.
/// </summary>
internal static class DbscanOracle
{
    public static double Distance(EmbeddingMatrix x, int i, int j, DistanceMetric metric)
    {
        var a = x.Row(i);
        var b = x.Row(j);
        double dot = 0, na = 0, nb = 0, sq = 0;
        for (int k = 0; k < a.Length; k++)
        {
            dot += (double)a[k] * b[k];
            na += (double)a[k] * a[k];
            nb += (double)b[k] * b[k];
            sq += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
        }
        return metric == DistanceMetric.Cosine ? 1 - dot / (Math.Sqrt(na) * Math.Sqrt(nb)) : Math.Sqrt(sq);
    }

    public static List<int>[] Neighborhoods(EmbeddingMatrix x, double eps, DistanceMetric metric)
    {
        int n = x.Count;
        var result = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            result[i] = [];
            for (int j = 0; j < n; j++)
            {
                // Euclidean compared squared, as scikit-learn does (no sqrt rounding at the boundary).
                bool within = i == j || (metric == DistanceMetric.Cosine
                    ? Distance(x, i, j, metric) <= eps
                    : Math.Pow(Distance(x, i, j, metric), 2) <= eps * eps);
                if (within) result[i].Add(j);
            }
        }
        return result;
    }

    public static (int[] Labels, bool[] Core) Fit(EmbeddingMatrix x, double eps, int minSamples, DistanceMetric metric)
    {
        var nbh = Neighborhoods(x, eps, metric);
        int n = x.Count;
        var core = nbh.Select(l => l.Count >= minSamples).ToArray();
        var labels = Enumerable.Repeat(-1, n).ToArray();
        int next = 0;
        for (int i = 0; i < n; i++)
        {
            if (!core[i] || labels[i] != -1) continue;
            var queue = new Queue<int>();
            queue.Enqueue(i);
            labels[i] = next;
            while (queue.Count > 0)
            {
                int p = queue.Dequeue();
                if (!core[p]) continue;
                foreach (int q in nbh[p])
                    if (labels[q] == -1) { labels[q] = next; queue.Enqueue(q); }
            }
            next++;
        }
        return (labels, core);
    }
}
