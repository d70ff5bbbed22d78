using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Online;

public sealed class QuantizedRowsTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1408)]
    public void DotErrorStaysWithinTheStoredBound(int d)
    {
        // Rows of very different shapes: gaussian, one huge spike, tiny values, all zero; the bound must hold for each.
        var rng = new Random(d);
        var q = new QuantizedRows(d, 4);
        var rows = new double[4][];
        rows[0] = Enumerable.Range(0, d).Select(_ => OnlineTestData.Gauss(rng)).ToArray();
        rows[1] = Enumerable.Range(0, d).Select(k => k == d / 2 ? 1e4 : 1e-3 * OnlineTestData.Gauss(rng)).ToArray();
        rows[2] = Enumerable.Range(0, d).Select(_ => 1e-30 * OnlineTestData.Gauss(rng)).ToArray();
        rows[3] = new double[d];
        for (int r = 0; r < 4; r++) q.Set(r, rows[r]);
        for (int trial = 0; trial < 50; trial++)
        {
            var x = Enumerable.Range(0, d).Select(_ => (float)OnlineTestData.Gauss(rng)).ToArray();
            double xn = Math.Sqrt(x.Sum(v => (double)v * v));
            for (int r = 0; r < 4; r++)
            {
                double exact = 0;
                for (int k = 0; k < d; k++) exact += x[k] * rows[r][k];
                double got = q.Dot(x, r);
                Assert.True(Math.Abs(got - exact) <= xn * q.Errors[r], $"row {r}: |{got} - {exact}| > {xn * q.Errors[r]}");
            }
        }
        // The bound is useful, not vacuous: for the gaussian row it is a small fraction of |x||c|.
        double cn = Math.Sqrt(rows[0].Sum(v => v * v));
        Assert.True(q.Errors[0] < 0.02 * cn);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(1408)]
    public void IntDotIsTheSumOfProductsOfTheStoredValues(int d)
    {
        // Row 0 all -127 against an item of all 127: the largest sum of either sign; the rest random.
        var rng = new Random(d + 3);
        var q = new QuantizedRows(d, 3);
        q.Set(0, Enumerable.Repeat(-5.0, d).ToArray());
        for (int r = 1; r < 3; r++) q.Set(r, Enumerable.Range(0, d).Select(_ => OnlineTestData.Gauss(rng)).ToArray());
        Assert.All(q.Values.AsSpan(0, d).ToArray(), v => Assert.Equal(-127, v));
        var items = new[] { Enumerable.Repeat((sbyte)127, d).ToArray(), Enumerable.Range(0, d).Select(_ => (sbyte)rng.Next(-127, 128)).ToArray() };
        foreach (var x in items)
            for (int r = 0; r < 3; r++)
            {
                long sum = 0;
                for (int k = 0; k < d; k++) sum += x[k] * q.Values[r * d + k];
                Assert.Equal(sum, q.IntDot(x, r));
            }
        Assert.Equal(-127L * 127 * d, q.IntDot(items[0], 0));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(1408)]
    public void AFineRescoreIsWithinTheRowBoundOfTheExactScore(int d)
    {
        // The batch's re-score after a 63-level product: the item at 127 levels (QuantizeRow) against a row's int8
        // copy by an exact integer dot, bounded as the product's scores are (RowScoreError), checked against float64.
        var rng = new Random(d + 17);
        var q = new QuantizedRows(d, 3);
        var rows = new double[3][];
        rows[0] = Enumerable.Range(0, d).Select(_ => OnlineTestData.Gauss(rng)).ToArray();
        rows[1] = Enumerable.Range(0, d).Select(k => k == 0 ? 40.0 : 0.01 * OnlineTestData.Gauss(rng)).ToArray();
        rows[2] = rows[0].Select(v => v + 0.05 * OnlineTestData.Gauss(rng)).ToArray();
        for (int r = 0; r < 3; r++) q.Set(r, rows[r]);
        var qx = new sbyte[d];
        double firstBound = double.NaN;
        for (int trial = 0; trial < 20; trial++)
        {
            var x = Enumerable.Range(0, d).Select(k => (float)(rows[0][k] + (trial + 1) * 0.05 * OnlineTestData.Gauss(rng))).ToArray();
            double xn = Math.Sqrt(x.Sum(v => (double)v * v));
            var (sx, rx) = Int8Product.QuantizeRow(x, qx);
            double lost = 0;
            for (int k = 0; k < d; k++) lost += Math.Pow(x[k] - (double)sx * qx[k], 2);
            Assert.True(Math.Sqrt(lost) <= rx, $"residual {Math.Sqrt(lost)} above the stated {rx}");
            for (int r = 0; r < 3; r++)
            {
                double cn = Math.Sqrt(rows[r].Sum(v => v * v)), dot = 0;
                for (int k = 0; k < d; k++) dot += x[k] * rows[r][k];
                double exact = 1 - dot / (xn * cn);
                double fine = 1 - (double)sx * q.Scales[r] * q.IntDot(qx, r) / (xn * cn);
                double bound = Int8Product.RowScoreError(DistanceMetric.Cosine, xn, rx, cn, q.Errors[r]);
                Assert.True(Math.Abs(fine - exact) <= bound, $"row {r}: fine {fine}, exact {exact}, bound {bound}");
                if (trial == 0 && r == 0) firstBound = bound;
            }
        }
        // Not vacuous: for a gaussian row and item the bound is about two hundredths at d = 1408.
        if (d == 1408) Assert.InRange(firstBound, 1e-3, 0.04);
    }

    [Fact]
    public void QuantizeRowOfAZeroOrNonFiniteItemHasNoScale()
    {
        var q = new sbyte[4];
        Assert.Equal(0f, Int8Product.QuantizeRow([0f, 0f, 0f, 0f], q).Scale);
        Assert.Equal(0f, Int8Product.QuantizeRow([1f, float.NaN, 0f, 0f], q).Scale);
        Assert.Equal(0f, Int8Product.QuantizeRow([1f, float.PositiveInfinity, 0f, 0f], q).Scale);
    }
}
