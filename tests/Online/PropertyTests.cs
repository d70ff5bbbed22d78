using CsCheck;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Ids;

namespace LabelAssignment.Tests.Online;

public sealed class PropertyTests
{
    // One update: which assigner (0 nearest, 1 first-within-eps, 2 core point), single or batch, and the points.
    private static readonly Gen<(int Kind, bool Batch, (int X, int Y)[] Points)> Step =
        Gen.Select(Gen.Int[0, 2], Gen.Bool, Gen.Select(Gen.Int[1, 9], Gen.Int[1, 9]).Array[1, 8]);

    [Fact]
    public void NoTwoLiveClustersEverShareAnId()
    {
        var initial = Gen.Select(Gen.Int[1, 9], Gen.Int[1, 9], Gen.Int[-1, 4]).Array[1, 30];
        Gen.Select(initial, Step.Array[1, 12], Gen.Bool, Gen.Bool).Sample((init, steps, cosine, neverReuse) =>
        {
            var metric = cosine ? DistanceMetric.Cosine : DistanceMetric.Euclidean;
            double eps = cosine ? 0.02 : 1.5;
            var x = new EmbeddingMatrix(init.SelectMany(p => new[] { (float)p.Item1, p.Item2 }).ToArray(), init.Length, 2);
            int[] labels = init.Select(p => p.Item3).ToArray();
            // Core points: any clustered rows (the invariant does not depend on DBSCAN's geometry).
            int[] core = Enumerable.Range(0, init.Length).Where(i => labels[i] >= 0 && i % 2 == 0).ToArray();
            var t = ClusterTables.Initialise(OnlineTestData.Ids(0, init.Length), x, labels, core, metric,
                neverReuse ? IdReusePolicy.NeverReuse : IdReusePolicy.SmallestFree);
            if (!Consistent(t)) return false;
            long next = init.Length;
            var everIssued = t.ClusterIds.ToArray().ToHashSet();
            foreach (var (kind, batch, points) in steps)
            {
                IOnlineAssigner a = kind switch
                {
                    0 => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps }),
                    1 => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = eps, FirstWithinEps = true }),
                    _ => new CorePointAssigner(t, new CorePointOptions { Eps = eps }),
                };
                var liveBefore = t.ClusterIds.ToArray().ToHashSet();
                var rows = new EmbeddingMatrix(points.SelectMany(p => new[] { (float)p.X, p.Y }).ToArray(), points.Length, 2);
                var ids = OnlineTestData.Ids(next, points.Length);
                next += points.Length;
                var results = batch
                    ? a.AssignBatch(ids, rows)
                    : Enumerable.Range(0, points.Length).Select(i => a.Assign(ids[i], rows.Row(i))).ToList();
                foreach (var r in results)
                {
                    if (r.CreatedCluster && liveBefore.Contains(r.ClusterId)) return false; // a fresh ID collided
                    if (r.CreatedCluster && neverReuse && !everIssued.Add(r.ClusterId)) return false;
                    if (!r.CreatedCluster && !liveBefore.Contains(r.ClusterId) && !results.Any(o => o.CreatedCluster && o.ClusterId == r.ClusterId))
                        return false; // joined something that was never live
                    liveBefore.Add(r.ClusterId);
                }
                if (!Consistent(t)) return false;
            }
            return true;
        }, iter: 200);
    }

    /// <summary>Centre IDs distinct and equal to the allocator's live set; every item's ID has a centre; counts add up.</summary>
    private static bool Consistent(ClusterTables t)
    {
        var ids = t.ClusterIds.ToArray();
        if (ids.Distinct().Count() != ids.Length) return false;
        if (!ids.ToHashSet().SetEquals(t.Allocator.LiveIds)) return false;
        var byItem = t.ItemClusterIds.ToArray().GroupBy(i => i).ToDictionary(g => g.Key, g => (long)g.Count());
        return byItem.Count == ids.Length && ids.All(id => byItem.TryGetValue(id, out long c) && c == t.MemberCount(id));
    }
}
