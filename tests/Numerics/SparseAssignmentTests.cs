using System.Text.Json;
using CsCheck;
using LabelAssignment.Ids;
using LabelAssignment.Numerics;
using LabelAssignment.Remapping;

namespace LabelAssignment.Tests.Numerics;

public sealed class SparseAssignmentTests
{
    /// <summary>A random sparse graph: each pair is an edge with probability density, weight in (0, 1].</summary>
    private static (int Rows, int Cols, int[] R, int[] C, double[] W) RandomGraph(int seed, int rows, int cols, double density, bool ties)
    {
        var rng = new Random(seed);
        var r = new List<int>(); var c = new List<int>(); var w = new List<double>();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (rng.NextDouble() < density)
                {
                    r.Add(i); c.Add(j);
                    w.Add(ties ? rng.Next(1, 4) / 4.0 : 1.0 - rng.NextDouble());
                }
        // Shuffle the edge order: the result must not depend on it.
        var order = Enumerable.Range(0, r.Count).OrderBy(_ => rng.Next()).ToArray();
        return (rows, cols, [.. order.Select(k => r[k])], [.. order.Select(k => c[k])], [.. order.Select(k => w[k])]);
    }

    private static void AssertValidMatching(SparseAssignmentResult s, int[] r, int[] c, double[] w, double minWeight)
    {
        var weight = new Dictionary<(int, int), double>();
        for (int e = 0; e < r.Length; e++) weight[(r[e], c[e])] = w[e];
        Assert.Equal(s.RowIndices.Order(), s.RowIndices);
        Assert.Equal(s.RowIndices.Length, s.RowIndices.Distinct().Count());
        Assert.Equal(s.ColumnIndices.Length, s.ColumnIndices.Distinct().Count());
        double total = 0;
        for (int k = 0; k < s.Count; k++)
        {
            Assert.True(weight.TryGetValue((s.RowIndices[k], s.ColumnIndices[k]), out double x), "matched a pair with no edge");
            Assert.True(x > minWeight);
            total += x;
        }
        Assert.Equal(total, s.TotalWeight, 12);
    }

    [Fact]
    public void SameOptimalTotalAsTheDenseSolverOnEverySmallGraph()
    {
        // Dense reference: pairs without an edge (or not above minWeight) weigh 0, so a full assignment maximising the
        // total is a maximum-weight partial matching padded with zero pairs.
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[0, 12], Gen.Int[0, 12], Gen.Double[0.05, 0.9], Gen.Bool, Gen.Double[0, 0.8])
            .Sample((seed, rows, cols, density, ties, minWeight) =>
            {
                var (_, _, r, c, w) = RandomGraph(seed, rows, cols, density, ties);
                var s = SparseAssignment.Solve(rows, cols, r, c, w, minWeight);
                AssertValidMatching(s, r, c, w, minWeight);
                var dense = new double[rows * cols];
                for (int e = 0; e < r.Length; e++) if (w[e] > minWeight) dense[r[e] * cols + c[e]] = w[e];
                var d = LinearAssignment.Solve(dense, rows, cols, maximize: true);
                return Math.Abs(d.TotalCost - s.TotalWeight) < 1e-9;
            }, iter: 2000);
    }

    [Fact]
    public void SameOptimumAsScipysSparseMatcherWithStayUnmatchedNodes()
    {
        // tests/Fixtures/SparseAssignment/make_sparse_fixture.py (SciPy 1.10 min_weight_full_bipartite_matching).
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Fixtures, "SparseAssignment", "sparse_matching.json")));
        int n = 0;
        foreach (var cs in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            int rows = cs.GetProperty("rows").GetInt32(), cols = cs.GetProperty("columns").GetInt32();
            int[] r = [.. cs.GetProperty("edgeRows").EnumerateArray().Select(x => x.GetInt32())];
            int[] c = [.. cs.GetProperty("edgeColumns").EnumerateArray().Select(x => x.GetInt32())];
            double[] w = [.. cs.GetProperty("weights").EnumerateArray().Select(x => x.GetDouble())];
            var s = SparseAssignment.Solve(rows, cols, r, c, w);
            AssertValidMatching(s, r, c, w, 0);
            Assert.Equal(cs.GetProperty("scipyTotal").GetDouble(), s.TotalWeight, 9);
            n++;
        }
        Assert.Equal(6, n);
    }

    [Fact]
    public void AHandCaseWhereTheBestPartialMatchingLeavesARowUnmatched()
    {
        // Row 0: col 0 (0.9) or col 1 (0.5); row 1: col 0 (0.6) only. Best: 0-1 and 1-0 (1.1) beats 0-0 alone (0.9).
        var s = SparseAssignment.Solve(3, 2, [0, 0, 1, 2], [0, 1, 0, 0], [0.9, 0.5, 0.6, 0.1]);
        Assert.Equal([0, 1], s.RowIndices);
        Assert.Equal([1, 0], s.ColumnIndices);
        Assert.Equal(1.1, s.TotalWeight, 15);
        // Above 0.55 only 0-0 and 1-0 remain; they compete for column 0 and the heavier wins.
        var t = SparseAssignment.Solve(3, 2, [0, 0, 1, 2], [0, 1, 0, 0], [0.9, 0.5, 0.6, 0.1], minWeight: 0.55);
        Assert.Equal([0], t.RowIndices);
        Assert.Equal(0.9, t.TotalWeight, 15);
        Assert.Empty(SparseAssignment.Solve(0, 5, [], [], []).RowIndices);
    }

    [Fact]
    public void BadEdgesAreNamed()
    {
        Assert.Contains("edgeColumns[1] = 7", Assert.Throws<ArgumentOutOfRangeException>(() =>
            SparseAssignment.Solve(2, 2, [0, 1], [0, 7], [0.5, 0.5])).Message);
        Assert.Contains("weights[0] = NaN", Assert.Throws<ArgumentException>(() =>
            SparseAssignment.Solve(2, 2, [0], [0], [double.NaN])).Message);
        Assert.Contains("(row 1, column 0) has more than one edge", Assert.Throws<ArgumentException>(() =>
            SparseAssignment.Solve(2, 2, [1, 1], [0, 0], [0.5, 0.25])).Message);
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => SparseAssignment.Solve(2, 2, [0], [0], [])).ParamName);
    }

    [Fact]
    public void TheSparseRemapKeepsTheSameIdsAsTheDenseRemap()
    {
        // Random labellings whose optimum is almost surely unique: same kept pairs, same fresh and retired IDs; the
        // dense path's extra zero-Jaccard pairs are the only difference in Matches.
        Gen.Select(Gen.Int[0, int.MaxValue], Gen.Double[0, 0.9]).Sample((seed, threshold) =>
        {
            var rng = new Random(seed);
            int n = rng.Next(5, 300);
            var ids = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
            var oldL = ids.Select(_ => rng.NextDouble() < 0.1 ? -1 : rng.Next(0, 15)).ToArray();
            var newL = oldL.Select(l => rng.NextDouble() < 0.3 || l < 0 ? rng.Next(-1, 15) : (l * 7 + 3) % 17).ToArray();
            if (oldL.All(l => l < 0) || newL.All(l => l < 0)) return true;
            var overlap = ClusterOverlap.Compute(new Labeling(ids, oldL), new Labeling(ids, newL));
            var options = new RemappingOptions { OverlapThreshold = threshold };
            var dense = LabelRemapper.ByOverlap(overlap, options);
            var sparse = LabelRemapper.ByOverlap(overlap, options, sparse: true);
            double denseTotal = dense.Matches.Sum(m => m.Score), sparseTotal = sparse.Matches.Sum(m => m.Score);
            if (Math.Abs(denseTotal - sparseTotal) > 1e-12) return false;
            if (sparse.Matches.Any(m => m.Score <= 0)) return false;
            bool unique = dense.Matches.Where(m => m.Score > 0).Select(m => (m.NewLabel, m.OldId))
                .SequenceEqual(sparse.Matches.Select(m => (m.NewLabel, m.OldId)));
            // Ties (two optimal matchings) may pick differently; otherwise every ID agrees.
            return !unique || (dense.FinalIdByLabel.SequenceEqual(sparse.FinalIdByLabel)
                && dense.RetiredIds.SequenceEqual(sparse.RetiredIds) && dense.CreatedIds.SequenceEqual(sparse.CreatedIds));
        }, iter: 500);
    }
}

public sealed class SparseRemapHandCaseTests
{
    [Fact]
    public void TheHandCaseGivesTheDenseAnswerOnTheSparsePath()
    {
        // ClusterOverlapTests' hand case: Jaccard(0,5) = 2/3, (1,5) = 1/4, (1,6) = 1/3, (2,7) = 1/2; best 0-5, 1-6, 2-7.
        var y = new Labeling([1, 2, 3, 4, 5, 6, 7, 8], [0, 0, 0, 1, 1, -1, 2, 2]);
        var t = new Labeling([2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 5, 5, 6, 6, -1, 7, 5, 7]);
        var r = LabelRemapper.ByOverlap(ClusterOverlap.Compute(y, t), new RemappingOptions { OverlapThreshold = 0.6 }, sparse: true);
        Assert.Equal([(5, 0, true), (6, 1, false), (7, 2, false)], r.Matches.Select(m => (m.NewLabel, m.OldId, m.Kept)));
        Assert.Equal([3, 4], r.CreatedIds);
        Assert.Equal([1, 2], r.RetiredIds);
    }
}

public sealed class SparseRemapAboveTheDenseLimitTests
{
    [Fact]
    public void MoreClustersThanADenseMatrixTakesAreRemappedOnTheSparsePath()
    {
        // 4 items per old cluster, 50,000 old and 50,000 new clusters: 2.5e9 cells, more than an array holds (so no
        // dense-size check may stand in the sparse path's way); every new cluster is an old one with one item moved to
        // the next cluster, so each pair has Jaccard 3/5 and the answer is known: every ID kept.
        int k = 50_000;
        var items = new long[4 * k];
        var old = new int[4 * k];
        var fresh = new int[4 * k];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = i;
            old[i] = i / 4;
            int c = i / 4;
            fresh[i] = 10 * (i % 4 == 0 ? (c + 1) % k : c); // today's label of cluster c is 10c; item 0 of c moves on
        }
        Assert.True((long)k * k > Array.MaxLength);
        var r = LabelRemapper.ByOverlap(new Labeling(items, old), new Labeling(items, fresh));
        // Cluster c today holds items 1..3 of c and item 0 of c-1: shared 3, union 5.
        Assert.Equal(k, r.KeptIds.Length);
        Assert.Empty(r.CreatedIds);
        for (int c = 0; c < k; c++) Assert.Equal(c, r.FinalId(10 * c));
        Assert.All(r.Matches, m => Assert.Equal(0.6, m.Score, 12));
    }
}
