using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Oracles;

/// <summary>
/// The tests' one DBSCAN reference: all pairwise distances in double precision (<see cref="Distances"/>), core points
/// by count (the point itself included), then expansion seeded at the core points in row order, as scikit-learn
/// labels them. Only for small n.
/// </summary>
internal static class DbscanOracle
{
    /// <summary>For every row, the rows within eps (itself included), in row order.</summary>
    public static List<int>[] Neighborhoods(EmbeddingMatrix x, double eps, DistanceMetric metric)
    {
        int n = x.Count;
        var result = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            result[i] = [];
            for (int j = 0; j < n; j++)
                if (Distances.Within(metric, x, i, j, eps)) result[i].Add(j);
        }
        return result;
    }

    /// <summary>Labels (noise -1, clusters numbered in order of their first core point) and a core flag per row.</summary>
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

    /// <summary>As <see cref="Fit"/>, with the core points as ascending row numbers.</summary>
    public static (int[] Labels, int[] CoreRows) FitCoreRows(EmbeddingMatrix x, double eps, int minSamples, DistanceMetric metric)
    {
        var (labels, core) = Fit(x, eps, minSamples, metric);
        return (labels, Enumerable.Range(0, core.Length).Where(i => core[i]).ToArray());
    }
}
