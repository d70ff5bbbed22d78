using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace LabelAssignment.Numerics;

/// <summary>
/// An optimal assignment: row <c>RowIndices[k]</c> is matched to column <c>ColumnIndices[k]</c>. Pairs are sorted by
/// row (as SciPy's <c>linear_sum_assignment</c> returns them); there are min(rows, columns) of them.
/// </summary>
/// <param name="RowIndices">Matched rows, ascending.</param>
/// <param name="ColumnIndices">The column matched to each entry of <paramref name="RowIndices"/>.</param>
/// <param name="TotalCost">Sum of the original cost entries of the matched pairs (not negated when maximising).</param>
public sealed record LinearAssignmentResult(int[] RowIndices, int[] ColumnIndices, double TotalCost)
{
    /// <summary>Number of matched pairs.</summary>
    public int Count => RowIndices.Length;
}

/// <summary>
/// The cost matrix admits no complete matching: forbidden pairs (+infinity when minimising, -infinity when maximising)
/// leave some row (or, for a tall matrix, some column) with nothing it may be matched to. A different error from
/// invalid entries (NaN), as in SciPy.
/// </summary>
public sealed class InfeasibleAssignmentException : ArgumentException
{
    /// <summary>Creates the exception for the named parameter.</summary>
    public InfeasibleAssignmentException(string message, string paramName) : base(message, paramName) { }
}

/// <summary>
/// The linear sum assignment problem (the "Hungarian" problem) on a dense rectangular cost matrix, solved exactly by
/// the shortest augmenting path method of Crouse (2016), as SciPy's <c>linear_sum_assignment</c> does
/// (<c>rectangular_lsap.cpp</c>): one Dijkstra search per row over reduced costs with dual variables. The inner loop
/// scans a whole cost row with SIMD (scanned columns are masked by an infinite dual rather than removed from a list)
/// so that it reads memory sequentially. Square matrices are first reduced as in Jonker-Volgenant (LAPJV).
/// </summary>
public static class LinearAssignment
{
    /// <summary>Solves for a row-major <paramref name="rows"/> x <paramref name="columns"/> cost matrix.</summary>
    /// <param name="cost">Row-major costs: entry (i, j) at <c>i * columns + j</c>. NaN is invalid; +infinity (when
    /// minimising) or -infinity (when maximising) forbids the pair; the opposite infinity is invalid.</param>
    /// <param name="rows">Number of rows (>= 0).</param>
    /// <param name="columns">Number of columns (>= 0).</param>
    /// <param name="maximize">Maximise the total instead of minimising it.</param>
    /// <param name="cancellationToken">Checked before each row's search (5000 x 5000 takes seconds).</param>
    /// <returns>min(rows, columns) pairs sorted by row; empty when either dimension is 0.</returns>
    /// <exception cref="ArgumentException">Shape mismatch, or an invalid entry (named with its row and column).</exception>
    /// <exception cref="InfeasibleAssignmentException">Forbidden pairs leave no complete matching.</exception>
    public static LinearAssignmentResult Solve(
        ReadOnlySpan<double> cost, int rows, int columns, bool maximize = false, CancellationToken cancellationToken = default)
    {
        if (rows < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be >= 0.");
        if (columns < 0)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be >= 0.");
        if ((long)rows * columns != cost.Length)
            throw new ArgumentException(
                $"cost has {cost.Length} entries but rows={rows} x columns={columns} needs {(long)rows * columns}.", nameof(cost));
        if (rows == 0 || columns == 0)
            return new LinearAssignmentResult([], [], 0.0);

        // Normalise in one place: a tall matrix is transposed (so rows <= columns) and a maximisation negated.
        bool transpose = columns < rows;
        int nr = transpose ? columns : rows, nc = transpose ? rows : columns;
        ReadOnlySpan<double> c = cost;
        double[]? temp = null;
        if (transpose || maximize)
        {
            temp = GC.AllocateUninitializedArray<double>(cost.Length);
            if (transpose) Transpose(cost, rows, columns, temp);
            else cost.CopyTo(temp);
            if (maximize) TensorPrimitives.Negate(temp, temp);
            c = temp;
        }

        // NaN, and -infinity after normalisation, are invalid (SciPy: "matrix contains invalid numeric entries").
        double min = TensorPrimitives.Min(c);
        if (double.IsNaN(min) || double.IsNegativeInfinity(min))
            ThrowInvalid(cost, columns, maximize);

        int[] col4row = SolveNormalised(c, nr, nc, cancellationToken);

        int n = nr;
        var rowIdx = new int[n];
        var colIdx = new int[n];
        if (transpose)
        {
            // col4row[k] is the original row matched to original column k; report by ascending original row.
            var colOfRow = new int[rows];
            Array.Fill(colOfRow, -1);
            for (int k = 0; k < nr; k++) colOfRow[col4row[k]] = k;
            int p = 0;
            for (int r = 0; r < rows; r++)
                if (colOfRow[r] >= 0) { rowIdx[p] = r; colIdx[p] = colOfRow[r]; p++; }
        }
        else
        {
            for (int r = 0; r < n; r++) { rowIdx[r] = r; colIdx[r] = col4row[r]; }
        }
        double total = 0;
        for (int k = 0; k < n; k++) total += cost[rowIdx[k] * columns + colIdx[k]];
        return new LinearAssignmentResult(rowIdx, colIdx, total);
    }

    /// <summary>Solves for a 2-D cost array (rows x columns); see the span overload for the rules.</summary>
    public static LinearAssignmentResult Solve(double[,] cost, bool maximize = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cost);
        int rows = cost.GetLength(0), columns = cost.GetLength(1);
        var flat = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, double>(ref MemoryMarshal.GetArrayDataReference(cost)), rows * columns);
        return Solve(flat, rows, columns, maximize, cancellationToken);
    }

    private static void ThrowInvalid(ReadOnlySpan<double> cost, int columns, bool maximize)
    {
        for (int k = 0; k < cost.Length; k++)
        {
            double x = cost[k];
            if (double.IsNaN(x) || (maximize ? double.IsPositiveInfinity(x) : double.IsNegativeInfinity(x)))
                throw new ArgumentException(
                    $"cost matrix contains invalid numeric entries: {x.ToString(System.Globalization.CultureInfo.InvariantCulture)} at row {k / columns}, column {k % columns}. " +
                    $"Entries must be finite, or {(maximize ? "-infinity" : "+infinity")} to forbid a pair " +
                    $"(when {(maximize ? "maximising" : "minimising")}).", nameof(cost));
        }
        throw new System.Diagnostics.UnreachableException("the minimum flagged an invalid entry that the scan did not find");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static void Transpose(ReadOnlySpan<double> src, int rows, int columns, double[] dst)
    {
        const int B = 32; // cache blocks so neither side is read with a large stride for long
        for (int i0 = 0; i0 < rows; i0 += B)
        {
            int i1 = Math.Min(i0 + B, rows);
            for (int j0 = 0; j0 < columns; j0 += B)
            {
                int j1 = Math.Min(j0 + B, columns);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                        dst[j * rows + i] = src[i * columns + j];
            }
        }
    }

    /// <summary>Crouse's shortest augmenting path on a normalised matrix (nr &lt;= nc, no NaN or -inf); returns col4row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static int[] SolveNormalised(ReadOnlySpan<double> cost, int nr, int nc, CancellationToken cancellationToken)
    {
        var u = new double[nr];
        var v = new double[nc];            // column duals; -inf marks a column already scanned in this search
        var d = new double[nc];            // shortest path costs; +inf for scanned columns during the search
        var path = new long[nc];           // predecessor row of each column on the shortest path tree
        var col4row = new int[nr];
        var row4col = new int[nc];
        var scanned = new int[nc];         // columns scanned in the current search, in order
        var savedD = new double[nc];       // their shortest path cost when scanned
        var savedV = new double[nc];       // their dual before masking
        var visited = new int[nr];         // rows reached in the current search
        Array.Fill(col4row, -1);
        Array.Fill(row4col, -1);
        // Square matrices start from Jonker-Volgenant's column reduction (v = column minima, each column's first
        // minimal row taken when free) and augmenting row reduction: feasible duals with complementary slackness, so
        // the searches below stay exact and start with most rows matched (on the 5000 x 5000 anchor: 78 free rows
        // left instead of 5000, and about half the search steps of plain Crouse). Not for rectangular matrices: there an
        // unmatched column must keep v = 0 for the result to be optimal.
        if (nr == nc)
        {
            ColumnReduction(cost, nr, nc, v, col4row, row4col);
            AugmentingRowReduction(cost, nr, nc, u, v, col4row, row4col);
        }

        for (int curRow = 0; curRow < nr; curRow++)
        {
            if (col4row[curRow] >= 0) continue;
            cancellationToken.ThrowIfCancellationRequested();
            d.AsSpan().Fill(double.PositiveInfinity);
            int nScanned = 0, nVisited = 0, sink = -1, i = curRow;
            double minVal = 0;
            while (sink < 0)
            {
                visited[nVisited++] = i;
                double lowest = ScanRow(cost.Slice(i * nc, nc), minVal - u[i], v, d, path, i);
                if (double.IsPositiveInfinity(lowest))
                    throw new InfeasibleAssignmentException(
                        $"cost matrix is infeasible: no complete matching avoids the forbidden (infinite) entries " +
                        $"({(nr == nc ? "square" : "rectangular")} {nr} x {nc} after normalisation; search from row {curRow} found no free column).",
                        nameof(cost));
                int j = ArgLowest(d, lowest, row4col);
                minVal = lowest;
                scanned[nScanned++] = j;
                savedD[j] = lowest;
                savedV[j] = v[j];
                v[j] = double.NegativeInfinity;
                d[j] = double.PositiveInfinity;
                if (row4col[j] < 0) sink = j;
                else i = row4col[j];
            }

            // Update the duals (SciPy: rows in SR, columns in SC), restoring the masked column duals.
            u[curRow] += minVal;
            for (int k = 1; k < nVisited; k++)
            {
                int r = visited[k];
                u[r] += minVal - savedD[col4row[r]];
            }
            for (int k = 0; k < nScanned; k++)
            {
                int j = scanned[k];
                v[j] = savedV[j] - (minVal - savedD[j]);
            }

            // Augment along the path back to curRow.
            for (int j = sink; ;)
            {
                int r = (int)path[j];
                row4col[j] = r;
                (col4row[r], j) = (j, col4row[r]);
                if (r == curRow) break;
            }
        }
        return col4row;
    }

    /// <summary>v[j] = min over rows of cost[i, j]; column j goes to its first minimal row when that row is free.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static void ColumnReduction(ReadOnlySpan<double> cost, int nr, int nc, double[] v, int[] col4row, int[] row4col)
    {
        var argRow = new long[nc];
        v.AsSpan().Fill(double.PositiveInfinity);
        ref double v0 = ref MemoryMarshal.GetArrayDataReference(v);
        ref long a0 = ref MemoryMarshal.GetArrayDataReference(argRow);
        for (int i = 0; i < nr; i++)
        {
            ref double c0 = ref MemoryMarshal.GetReference(cost.Slice(i * nc, nc));
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var iv = Vector256.Create((long)i);
                for (; j <= nc - 4; j += 4)
                {
                    var c = Vector256.LoadUnsafe(ref c0, (nuint)j);
                    var cur = Vector256.LoadUnsafe(ref v0, (nuint)j);
                    var m = Vector256.LessThan(c, cur); // strict: ties keep the lowest row
                    Vector256.ConditionalSelect(m, c, cur).StoreUnsafe(ref v0, (nuint)j);
                    Vector256.ConditionalSelect(m.AsInt64(), iv, Vector256.LoadUnsafe(ref a0, (nuint)j)).StoreUnsafe(ref a0, (nuint)j);
                }
            }
            for (; j < nc; j++)
                if (Unsafe.Add(ref c0, j) < v[j]) { v[j] = Unsafe.Add(ref c0, j); argRow[j] = i; }
        }
        for (int j = 0; j < nc; j++)
        {
            if (double.IsPositiveInfinity(v[j])) { v[j] = 0; continue; } // a fully forbidden column: infeasible later
            int i = (int)argRow[j];
            if (col4row[i] < 0) { col4row[i] = j; row4col[j] = i; }
        }
    }

    /// <summary>
    /// Jonker-Volgenant's augmenting row reduction, restricted to rows whose cheapest reduced-cost column is unique:
    /// the row takes that column, whose dual drops until the row's second cheapest ties with it, and the row it
    /// displaces is reduced next. Lowering a column dual only raises reduced costs, so every matched row keeps a
    /// cheapest column: u[i] = c[i, x_i] - v[x_i] then gives feasible duals and the searches stay exact. Rows with tied
    /// minima are left to the searches (which prefer the lowest free column, keeping ties deterministic and a constant
    /// matrix the identity). Two passes over the free rows, each capped at 2n steps (past that it
    /// mostly shuffles rows between columns; measured on the anchor matrices, it halves the search steps at 5000 x 5000).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static void AugmentingRowReduction(ReadOnlySpan<double> cost, int nr, int nc, double[] u, double[] v, int[] col4row, int[] row4col)
    {
        var free = new int[nr];
        int numFree = 0;
        for (int i = 0; i < nr; i++) if (col4row[i] < 0) free[numFree++] = i;
        for (int pass = 0; pass < 2 && numFree > 0; pass++)
        {
            int k = 0, previous = numFree, steps = 0, limit = 2 * nr;
            numFree = 0;
            while (k < previous)
            {
                if (++steps > limit)
                {
                    while (k < previous) free[numFree++] = free[k++];
                    break;
                }
                int i = free[k++];
                var (umin, j1, usubmin) = TwoSmallest(cost.Slice(i * nc, nc), v);
                if (!(umin < usubmin) || double.IsPositiveInfinity(usubmin))
                {
                    free[numFree++] = i; // tie or (nearly) fully forbidden row: leave it to the search
                    continue;
                }
                v[j1] -= usubmin - umin;
                int i0 = row4col[j1];
                col4row[i] = j1;
                row4col[j1] = i;
                if (i0 >= 0)
                {
                    col4row[i0] = -1;
                    free[--k] = i0; // reduce the displaced row at once
                }
            }
        }
        for (int i = 0; i < nr; i++)
            u[i] = col4row[i] >= 0 ? cost[i * nc + col4row[i]] - v[col4row[i]] : 0;
    }

    /// <summary>Smallest and second smallest of cost[j] - v[j], with the first index of the smallest.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static (double Min, int ArgMin, double SecondMin) TwoSmallest(ReadOnlySpan<double> cost, double[] v)
    {
        double min = double.PositiveInfinity, second = double.PositiveInfinity;
        int arg = -1, n = cost.Length, j = 0;
        ref double c0 = ref MemoryMarshal.GetReference(cost);
        ref double v0 = ref MemoryMarshal.GetArrayDataReference(v);
        if (Vector256.IsHardwareAccelerated && n >= 4)
        {
            // Vector pass for the two smallest values per lane, then an exact scalar look at the lane winners.
            var m1 = Vector256.Create(double.PositiveInfinity);
            var m2 = m1;
            for (; j <= n - 4; j += 4)
            {
                var h = Vector256.LoadUnsafe(ref c0, (nuint)j) - Vector256.LoadUnsafe(ref v0, (nuint)j);
                m2 = Vector256.Min(m2, Vector256.Max(m1, h));
                m1 = Vector256.Min(m1, h);
            }
            for (int l = 0; l < 4; l++)
            {
                double a = m1.GetElement(l), b = m2.GetElement(l);
                if (a < min) { second = Math.Min(min, b); min = a; }
                else second = Math.Min(second, a);
            }
            for (; j < n; j++)
            {
                double h = Unsafe.Add(ref c0, j) - Unsafe.Add(ref v0, j);
                if (h < min) { second = min; min = h; }
                else if (h < second) second = h;
            }
            if (min == second || double.IsPositiveInfinity(min)) return (min, -1, second);
            for (j = 0; j < n; j++)
                if (Unsafe.Add(ref c0, j) - Unsafe.Add(ref v0, j) == min) { arg = j; break; }
            return (min, arg, second);
        }
        for (; j < n; j++)
        {
            double h = Unsafe.Add(ref c0, j) - Unsafe.Add(ref v0, j);
            if (h < min) { second = min; min = h; arg = j; }
            else if (h < second) second = h;
        }
        return (min, arg, second);
    }

    /// <summary>
    /// Relaxes every column from row <paramref name="row"/>: d[j] = min(d[j], h + cost[j] - v[j]) recording the row as
    /// predecessor where it improves; returns min over j of the new d. Scanned columns carry v = -inf, so their
    /// candidate is +inf and never improves on their d (+inf).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static double ScanRow(ReadOnlySpan<double> cost, double h, double[] v, double[] d, long[] path, int row)
    {
        int n = cost.Length, j = 0;
        double lowest = double.PositiveInfinity;
        ref double c0 = ref MemoryMarshal.GetReference(cost);
        ref double v0 = ref MemoryMarshal.GetArrayDataReference(v);
        ref double d0 = ref MemoryMarshal.GetArrayDataReference(d);
        ref long p0 = ref MemoryMarshal.GetArrayDataReference(path);
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var hv = Vector256.Create(h);
            var rowv = Vector256.Create((long)row);
            var lo0 = Vector256.Create(double.PositiveInfinity);
            var lo1 = lo0;
            for (; j <= n - 8; j += 8)
            {
                var r0 = hv + (Vector256.LoadUnsafe(ref c0, (nuint)j) - Vector256.LoadUnsafe(ref v0, (nuint)j));
                var r1 = hv + (Vector256.LoadUnsafe(ref c0, (nuint)(j + 4)) - Vector256.LoadUnsafe(ref v0, (nuint)(j + 4)));
                var d0v = Vector256.LoadUnsafe(ref d0, (nuint)j);
                var d1v = Vector256.LoadUnsafe(ref d0, (nuint)(j + 4));
                var m0 = Vector256.LessThan(r0, d0v);
                var m1 = Vector256.LessThan(r1, d1v);
                if ((m0 | m1) != Vector256<double>.Zero)
                {
                    d0v = Vector256.ConditionalSelect(m0, r0, d0v);
                    d1v = Vector256.ConditionalSelect(m1, r1, d1v);
                    d0v.StoreUnsafe(ref d0, (nuint)j);
                    d1v.StoreUnsafe(ref d0, (nuint)(j + 4));
                    Vector256.ConditionalSelect(m0.AsInt64(), rowv, Vector256.LoadUnsafe(ref p0, (nuint)j)).StoreUnsafe(ref p0, (nuint)j);
                    Vector256.ConditionalSelect(m1.AsInt64(), rowv, Vector256.LoadUnsafe(ref p0, (nuint)(j + 4))).StoreUnsafe(ref p0, (nuint)(j + 4));
                }
                lo0 = Vector256.Min(lo0, d0v);
                lo1 = Vector256.Min(lo1, d1v);
            }
            var lo = Vector256.Min(lo0, lo1);
            for (int k = 0; k < 4; k++) lowest = Math.Min(lowest, lo.GetElement(k));
        }
        for (; j < n; j++)
        {
            double r = h + (Unsafe.Add(ref c0, j) - Unsafe.Add(ref v0, j));
            ref double dj = ref Unsafe.Add(ref d0, j);
            if (r < dj) { dj = r; Unsafe.Add(ref p0, j) = row; }
            if (dj < lowest) lowest = dj;
        }
        return lowest;
    }

    /// <summary>
    /// The column to scan next: among those whose d equals <paramref name="lowest"/>, the first (lowest index) free
    /// column if any, else the first one. Preferring a free column ends the search early on ties (SciPy does the
    /// same); taking the lowest index makes the answer deterministic, and a constant matrix gives the identity.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loops: skip the unoptimised first tier
    private static int ArgLowest(double[] d, double lowest, int[] row4col)
    {
        int n = d.Length, j = 0, first = -1;
        ref double d0 = ref MemoryMarshal.GetArrayDataReference(d);
        if (Vector256.IsHardwareAccelerated)
        {
            var target = Vector256.Create(lowest);
            for (; j <= n - 4; j += 4)
            {
                uint bits = Vector256.Equals(Vector256.LoadUnsafe(ref d0, (nuint)j), target).ExtractMostSignificantBits();
                while (bits != 0)
                {
                    int k = j + BitOperations.TrailingZeroCount(bits);
                    if (row4col[k] < 0) return k;
                    if (first < 0) first = k;
                    bits &= bits - 1;
                }
            }
        }
        for (; j < n; j++)
        {
            if (Unsafe.Add(ref d0, j) != lowest) continue;
            if (row4col[j] < 0) return j;
            if (first < 0) first = j;
        }
        return first;
    }
}
