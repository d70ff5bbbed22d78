using System.Security.Cryptography;
using LabelAssignment.IO;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Remapping;

public sealed class LinearAssignmentTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Remapping", name);

    /// <summary>Best total over every injective matching of the smaller side into the larger; null when every matching
    /// uses a forbidden entry.</summary>
    private static double? BruteForce(double[] c, int rows, int cols, bool maximize)
    {
        bool tall = rows > cols;
        int small = Math.Min(rows, cols), large = Math.Max(rows, cols);
        double At(int s, int l) => tall ? c[l * cols + s] : c[s * cols + l];
        double forbidden = maximize ? double.NegativeInfinity : double.PositiveInfinity;
        double? best = null;
        var used = new bool[large];
        void Go(int s, double sum)
        {
            if (s == small)
            {
                if (best is null || (maximize ? sum > best : sum < best)) best = sum;
                return;
            }
            for (int l = 0; l < large; l++)
            {
                if (used[l] || At(s, l) == forbidden) continue;
                used[l] = true;
                Go(s + 1, sum + At(s, l));
                used[l] = false;
            }
        }
        Go(0, 0);
        return best;
    }

    private static void AssertValid(LinearAssignmentResult r, double[] c, int rows, int cols, bool maximize)
    {
        Assert.Equal(Math.Min(rows, cols), r.Count);
        Assert.Equal(r.RowIndices.Order(), r.RowIndices);          // sorted by row, as SciPy
        Assert.Equal(r.Count, r.RowIndices.Distinct().Count());
        Assert.Equal(r.Count, r.ColumnIndices.Distinct().Count());
        double sum = 0;
        for (int k = 0; k < r.Count; k++)
        {
            Assert.InRange(r.RowIndices[k], 0, rows - 1);
            Assert.InRange(r.ColumnIndices[k], 0, cols - 1);
            double x = c[r.RowIndices[k] * cols + r.ColumnIndices[k]];
            Assert.True(double.IsFinite(x), $"matched a forbidden pair ({r.RowIndices[k]}, {r.ColumnIndices[k]})");
            sum += x;
        }
        Assert.Equal(sum, r.TotalCost, 12);
        _ = maximize;
    }

    [Fact]
    public void MatchesBruteForceOnEveryShapeUpTo8x8()
    {
        var rng = new Random(20251128);
        int checkedCases = 0, infeasible = 0;
        for (int rows = 1; rows <= 8; rows++)
        for (int cols = 1; cols <= 8; cols++)
        for (int kind = 0; kind < 4; kind++)     // 0 random reals, 1 small integers (ties), 2/3 the same with forbidden pairs
        foreach (bool maximize in new[] { false, true })
        {
            var c = new double[rows * cols];
            for (int k = 0; k < c.Length; k++)
            {
                c[k] = kind % 2 == 0 ? rng.NextDouble() * 10 - 3 : rng.Next(0, 3);
                if (kind >= 2 && rng.NextDouble() < (kind == 2 ? 0.3 : 0.55))
                    c[k] = maximize ? double.NegativeInfinity : double.PositiveInfinity;
            }
            double? best = BruteForce(c, rows, cols, maximize);
            if (best is null)
            {
                Assert.Throws<InfeasibleAssignmentException>(() => LinearAssignment.Solve(c, rows, cols, maximize));
                infeasible++;
                continue;
            }
            var r = LinearAssignment.Solve(c, rows, cols, maximize);
            AssertValid(r, c, rows, cols, maximize);
            Assert.True(Math.Abs(best.Value - r.TotalCost) <= 1e-9,
                $"{rows}x{cols} kind {kind} maximize={maximize}: brute force {best} vs {r.TotalCost}");
            checkedCases++;
        }
        Assert.True(checkedCases > 400 && infeasible > 20, $"{checkedCases} feasible, {infeasible} infeasible cases");
    }

    [Fact]
    public void TheReducedSquarePathAgreesWithPlainShortestPathsOnLargerTiedMatrices()
    {
        // Square matrices go through the Jonker-Volgenant reductions first; a square matrix padded with one column of
        // prohibitive cost is rectangular and is solved by plain Crouse. Both must reach the same optimum, also on
        // integer costs full of ties and with forbidden pairs.
        var rng = new Random(99);
        foreach (int n in new[] { 9, 16, 33, 64, 150 })
        foreach (int range in new[] { 2, 5, 1000 })
        {
            var c = new double[n * n];
            for (int k = 0; k < c.Length; k++)
                c[k] = rng.NextDouble() < 0.1 ? double.PositiveInfinity : rng.Next(0, range);
            var padded = new double[n * (n + 1)];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(c, i * n, padded, i * (n + 1), n);
                padded[i * (n + 1) + n] = 1e9;
            }
            var square = LinearAssignment.Solve(c, n, n);
            var plain = LinearAssignment.Solve(padded, n, n + 1);
            AssertValid(square, c, n, n, false);
            Assert.Equal(plain.TotalCost, square.TotalCost);
            Assert.DoesNotContain(n, plain.ColumnIndices);
        }
    }

    [Fact]
    public void TiesAreBrokenDeterministicallyAndAConstantMatrixGivesTheIdentity()
    {
        foreach (var (rows, cols) in new[] { (1, 1), (4, 4), (3, 6), (6, 3), (9, 9) })
        {
            var c = Enumerable.Repeat(2.5, rows * cols).ToArray();
            var r = LinearAssignment.Solve(c, rows, cols);
            int n = Math.Min(rows, cols);
            Assert.Equal(Enumerable.Range(0, n), r.RowIndices);
            Assert.Equal(Enumerable.Range(0, n), r.ColumnIndices);
            Assert.Equal(2.5 * n, r.TotalCost);
        }
        var rng = new Random(7);
        var ties = Enumerable.Range(0, 30 * 30).Select(_ => (double)rng.Next(0, 2)).ToArray();
        var first = LinearAssignment.Solve(ties, 30, 30);
        for (int k = 0; k < 3; k++)
            Assert.Equal(first.ColumnIndices, LinearAssignment.Solve(ties, 30, 30).ColumnIndices);
    }

    [Fact]
    public void TwoDimensionalArrayOverloadAgreesWithTheFlatOne()
    {
        var c = new double[,] { { 4, 1, 3 }, { 2, 0, 5 }, { 3, 2, 2 } };
        var r = LinearAssignment.Solve(c);
        Assert.Equal([1, 0, 2], r.ColumnIndices);   // hand-checked: 1 + 2 + 2 = 5 is the minimum
        Assert.Equal(5.0, r.TotalCost);
        var m = LinearAssignment.Solve(c, maximize: true);
        Assert.Equal(11.0, m.TotalCost);              // 4 + 5 + 2
        Assert.Equal([0, 2, 1], m.ColumnIndices);
    }

    // SciPy 1.10.1 on the anchor matrix lsa_100x100.npy (committed; regenerate with
    // `/usr/bin/python3 tests/Fixtures/Remapping/make_lsa_fixture.py tests/Fixtures/Remapping`, which prints these lines).
    private const string Scipy100Min =
        "0,16,7,69,60,17,84,70,72,5,94,21,87,55,61,91,67,40,47,27,71,4,73,22,74,98,29,49,99,81,89,57,2,56,28,62,95,76,11,93,50,25,8,44,80,45,35,63,36,66,13,41,34,64,26,65,33,19,79,51,31,46,53,32,39,3,68,15,10,82,75,42,6,78,48,54,20,92,12,88,86,9,23,1,38,96,24,85,14,18,52,30,58,90,83,97,59,43,77,37";
    private const string Scipy100Max =
        "46,13,0,63,36,8,58,22,7,83,49,67,98,76,97,55,85,87,31,72,50,6,47,34,38,89,57,40,1,53,26,82,15,41,10,56,69,23,5,70,12,30,86,24,91,52,9,66,75,16,94,4,90,27,84,48,43,64,99,74,25,29,19,95,33,18,88,81,73,28,51,20,77,68,14,62,93,39,54,60,11,80,92,3,32,59,21,45,78,96,44,65,17,71,2,79,35,37,42,61";
    private const string Scipy100x37Rows = "0,2,5,6,9,13,15,21,22,23,24,25,26,32,33,41,42,43,46,48,50,51,56,57,60,63,64,67,72,75,78,81,82,86,88,89,91";
    private const string Scipy100x37Cols = "0,7,3,10,2,35,26,4,20,22,17,11,29,27,21,25,8,5,28,36,13,16,33,19,31,32,34,15,6,1,12,9,23,24,14,18,30";

    private static int[] Ints(string csv) => csv.Split(',').Select(int.Parse).ToArray();

    [Fact]
    public void AgreesWithScipyOnTheAnchor100x100Matrix()
    {
        var (c, rows, cols) = Npy.ReadFloat64Matrix(Fixture("lsa_100x100.npy"));
        Assert.Equal((100, 100), (rows, cols));
        var min = LinearAssignment.Solve(c, rows, cols);
        Assert.Equal(1.480274472872753, min.TotalCost, 12);
        Assert.Equal(Ints(Scipy100Min), min.ColumnIndices);
        var max = LinearAssignment.Solve(c, rows, cols, maximize: true);
        Assert.Equal(98.20426471826526, max.TotalCost, 10);
        Assert.Equal(Ints(Scipy100Max), max.ColumnIndices);

        // Tall: rows > columns is transposed internally; pairs come back sorted by row as in SciPy.
        var tall = new double[100 * 37];
        for (int i = 0; i < 100; i++) Array.Copy(c, i * 100, tall, i * 37, 37);
        var t = LinearAssignment.Solve(tall, 100, 37);
        Assert.Equal(Ints(Scipy100x37Rows), t.RowIndices);
        Assert.Equal(Ints(Scipy100x37Cols), t.ColumnIndices);
        Assert.Equal(0.328642613322519, t.TotalCost, 12);
    }

    [Fact]
    public void TheRegeneratedAnchorMatrixIsTheCommittedOne()
    {
        var (c, _, _) = Npy.ReadFloat64Matrix(Fixture("lsa_100x100.npy"));
        Assert.Equal(c, NumpyPcg64.AnchorCostMatrix(100, 100));
    }

    // SciPy 1.10.1 linear_sum_assignment on ../shared/anchors/make_data.py's lsa_1000x1000.npy and lsa_1000x1200.npy
    // (regenerated here bit for bit): optimal cost and sha256 of the int64 column indices, first 16 hex digits, as
    // anchor_bench.py prints them (RESULTS.md: 1.582213 and 1.150038).
    [Theory]
    [InlineData(1000, 1000, 1.582212786273876, "f745b45034623529")]
    [InlineData(1000, 1200, 1.150037708423798, "abb5ba31bc9cafdf")]
    public void AgreesWithScipyOnTheLargerAnchorMatrices(int rows, int cols, double scipyCost, string scipyColumnsSha)
    {
        var c = NumpyPcg64.AnchorCostMatrix(rows, cols);
        var r = LinearAssignment.Solve(c, rows, cols);
        Assert.Equal(scipyCost, r.TotalCost, 9);
        var bytes = r.ColumnIndices.SelectMany(j => BitConverter.GetBytes((long)j)).ToArray();
        Assert.Equal(scipyColumnsSha, Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
    }

    [Fact]
    public void BadInputGetsAClearError()
    {
        double nan = double.NaN, inf = double.PositiveInfinity;
        var e = Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, 2, 3, nan, 5, 6], 2, 3));
        Assert.IsNotType<InfeasibleAssignmentException>(e);
        Assert.Contains("invalid numeric entries", e.Message);
        Assert.Contains("row 1, column 0", e.Message);
        Assert.Equal("cost", e.ParamName);
        // -inf is invalid when minimising; +inf is invalid when maximising (after negation it would be -inf).
        Assert.Contains("-Infinity", Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, -inf, 3, 4], 2, 2)).Message);
        Assert.Contains("row 0, column 1", Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, inf, 3, 4], 2, 2, maximize: true)).Message);
        // NaN on a tall matrix is reported at its original position, not the transposed one.
        Assert.Contains("row 2, column 1", Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, 2, 3, 4, 5, nan], 3, 2)).Message);
        Assert.Contains("rows=2 x columns=2 needs 4", Assert.Throws<ArgumentException>(() => LinearAssignment.Solve([1, 2, 3], 2, 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearAssignment.Solve([], -1, 0));

        // Infeasible: row 0 may go nowhere; or two rows compete for the only allowed column.
        Assert.Throws<InfeasibleAssignmentException>(() => LinearAssignment.Solve([inf, inf, 1, 2], 2, 2));
        var ex = Assert.Throws<InfeasibleAssignmentException>(() => LinearAssignment.Solve([1, inf, inf, 2, inf, inf], 2, 3));
        Assert.Contains("infeasible", ex.Message);
        Assert.Throws<InfeasibleAssignmentException>(() => LinearAssignment.Solve([-inf, 1, -inf, 2], 2, 2, maximize: true));
        // ...but +inf when minimising is only a forbidden pair:
        Assert.Equal(3.0, LinearAssignment.Solve([inf, 1, 2, inf], 2, 2).TotalCost);
    }

    [Fact]
    public void ACancelledSolveStops()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var c = NumpyPcg64.AnchorCostMatrix(50, 60);
        Assert.Throws<OperationCanceledException>(() => LinearAssignment.Solve(c, 50, 60, cancellationToken: cts.Token));
    }

    [Fact]
    public void AnEmptyMatrixHasAnEmptyAssignment()
    {
        // As SciPy: a 0 x n problem is solved by the empty matching (the remapper rejects empty inputs itself).
        var r = LinearAssignment.Solve([], 0, 5);
        Assert.Equal(0, r.Count);
        Assert.Equal(0.0, r.TotalCost);
    }
}
