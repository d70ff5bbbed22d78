using LabelAssignment.Tests.Oracles;
using System.Collections.Concurrent;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Tests.Online;

/// <summary>
/// The assigners' concurrency contract (issue 9, finding 1): predictions run in parallel, commits are serialised
/// and a batch is atomic, <see cref="ClusterTablesStore.Save"/> writes a consistent snapshot. Every check compares
/// the tables a concurrent run left with a single-threaded replay of the same committed order (the label table's
/// row order is the order commits took the lock) and with brute-force memberships and means.
/// </summary>
public sealed class ConcurrencyTests
{
    private const double Eps = 0.05;

    private static (ClusterTables Initial, EmbeddingMatrix Stream) Data(int initial, int stream, int d, int seed)
    {
        var x = OnlineTestData.Clumps(initial + stream, d, 8, 0.15, seed);
        var init = OnlineTestData.Rows(x, 0, initial);
        var (labels, core) = DbscanOracle.FitCoreRows(init, Eps, 5, DistanceMetric.Cosine);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, initial), init, labels, core);
        return (t, OnlineTestData.Rows(x, initial, stream));
    }

    private static IOnlineAssigner Make(string kind, ClusterTables t) => kind switch
    {
        "nearest" => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = Eps }),
        "first" => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = Eps, FirstWithinEps = true }),
        // Through the list index (the tables' threshold lowered to 1 by the caller), whether or not it pays here.
        "lists" => new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = Eps }) { ForceLists = true },
        _ => new CorePointAssigner(t, new CorePointOptions { Eps = Eps }),
    };

    /// <summary>Runs <paramref name="body"/> on <paramref name="count"/> threads released together; returns what they threw.</summary>
    private static List<Exception> RunThreads(int count, Action<int> body)
    {
        var errors = new ConcurrentQueue<Exception>();
        using var start = new Barrier(count);
        var threads = Enumerable.Range(0, count).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            try { body(k); }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) th.Join();
        return [.. errors];
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("core")]
    public void EightThreadsAssigningIntoOneAssignerLoseAndCorruptNothing(string kind)
    {
        // The reproduction: 8 threads x 500 Assign calls on one assigner over 2,000 x 32 tables.
        var (initial, stream) = Data(2000, 4000, 32, seed: 9);
        var tables = initial.Clone();
        var a = Make(kind, tables);
        var results = new Assignment?[4000];
        var errors = RunThreads(8, thread =>
        {
            for (int k = 0; k < 500; k++)
            {
                int i = thread * 500 + k;
                results[i] = a.Assign(2000 + i, stream.Row(i));
            }
        });
        Assert.Empty(errors);
        CheckAgainstReplay(Enumerable.Repeat(kind, 4000).ToArray(), initial, tables, stream, results, firstId: 2000, []);
    }

    [Theory]
    [InlineData("nearest")]
    [InlineData("first")]
    [InlineData("core")]
    [InlineData("lists")]
    [InlineData("mixed")] // even threads commit through a NearestCentroid, odd ones through a CorePoint assigner, same tables
    public void PredictAssignAndSaveFromEightThreadsMatchASingleThreadedReplay(string kind)
    {
        const int initialItems = 2000, streamItems = 2400, firstId = 1_000_000;
        var (initial, stream) = Data(initialItems, streamItems, 32, seed: 11);
        if (kind == "lists") initial.ListThreshold = 1; // copied by every clone below, the replay's too
        var tables = initial.Clone();
        string[] kinds = kind == "mixed" ? ["nearest", "core"] : [kind];
        var assigners = kinds.Select(k => Make(k, tables)).ToArray(); // one assigner, or two sharing the tables
        var kindOf = new string[streamItems];
        var results = new Assignment?[streamItems];
        var batches = new ConcurrentQueue<long[]>();
        var predictions = new ConcurrentQueue<(long Id, int Stream, Assignment Answer)>();
        var snapshots = new ConcurrentQueue<ClusterTables>();
        string folder = Path.Combine(Path.GetTempPath(), $"tables-{Guid.NewGuid():N}");
        var store = new ClusterTablesStore(folder);
        int claimed = 0;
        try
        {
            var errors = RunThreads(8, thread =>
            {
                var rng = new Random(100 + thread);
                var a = assigners[thread % assigners.Length];
                while (true)
                {
                    int op = rng.Next(40);
                    if (op < 12)
                    {
                        int i = rng.Next(streamItems); // any stream row as a probe; its ID is never committed
                        long probe = 5_000_000 + thread * 100_000L + rng.Next(100_000);
                        predictions.Enqueue((probe, i, a.Predict(probe, stream.Row(i))));
                    }
                    else if (op < 13)
                    {
                        store.Save(tables);
                        snapshots.Enqueue(store.Load());
                    }
                    else
                    {
                        int size = op < 30 ? 1 : 3;
                        int from = Interlocked.Add(ref claimed, size) - size;
                        if (from >= streamItems) return;
                        size = Math.Min(size, streamItems - from);
                        for (int k = 0; k < size; k++) kindOf[from + k] = kinds[thread % kinds.Length];
                        var ids = OnlineTestData.Ids(firstId + from, size);
                        if (size == 1)
                            results[from] = a.Assign(ids[0], stream.Row(from));
                        else
                        {
                            var r = a.AssignBatch(ids, OnlineTestData.Rows(stream, from, size));
                            for (int k = 0; k < size; k++) results[from + k] = r[k];
                            batches.Enqueue(ids);
                        }
                    }
                }
            });
            Assert.Empty(errors);
            Assert.True(results.All(r => r is not null));

            // A batch is atomic: its items are consecutive rows, in batch order, in the final tables and in
            // every snapshot (a snapshot holds all of a batch or none of it).
            var rowOf = new Dictionary<long, int>();
            for (int row = 0; row < tables.ItemCount; row++) rowOf[tables.ItemIds[row]] = row;
            foreach (var batch in batches)
            {
                int first = rowOf[batch[0]];
                for (int k = 1; k < batch.Length; k++) Assert.Equal(first + k, rowOf[batch[k]]);
                foreach (var s in snapshots)
                    Assert.True(s.ItemCount <= first || s.ItemCount >= first + batch.Length,
                        $"a snapshot of {s.ItemCount} rows cuts the batch at rows [{first}, {first + batch.Length})");
            }
            Assert.NotEmpty(snapshots);

            // Predictions never see a torn state: a joined cluster is one that was live, an opened one was beyond eps.
            foreach (var (id, i, p) in predictions)
            {
                Assert.Equal(id, p.ItemId);
                Assert.False(tables.ContainsItem(id));
                if (p.CreatedCluster) Assert.True(p.NearestDistance > Eps);
                else Assert.True(tables.ContainsCluster(p.ClusterId) && p.Distance <= Eps);
            }
            CheckAgainstReplay(kindOf, initial, tables, stream, results, firstId, [.. snapshots]);
        }
        finally { if (Directory.Exists(folder)) Directory.Delete(folder, true); }
    }

    /// <summary>
    /// The invariants of the issue: row count = items committed, no duplicate live IDs, every item's cluster is its
    /// membership, centres are the mean of their members; the same state as a single-threaded replay of the
    /// committed order (and every snapshot equal to the replay at its length); a reload equals the tables.
    /// </summary>
    private static void CheckAgainstReplay(string[] kindOf, ClusterTables initial, ClusterTables final, EmbeddingMatrix stream,
        Assignment?[] results, long firstId, ClusterTables[] snapshots)
    {
        int committed = results.Count(r => r is not null);
        Assert.Equal(initial.ItemCount + committed, final.ItemCount);
        var ids = final.ItemIds.ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        var clusterIds = final.ClusterIds.ToArray();
        Assert.Equal(clusterIds.Length, clusterIds.Distinct().Count());
        foreach (var r in results)
            if (r is not null) Assert.Equal(r.ClusterId, final.ClusterOf(r.ItemId));

        // Memberships and means by brute force over the label table.
        int d = final.Dimension;
        var sums = new Dictionary<int, (double[] Sum, long Count)>();
        var itemClusters = final.ItemClusterIds.ToArray();
        for (int row = 0; row < final.ItemCount; row++)
        {
            if (!sums.TryGetValue(itemClusters[row], out var acc)) acc = (new double[d], 0);
            var x = final.ItemEmbedding(row);
            for (int k = 0; k < d; k++) acc.Sum[k] += x[k];
            sums[itemClusters[row]] = (acc.Sum, acc.Count + 1);
        }
        Assert.Equal(clusterIds.Order(), sums.Keys.Order());
        foreach (var (id, (sum, count)) in sums)
        {
            Assert.Equal(count, final.MemberCount(id));
            var c = final.Centre(id);
            for (int k = 0; k < d; k++) Assert.Equal(sum[k] / count, c[k], 1e-9);
        }

        // The same committed order, one item at a time on one thread, gives the same answers and the same state.
        var pending = snapshots.GroupBy(s => s.ItemCount).ToDictionary(g => g.Key, g => g.ToList());
        var replay = initial.Clone();
        var replayers = kindOf.Distinct().ToDictionary(k => k, k => Make(k, replay));
        void CompareSnapshots()
        {
            if (pending.Remove(replay.ItemCount, out var list))
                foreach (var s in list) Assert.True(s.SameStateAs(replay), $"a snapshot of {s.ItemCount} rows is not the replay at that point");
        }
        CompareSnapshots();
        for (int row = initial.ItemCount; row < final.ItemCount; row++)
        {
            int i = checked((int)(ids[row] - firstId));
            var again = replayers[kindOf[i]].Assign(ids[row], stream.Row(i));
            if (again.CreatedCluster)
            {
                // An opened cluster's nearest distance is a lower bound above eps, which depends on how the item was
                // screened (its chunk; through the lists, their shape at the time: rebuilt when the table doubles, in
                // either run whenever a call came).
                Assert.Equal(results[i]! with { NearestDistance = 0 }, again with { NearestDistance = 0 });
                Assert.True(again.NearestDistance > Eps && results[i]!.NearestDistance > Eps);
            }
            else
                Assert.Equal(results[i], again);
            CompareSnapshots();
        }
        Assert.Empty(pending);
        Assert.True(replay.SameStateAs(final));

        string folder = Path.Combine(Path.GetTempPath(), $"tables-{Guid.NewGuid():N}");
        try
        {
            var store = new ClusterTablesStore(folder);
            store.Save(final);
            Assert.True(store.Load().SameStateAs(final));
        }
        finally { Directory.Delete(folder, true); }
    }
}
