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
}
