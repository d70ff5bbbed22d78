namespace LabelAssignment.Numerics;

/// <summary>
/// A maximum-weight partial matching: row <c>RowIndices[k]</c> is matched to column <c>ColumnIndices[k]</c>; rows and
/// columns not listed stay unmatched. Pairs are sorted by row.
/// </summary>
/// <param name="RowIndices">Matched rows, ascending.</param>
/// <param name="ColumnIndices">The column matched to each entry of <paramref name="RowIndices"/>.</param>
/// <param name="TotalWeight">Sum of the weights of the matched edges.</param>
public sealed record SparseAssignmentResult(int[] RowIndices, int[] ColumnIndices, double TotalWeight)
{
    /// <summary>Number of matched pairs.</summary>
    public int Count => RowIndices.Length;
}

/// <summary>
/// Maximum-weight bipartite matching on a sparse graph, where any row or column may stay unmatched: a pair with no
/// edge can never be matched (its cost is "forbidden"), so memory and time follow the edges, not rows x columns.
/// Solved exactly as a rectangular assignment in which every row also has a private "stay unmatched" column of weight
/// 0, by Crouse's shortest augmenting path (the dense <see cref="LinearAssignment"/>'s method) with Dijkstra on a
/// binary heap over the edges (as in LAPJVsp). A row that settles on its private column is never revisited: only it
/// can reach that column, so no later augmenting path passes through it.
/// </summary>
public static class SparseAssignment
{
    /// <summary>Solves for the edges <c>(edgeRows[e], edgeColumns[e], weights[e])</c>.</summary>
    /// <param name="rows">Number of rows (>= 0).</param>
    /// <param name="columns">Number of columns (>= 0).</param>
    /// <param name="edgeRows">Row of each edge, in [0, rows).</param>
    /// <param name="edgeColumns">Column of each edge, in [0, columns); a (row, column) pair at most once.</param>
    /// <param name="weights">Weight of each edge: finite. Edges not above <paramref name="minWeight"/> are ignored.</param>
    /// <param name="minWeight">Only edges whose weight is strictly above it may be matched (>= 0; default 0, since an edge
    /// of weight 0 or less never adds to the total).</param>
    /// <param name="cancellationToken">Checked every 1024 rows.</param>
    /// <exception cref="ArgumentException">Lengths that differ, an index out of range, a non-finite weight or a repeated
    /// pair (each named with its edge index).</exception>
    public static SparseAssignmentResult Solve(
        int rows, int columns, ReadOnlySpan<int> edgeRows, ReadOnlySpan<int> edgeColumns, ReadOnlySpan<double> weights,
        double minWeight = 0, CancellationToken cancellationToken = default)
    {
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be >= 0.");
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be >= 0.");
        if (edgeColumns.Length != edgeRows.Length)
            throw new ArgumentException($"edgeColumns has {edgeColumns.Length} entries but edgeRows has {edgeRows.Length}: one per edge.", nameof(edgeColumns));
        if (weights.Length != edgeRows.Length)
            throw new ArgumentException($"weights has {weights.Length} entries but edgeRows has {edgeRows.Length}: one per edge.", nameof(weights));
        if (!(minWeight >= 0) || double.IsInfinity(minWeight))
            throw new ArgumentOutOfRangeException(nameof(minWeight), minWeight, "minWeight must be finite and >= 0.");

        // CSR over the kept edges, each row's columns ascending (so the result does not depend on the edge order).
        var start = new int[rows + 1];
        for (int e = 0; e < edgeRows.Length; e++)
        {
            int r = edgeRows[e], c = edgeColumns[e];
            double w = weights[e];
            if ((uint)r >= (uint)rows)
                throw new ArgumentOutOfRangeException(nameof(edgeRows), r, $"edgeRows[{e}] = {r} is outside [0, {rows}).");
            if ((uint)c >= (uint)columns)
                throw new ArgumentOutOfRangeException(nameof(edgeColumns), c, $"edgeColumns[{e}] = {c} is outside [0, {columns}).");
            if (!double.IsFinite(w))
                throw new ArgumentException($"weights[{e}] = {w} (row {r}, column {c}): weights must be finite.", nameof(weights));
            if (w > minWeight) start[r + 1]++;
        }
        for (int r = 0; r < rows; r++) start[r + 1] += start[r];
        var adjColumn = new int[start[rows]];
        var adjCost = new double[start[rows]];  // cost = -weight: the solver minimises
        var fill = start[..rows];
        for (int e = 0; e < edgeRows.Length; e++)
        {
            if (!(weights[e] > minWeight)) continue;
            int p = fill[edgeRows[e]]++;
            adjColumn[p] = edgeColumns[e];
            adjCost[p] = -weights[e];
        }
        for (int r = 0; r < rows; r++)
        {
            int lo = start[r], n = start[r + 1] - lo;
            if (n < 2) continue;
            Array.Sort(adjColumn, adjCost, lo, n);
            for (int p = lo + 1; p < lo + n; p++)
                if (adjColumn[p] == adjColumn[p - 1])
                    throw new ArgumentException($"the pair (row {r}, column {adjColumn[p]}) has more than one edge: each pair at most once.", nameof(edgeColumns));
        }

        var col4row = SolveCsr(rows, columns, start, adjColumn, adjCost, cancellationToken);

        int count = 0;
        for (int r = 0; r < rows; r++) if (col4row[r] >= 0) count++;
        var rowIdx = new int[count];
        var colIdx = new int[count];
        double total = 0;
        for (int r = 0, k = 0; r < rows; r++)
        {
            int c = col4row[r];
            if (c < 0) continue;
            rowIdx[k] = r;
            colIdx[k] = c;
            int p = Array.BinarySearch(adjColumn, start[r], start[r + 1] - start[r], c);
            total -= adjCost[p];
            k++;
        }
        return new SparseAssignmentResult(rowIdx, colIdx, total);
    }

    /// <summary>Crouse's shortest augmenting path on the CSR graph plus one private zero-cost column per row
    /// (column <c>columns + r</c>); returns each row's real column, or -1 for unmatched.</summary>
    private static int[] SolveCsr(int rows, int columns, int[] start, int[] adjColumn, double[] adjCost, CancellationToken ct)
    {
        int nc = columns + rows;
        var u = new double[rows];
        var v = new double[nc];
        var d = new double[nc];
        Array.Fill(d, double.PositiveInfinity);
        var path = new int[nc];
        var col4row = new int[rows];
        var row4col = new int[nc];
        Array.Fill(col4row, -1);
        Array.Fill(row4col, -1);
        var scannedFlag = new bool[nc];
        var touched = new List<int>();   // columns whose d was set in this search (reset after it)
        var scanned = new List<int>();   // columns scanned, in order
        var visited = new List<int>();   // rows reached
        var heap = new PriorityQueue<int, (double D, int Column)>();

        for (int curRow = 0; curRow < rows; curRow++)
        {
            if ((curRow & 1023) == 0) ct.ThrowIfCancellationRequested();
            int i = curRow, sink = -1;
            double minVal = 0;
            while (true)
            {
                visited.Add(i);
                double ui = u[i];
                for (int p = start[i]; p < start[i + 1]; p++)
                    Relax(adjColumn[p], minVal + adjCost[p] - ui, i);
                Relax(columns + i, minVal - ui, i); // the private column: cost 0

                int j;
                double lowest;
                while (true)
                {
                    // The private column keeps the search finite: the heap is never empty before a sink.
                    heap.TryDequeue(out j, out var key);
                    if (!scannedFlag[j] && key.D == d[j]) { lowest = key.D; break; }
                }
                minVal = lowest;
                scannedFlag[j] = true;
                scanned.Add(j);
                if (row4col[j] < 0) { sink = j; break; }
                i = row4col[j];
            }

            // Dual update (as the dense solver): rows reached and columns scanned, then augment back to curRow.
            u[curRow] += minVal;
            for (int k = 1; k < visited.Count; k++)
            {
                int r = visited[k];
                u[r] += minVal - d[col4row[r]];
            }
            foreach (int j in scanned) v[j] -= minVal - d[j];
            for (int j = sink; ;)
            {
                int r = path[j];
                row4col[j] = r;
                (col4row[r], j) = (j, col4row[r]);
                if (r == curRow) break;
            }

            foreach (int j in touched) { d[j] = double.PositiveInfinity; scannedFlag[j] = false; }
            touched.Clear();
            scanned.Clear();
            visited.Clear();
            heap.Clear();
        }

        for (int r = 0; r < rows; r++) if (col4row[r] >= columns) col4row[r] = -1;
        return col4row;

        void Relax(int j, double reduced, int row)
        {
            if (scannedFlag[j]) return;
            reduced -= v[j];
            if (reduced < d[j])
            {
                if (double.IsPositiveInfinity(d[j])) touched.Add(j);
                d[j] = reduced;
                path[j] = row;
                heap.Enqueue(j, (reduced, j));
            }
        }
    }
}
