using LabelAssignment.Numerics;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class Projection2DTests
{
    // Points mean + 10 t (0.6, 0.8, 0) + s (0, 0, 1) for t in -2..2, s in -1..1: the principal axes are
    // (0.6, 0.8, 0) (variance 200) and (0, 0, 1) (variance 2/3), so each point projects to (10 t, s).
    static (EmbeddingMatrix Points, (double X, double Y)[] Expected) Plane()
    {
        var rows = new List<float[]>();
        var expected = new List<(double, double)>();
        for (int t = -2; t <= 2; t++)
            for (int s = -1; s <= 1; s++)
            {
                rows.Add([5 + 6f * t, 5 + 8f * t, 5 + s]);
                expected.Add((10.0 * t, s));
            }
        return (EmbeddingMatrix.FromRows(rows), expected.ToArray());
    }

    [Fact]
    public void Recovers_the_two_principal_axes_of_a_known_plane()
    {
        var (points, expected) = Plane();
        var projected = Projection2D.Pca(points)[0];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].X, projected[i].X, 1e-6);
            Assert.Equal(expected[i].Y, projected[i].Y, 1e-6);
        }
    }

    [Fact]
    public void Sets_are_fitted_together_and_keep_their_rows()
    {
        var (points, expected) = Plane();
        int half = points.Count / 2;
        var a = points.SelectRows(Enumerable.Range(0, half).ToArray());
        var b = points.SelectRows(Enumerable.Range(half, points.Count - half).ToArray());
        var projected = Projection2D.Pca(a, b);
        Assert.Equal(half, projected[0].Length);
        Assert.Equal(points.Count - half, projected[1].Length);
        var all = projected[0].Concat(projected[1]).ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].X, all[i].X, 1e-6);
            Assert.Equal(expected[i].Y, all[i].Y, 1e-6);
        }
    }

    [Fact]
    public void Rank_one_data_gets_a_zero_second_axis_and_a_single_point_projects_to_the_origin()
    {
        var line = EmbeddingMatrix.FromRows([[0f, 0f], [1f, 1f], [2f, 2f]]);
        var p = Projection2D.Pca(line)[0];
        Assert.Equal(-Math.Sqrt(2), p[0].X, 1e-9);
        Assert.Equal(Math.Sqrt(2), p[2].X, 1e-9);
        Assert.All(p, q => Assert.Equal(0, q.Y, 1e-9));
        Assert.Equal((0.0, 0.0), Projection2D.Pca(EmbeddingMatrix.FromRows([[3f, 4f]]))[0][0]);
    }

    [Fact]
    public void Rejects_mismatched_dimensions_and_non_finite_values()
    {
        var a = EmbeddingMatrix.FromRows([[1f, 2f]]);
        var b = EmbeddingMatrix.FromRows([[1f, 2f, 3f]]);
        Assert.Contains("sets[1] has dimension 3", Assert.Throws<ArgumentException>(() => Projection2D.Pca(a, b)).Message);
        Assert.Throws<ArgumentException>(() => Projection2D.Pca());
        var nan = EmbeddingMatrix.FromRows([[1f, float.NaN]]);
        Assert.Contains("sets[0]", Assert.Throws<ArgumentException>(() => Projection2D.Pca(nan)).Message);
    }
}
