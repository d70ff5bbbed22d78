using LabelAssignment.Numerics;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public sealed class Projection2DTests
{
    static EmbeddingMatrix Data(int n, int d, int offset = 0) =>
        new(Enumerable.Range(offset, n).SelectMany(i => Enumerable.Range(0, d).Select(j => (float)Math.Sin(1.3 * i + 0.7 * j * j))).ToArray(), n, d);

    [Fact]
    public void Recovers_uncorrelated_coordinates_in_a_plane()
    {
        // Points a*u + b*v with u, v orthonormal in 3-D; a = (3, -3, 0, 0) and b = (0, 0, 1, -1) are centred and
        // uncorrelated with var(a) > var(b), so the principal coordinates are exactly a and b (signs: largest |.| positive).
        double s = Math.Sqrt(0.5);
        double[] u = [s, s, 0], v = [0, 0, 1];
        double[] a = [3, -3, 0, 0], b = [0, 0, 1, -1];
        var rows = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 3).Select(j => (float)(a[i] * u[j] + b[i] * v[j] + 5)).ToArray()).ToArray();
        var m = EmbeddingMatrix.FromRows(rows);
        var p = Projection2D.Pca(m.SelectRows([0, 1]), m.SelectRows([2, 3]));
        Assert.Equal(2, p.Length);
        var all = p[0].Concat(p[1]).ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(a[i], all[i].X, 5);
            Assert.Equal(b[i], all[i].Y, 5);
        }
    }

    [Theory]
    [InlineData(12, 5, "0.212680704851, -1.108071140059, -1.606403872744, -0.237685230466, -0.786624667849, 1.143437244538, 1.471039892843, 1.011948629948, 1.859105916773, -0.439519986307, -0.190944218351, -1.084563647343, -1.675782258065, 0.021808087355, -0.420116995374, 1.258758040679, 1.736498983941, 0.814151679144, 1.634618238901, -0.660661682117, -0.576503693823, -1.005076976023, -1.657568031104, 0.285474980652")]
    [InlineData(3, 8, "1.858428811498, -0.297116604261, -0.445952462402, 1.005500482247, -1.412476349096, -0.708383877986")]
    public void Matches_numpy_svd(int n, int d, string expected)
    {
        // tests/Fixtures/Reporting/make_pca_reference.py: x[i, j] = float32(sin(1.3 i + 0.7 j^2)); numpy SVD of the
        // centred rows, first two components, each sign flipped so the largest |coordinate| is positive.
        // (12, 5) takes the covariance route (more rows than dimensions); (3, 8) the Gram route. Split 2 sets to check the order.
        var x = Data(n, d);
        int first = n / 2;
        var p = Projection2D.Pca(x.SelectRows(Enumerable.Range(0, first).ToArray()), x.SelectRows(Enumerable.Range(first, n - first).ToArray()));
        var flat = p[0].Concat(p[1]).SelectMany(q => new[] { q.X, q.Y }).ToArray();
        var want = expected.Split(',').Select(t => double.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(want.Length, flat.Length);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], flat[i], 5);
    }

    [Fact]
    public void Rank_one_and_single_points_give_zero_second_axis()
    {
        var line = EmbeddingMatrix.FromRows([[0f, 0f], [1f, 1f], [2f, 2f]]);
        var p = Projection2D.Pca(line)[0];
        // |-√2| = |√2|: the first of the tied largest coordinates is made positive.
        Assert.Equal([Math.Sqrt(2), 0, -Math.Sqrt(2)], p.Select(q => Math.Round(q.X, 6)).Select(v => v == 0 ? 0 : v).ToArray(), new ToleranceComparer(1e-5));
        Assert.All(p, q => Assert.Equal(0, q.Y, 6));
        var one = Projection2D.Pca(EmbeddingMatrix.FromRows([[3f, 4f]]))[0];
        Assert.Equal((0.0, 0.0), one[0]);
    }

    [Fact]
    public void Bad_input_is_named()
    {
        Assert.Throws<ArgumentException>(() => Projection2D.Pca());
        Assert.Contains("dimension", Assert.Throws<ArgumentException>(() => Projection2D.Pca(Data(3, 2), Data(3, 4))).Message);
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => Projection2D.Pca(EmbeddingMatrix.Zeros(0, 3))).Message);
        var bad = Data(3, 2);
        bad.Data[1] = float.NaN;
        Assert.Throws<ArgumentException>(() => Projection2D.Pca(bad));
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }
}
