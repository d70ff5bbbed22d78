using System.Collections.ObjectModel;

namespace LabelAssignment.Metrics;

/// <summary>One non-zero cell of a <see cref="ContingencyTable"/>: how many items have row label
/// <c>RowLabels[Row]</c> in labeling A and column label <c>ColumnLabels[Column]</c> in labeling B.</summary>
/// <param name="Row">Row index (into <see cref="ContingencyTable.RowLabels"/>).</param>
/// <param name="Column">Column index (into <see cref="ContingencyTable.ColumnLabels"/>).</param>
/// <param name="Count">Items in both clusters (always &gt;= 1).</param>
public readonly record struct ContingencyCell(int Row, int Column, int Count);

/// <summary>
/// The contingency table of two labelings of the same items: rows are the distinct labels of A, columns the
/// distinct labels of B (both in ascending order, as scikit-learn's <c>contingency_matrix</c>), and cell (i, j)
/// counts the items labeled <c>RowLabels[i]</c> in A and <c>ColumnLabels[j]</c> in B. Every clustering metric in
/// <see cref="ClusteringMetrics"/> is computed from this one table, so build it once and ask it for all of them.
/// Only non-zero cells are stored (at most n of them, row by row with ascending columns), so two labelings with
/// thousands of clusters each cost O(n) memory, not rows x columns.
/// </summary>
public sealed class ContingencyTable
{
    private readonly int[] _rowLabels, _columnLabels, _rowSums, _columnSums, _rowStart, _cellColumns, _cellCounts;

    private ContingencyTable(int count, int[] rowLabels, int[] columnLabels, int[] rowSums, int[] columnSums,
        int[] rowStart, int[] cellColumns, int[] cellCounts)
    {
        Count = count;
        _rowLabels = rowLabels;
        _columnLabels = columnLabels;
        _rowSums = rowSums;
        _columnSums = columnSums;
        _rowStart = rowStart;
        _cellColumns = cellColumns;
        _cellCounts = cellCounts;
    }

    /// <summary>Number of items (the length of each labeling).</summary>
    public int Count { get; }

    /// <summary>Number of distinct labels in A (rows).</summary>
    public int RowCount => _rowLabels.Length;

    /// <summary>Number of distinct labels in B (columns).</summary>
    public int ColumnCount => _columnLabels.Length;

    /// <summary>Number of non-zero cells.</summary>
    public int CellCount => _cellCounts.Length;

    /// <summary>The distinct labels of A in ascending order; row i stands for <c>RowLabels[i]</c>.</summary>
    public ReadOnlyCollection<int> RowLabels => Array.AsReadOnly(_rowLabels);

    /// <summary>The distinct labels of B in ascending order; column j stands for <c>ColumnLabels[j]</c>.</summary>
    public ReadOnlyCollection<int> ColumnLabels => Array.AsReadOnly(_columnLabels);

    /// <summary>Row sums: the size of each cluster of A, aligned with <see cref="RowLabels"/>.</summary>
    public ReadOnlyCollection<int> RowSums => Array.AsReadOnly(_rowSums);

    /// <summary>Column sums: the size of each cluster of B, aligned with <see cref="ColumnLabels"/>.</summary>
    public ReadOnlyCollection<int> ColumnSums => Array.AsReadOnly(_columnSums);

    /// <summary>Every non-zero cell, row by row, columns ascending within a row.</summary>
    public IEnumerable<ContingencyCell> Cells
    {
        get
        {
            for (int r = 0; r < RowCount; r++)
                for (int p = _rowStart[r]; p < _rowStart[r + 1]; p++)
                    yield return new ContingencyCell(r, _cellColumns[p], _cellCounts[p]);
        }
    }

    /// <summary>The non-zero cells of row <paramref name="row"/> (columns ascending).</summary>
    public IEnumerable<ContingencyCell> CellsInRow(int row)
    {
        CheckIndex(row, RowCount, nameof(row));
        return Iterate();

        IEnumerable<ContingencyCell> Iterate()
        {
            for (int p = _rowStart[row]; p < _rowStart[row + 1]; p++)
                yield return new ContingencyCell(row, _cellColumns[p], _cellCounts[p]);
        }
    }

    /// <summary>The count in cell (<paramref name="row"/>, <paramref name="column"/>); 0 when no item is in both.</summary>
    public int this[int row, int column]
    {
        get
        {
            CheckIndex(row, RowCount, nameof(row));
            CheckIndex(column, ColumnCount, nameof(column));
            int p = Array.BinarySearch(_cellColumns, _rowStart[row], _rowStart[row + 1] - _rowStart[row], column);
            return p >= 0 ? _cellCounts[p] : 0;
        }
    }

    /// <summary>The row index of label <paramref name="label"/> of A, or -1 when A does not use it.</summary>
    public int RowIndexOf(int label) => Math.Max(-1, Array.BinarySearch(_rowLabels, label));

    /// <summary>The column index of label <paramref name="label"/> of B, or -1 when B does not use it.</summary>
    public int ColumnIndexOf(int label) => Math.Max(-1, Array.BinarySearch(_columnLabels, label));

    /// <summary>True when A and B are the same partition up to renaming: every row and every column has exactly
    /// one non-zero cell.</summary>
    public bool IsSamePartition => RowCount == ColumnCount && CellCount == RowCount;

    // Internal views for the metrics (no copies).
    internal ReadOnlySpan<int> RowSumsSpan => _rowSums;
    internal ReadOnlySpan<int> ColumnSumsSpan => _columnSums;
    internal ReadOnlySpan<int> CellCountsSpan => _cellCounts;
    internal ReadOnlySpan<int> RowLabelsSpan => _rowLabels;
    internal ReadOnlySpan<int> ColumnLabelsSpan => _columnLabels;
    internal ReadOnlySpan<int> RowStartSpan => _rowStart;
    internal ReadOnlySpan<int> CellColumnsSpan => _cellColumns;

    /// <summary>
    /// Builds the table of two labelings of the same items in O(n): labels may be any int (negative, gapped,
    /// -1 for noise is an ordinary label here). <paramref name="labelsA"/>[i] and <paramref name="labelsB"/>[i]
    /// are item i's labels.
    /// </summary>
    /// <exception cref="ArgumentException">The labelings are empty or differ in length.</exception>
    public static ContingencyTable Build(ReadOnlySpan<int> labelsA, ReadOnlySpan<int> labelsB)
    {
        if (labelsA.Length != labelsB.Length)
            throw new ArgumentException(
                $"labelsA has {labelsA.Length} items but labelsB has {labelsB.Length}; expected one label per item in both (equal lengths).",
                nameof(labelsB));
        if (labelsA.IsEmpty)
            throw new ArgumentException(
                "labelsA and labelsB are empty (length 0); expected at least one item.", nameof(labelsA));
        int n = labelsA.Length;
        var rows = new int[n];
        var columns = new int[n];
        int[] rowLabels = DenseIndex(labelsA, rows);
        int[] columnLabels = DenseIndex(labelsB, columns);
        int r = rowLabels.Length, c = columnLabels.Length;

        var rowSums = new int[r];
        var columnSums = new int[c];
        for (int i = 0; i < n; i++)
        {
            rowSums[rows[i]]++;
            columnSums[columns[i]]++;
        }

        // Two counting sorts give every item's column grouped by row with ascending columns within a row;
        // runs of equal columns are then the non-zero cells. O(n + r + c), no hashing of pairs.
        var columnStart = new int[c + 1];
        for (int j = 0; j < c; j++) columnStart[j + 1] = columnStart[j] + columnSums[j];
        var rowsByColumn = new int[n];
        var fill = columnStart.AsSpan(0, c).ToArray();
        for (int i = 0; i < n; i++) rowsByColumn[fill[columns[i]]++] = rows[i];

        var rowStartItems = new int[r + 1];
        for (int i = 0; i < r; i++) rowStartItems[i + 1] = rowStartItems[i] + rowSums[i];
        var columnsByRow = columns; // reuse: no longer needed by item
        var rowFill = rowStartItems.AsSpan(0, r).ToArray();
        for (int j = 0; j < c; j++)
            for (int p = columnStart[j]; p < columnStart[j + 1]; p++)
                columnsByRow[rowFill[rowsByColumn[p]]++] = j;

        int cells = 0;
        for (int i = 0; i < r; i++)
            for (int p = rowStartItems[i]; p < rowStartItems[i + 1]; p++)
                if (p == rowStartItems[i] || columnsByRow[p] != columnsByRow[p - 1]) cells++;

        var rowStart = new int[r + 1];
        var cellColumns = new int[cells];
        var cellCounts = new int[cells];
        int at = -1;
        for (int i = 0; i < r; i++)
        {
            for (int p = rowStartItems[i]; p < rowStartItems[i + 1]; p++)
            {
                if (p == rowStartItems[i] || columnsByRow[p] != columnsByRow[p - 1])
                    cellColumns[++at] = columnsByRow[p];
                cellCounts[at]++;
            }
            rowStart[i + 1] = at + 1;
        }
        return new ContingencyTable(n, rowLabels, columnLabels, rowSums, columnSums, rowStart, cellColumns, cellCounts);
    }

    /// <summary>Writes each label's rank among the distinct labels into <paramref name="index"/>; returns the
    /// distinct labels in ascending order. O(n): a direct table when the labels span a small range (the usual
    /// 0..k-1 or -1..k-1), else a radix sort of (label, item) pairs.</summary>
    private static int[] DenseIndex(ReadOnlySpan<int> labels, int[] index)
    {
        int min = int.MaxValue, max = int.MinValue;
        foreach (int v in labels)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        long range = (long)max - min + 1;
        if (range <= 4L * labels.Length + 1024)
        {
            var rank = new int[range];
            foreach (int v in labels) rank[v - min] = 1;
            int distinct = 0;
            for (int k = 0; k < rank.Length; k++)
                rank[k] = rank[k] != 0 ? distinct++ : -1;
            var values = new int[distinct];
            for (int k = 0; k < rank.Length; k++)
                if (rank[k] >= 0) values[rank[k]] = (int)(min + k);
            for (int i = 0; i < labels.Length; i++) index[i] = rank[labels[i] - min];
            return values;
        }

        // Wide labels: sort (label, item) pairs by label with an LSD radix sort (O(n), no hashing), then rank.
        var keys = new ulong[labels.Length];
        for (int i = 0; i < labels.Length; i++)
            keys[i] = ((ulong)((uint)labels[i] ^ 0x8000_0000u) << 32) | (uint)i;
        RadixSortByUpperHalf(keys);
        int count = 0;
        for (int p = 0; p < keys.Length; p++)
            if (p == 0 || (keys[p] >> 32) != (keys[p - 1] >> 32)) count++;
        var sorted = new int[count];
        int rankOf = -1;
        for (int p = 0; p < keys.Length; p++)
        {
            if (p == 0 || (keys[p] >> 32) != (keys[p - 1] >> 32))
                sorted[++rankOf] = (int)((uint)(keys[p] >> 32) ^ 0x8000_0000u);
            index[(int)(uint)keys[p]] = rankOf;
        }
        return sorted;
    }

    /// <summary>LSD radix sort of 64-bit keys by their upper 32 bits, 8 bits per pass; a pass whose digit is the
    /// same for every key is skipped.</summary>
    private static void RadixSortByUpperHalf(ulong[] keys)
    {
        var buffer = new ulong[keys.Length];
        ulong[] source = keys, target = buffer;
        var counts = new int[257];
        for (int shift = 32; shift < 64; shift += 8)
        {
            Array.Clear(counts);
            foreach (ulong k in source) counts[(int)((k >> shift) & 0xFF) + 1]++;
            if (counts.Contains(source.Length)) continue; // one digit value only: order unchanged
            for (int d = 0; d < 256; d++) counts[d + 1] += counts[d];
            foreach (ulong k in source) target[counts[(int)((k >> shift) & 0xFF)]++] = k;
            (source, target) = (target, source);
        }
        if (!ReferenceEquals(source, keys))
            source.CopyTo(keys, 0);
    }

    private static void CheckIndex(int index, int length, string name)
    {
        if ((uint)index >= (uint)length)
            throw new ArgumentOutOfRangeException(name, index, $"{name} must be in [0, {length}).");
    }
}
