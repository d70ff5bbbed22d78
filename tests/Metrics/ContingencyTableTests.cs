using CsCheck;
using LabelAssignment.Metrics;

namespace LabelAssignment.Tests.Metrics;

public sealed class ContingencyTableTests
{
    /// <summary>The table a dictionary of (a, b) pairs gives: the oracle for Build.</summary>
    private static Dictionary<(int A, int B), int> Oracle(int[] a, int[] b)
    {
        var cells = new Dictionary<(int, int), int>();
        for (int i = 0; i < a.Length; i++)
            cells[(a[i], b[i])] = cells.GetValueOrDefault((a[i], b[i])) + 1;
        return cells;
    }

    private static void AssertMatchesOracle(int[] a, int[] b, ContingencyTable t)
    {
        var oracle = Oracle(a, b);
        Assert.Equal(a.Length, t.Count);
        Assert.Equal(a.Distinct().Order(), t.RowLabels);
        Assert.Equal(b.Distinct().Order(), t.ColumnLabels);
        Assert.Equal(t.RowLabels.Select(l => a.Count(v => v == l)), t.RowSums);
        Assert.Equal(t.ColumnLabels.Select(l => b.Count(v => v == l)), t.ColumnSums);
        Assert.Equal(oracle.Count, t.CellCount);
        var cells = t.Cells.ToList();
        Assert.Equal(oracle.Count, cells.Count);
        foreach (var cell in cells)
            Assert.Equal(oracle[(t.RowLabels[cell.Row], t.ColumnLabels[cell.Column])], cell.Count);
        // row-major, columns ascending within a row
        Assert.Equal(cells.OrderBy(c => c.Row).ThenBy(c => c.Column), cells);
        for (int r = 0; r < t.RowCount; r++)
            for (int c = 0; c < t.ColumnCount; c++)
                Assert.Equal(oracle.GetValueOrDefault((t.RowLabels[r], t.ColumnLabels[c])), t[r, c]);
    }

    [Fact]
    public void SmallHandCheckedTable()
    {
        // sklearn test_contingency_matrix labels: rows 1,2,3 x columns 1,2,3.
        int[] a = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
        int[] b = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2];
        var t = ContingencyTable.Build(a, b);
        int[,] expected = { { 5, 1, 0 }, { 1, 4, 1 }, { 0, 2, 3 } }; // counted by hand
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(expected[r, c], t[r, c]);
        Assert.Equal([6, 6, 5], t.RowSums);
        Assert.Equal([6, 7, 4], t.ColumnSums);
        Assert.Equal(7, t.CellCount);
        Assert.False(t.IsSamePartition);
        Assert.Equal(1, t.RowIndexOf(2));
        Assert.Equal(-1, t.RowIndexOf(4));
        Assert.Equal(-1, t.ColumnIndexOf(0));
        Assert.Equal([new ContingencyCell(2, 1, 2), new ContingencyCell(2, 2, 3)], t.CellsInRow(2));
    }

    [Fact]
    public void NegativeGappedAndExtremeLabels()
    {
        int[] a = [int.MinValue, -1, -1, 5, int.MaxValue, 5, -1];
        int[] b = [7, 7, -3, int.MinValue, 7, int.MinValue, 1_000_000];
        var t = ContingencyTable.Build(a, b); // range > 4n: the hash + radix-sort path
        Assert.Equal([int.MinValue, -1, 5, int.MaxValue], t.RowLabels);
        Assert.Equal([int.MinValue, -3, 7, 1_000_000], t.ColumnLabels);
        AssertMatchesOracle(a, b, t);
    }

    [Fact]
    public void RandomLabelingsMatchTheOracleOnBothLabelPaths()
    {
        // Small spans use the direct table, wide spans the hash map + radix sort: both must give the same table.
        Gen.Select(Gen.Int[1, 80], Gen.Int[1, 12], Gen.Int[1, 12], Gen.Bool, Gen.Int).Sample((n, ka, kb, wide, seed) =>
        {
            var rng = new Random(seed);
            int spread = wide ? 50_000_000 : 1;
            int[] a = Enumerable.Range(0, n).Select(_ => (rng.Next(ka) - 3) * spread).ToArray();
            int[] b = Enumerable.Range(0, n).Select(_ => (rng.Next(kb) - 5) * spread - 1).ToArray();
            AssertMatchesOracle(a, b, ContingencyTable.Build(a, b));
        }, iter: 300);
    }

    [Fact]
    public void FullRangeLabelsSortAndCountLikeTheOracle()
    {
        // Labels over the whole int range exercise every byte of the radix sort, with repeats.
        var rng = new Random(5);
        int[] pool = Enumerable.Range(0, 3000).Select(_ => rng.Next(int.MinValue, int.MaxValue)).Append(int.MaxValue).Append(int.MinValue).ToArray();
        int[] a = Enumerable.Range(0, 20000).Select(_ => pool[rng.Next(pool.Length)]).ToArray();
        int[] b = Enumerable.Range(0, 20000).Select(_ => pool[rng.Next(40)]).ToArray();
        var t = ContingencyTable.Build(a, b);
        Assert.Equal(a.Distinct().Order(), t.RowLabels);
        Assert.Equal(b.Distinct().Order(), t.ColumnLabels);
        var oracle = Oracle(a, b);
        Assert.Equal(oracle.Count, t.CellCount);
        foreach (var cell in t.Cells)
            Assert.Equal(oracle[(t.RowLabels[cell.Row], t.ColumnLabels[cell.Column])], cell.Count);
    }

    [Fact]
    public void SamePartitionIsRecognised()
    {
        Assert.True(ContingencyTable.Build([3, 3, 9, 1], [0, 0, -5, 2]).IsSamePartition);
        Assert.True(ContingencyTable.Build([4, 4, 4], [1, 1, 1]).IsSamePartition);
        Assert.False(ContingencyTable.Build([3, 3, 9, 1], [0, 0, -5, -5]).IsSamePartition);
        Assert.False(ContingencyTable.Build([3, 3, 9, 9], [0, 1, 2, 3]).IsSamePartition);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        var e = Assert.Throws<ArgumentException>(() => ContingencyTable.Build([1, 2, 3], [1, 2]));
        Assert.Equal("labelsB", e.ParamName);
        Assert.Contains("labelsA has 3 items but labelsB has 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => ContingencyTable.Build([], []));
        Assert.Equal("labelsA", e.ParamName);
        Assert.Contains("empty (length 0)", e.Message);

        var t = ContingencyTable.Build([0, 1], [0, 0]);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => t[2, 0]);
        Assert.Equal("row", r.ParamName);
        Assert.Contains("row must be in [0, 2)", r.Message);
        Assert.Equal("column", Assert.Throws<ArgumentOutOfRangeException>(() => t[0, -1]).ParamName);
        Assert.Equal("row", Assert.Throws<ArgumentOutOfRangeException>(() => t.CellsInRow(-1)).ParamName);
    }
}
