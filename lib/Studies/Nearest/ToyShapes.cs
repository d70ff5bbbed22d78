using LabelAssignment.Numerics;

namespace LabelAssignment.Studies;

/// <summary>A generated 2-D cluster for the article's two pictures, with the DBSCAN parameters it is drawn for.</summary>
/// <param name="Points">n x 2 points (euclidean metric).</param>
/// <param name="Eps">The eps the picture uses (much smaller than the shape).</param>
/// <param name="MinSamples">DBSCAN minSamples for which the shape is one cluster.</param>
/// <param name="CentreX">x of the member mean (the article's cluster centre).</param>
/// <param name="CentreY">y of the member mean.</param>
public sealed record ToyCluster(EmbeddingMatrix Points, double Eps, int MinSamples, double CentreX, double CentreY)
{
    /// <summary>For each point, whether it lies farther than eps from the centre (the points the nearest-centre rule misses).</summary>
    public bool[] BeyondEpsOfCentre()
    {
        var result = new bool[Points.Count];
        for (int i = 0; i < result.Length; i++)
        {
            double dx = Points.Data[2 * i] - CentreX, dy = Points.Data[2 * i + 1] - CentreY;
            result[i] = Math.Sqrt(dx * dx + dy * dy) > Eps;
        }
        return result;
    }
}

/// <summary>
/// Generators for the two figures of the article's section 3, as data instead of drawings: a large irregular
/// cluster whose points mostly lie beyond eps of its centre (failure 1, "X is missed"), and a crescent whose
/// centre lies in the hollow, outside the cluster (failure 2). Deterministic for a given seed.
/// </summary>
public static class ToyShapes
{
    /// <summary>
    /// A large irregular blob: points uniform over a union of overlapping discs (like the article's first figure,
    /// with a lobe at the lower right where X sits). Dense enough to be one DBSCAN cluster at eps 0.3, minSamples 5.
    /// </summary>
    public static ToyCluster IrregularBlob(int count = 1500, int seed = 1)
    {
        (double X, double Y, double R)[] lobes = [(0, 0, 1.6), (1.5, 1.3, 1.2), (-1.4, 1.5, 1.0), (1.3, -1.7, 1.1), (2.0, -2.6, 0.7)];
        return Sample(count, seed, (x, y) => lobes.Any(l => (x - l.X) * (x - l.X) + (y - l.Y) * (y - l.Y) <= l.R * l.R),
            -3.0, 3.5, -3.5, 3.0, eps: 0.3, minSamples: 5);
    }

    /// <summary>
    /// A crescent (the article's second figure): points uniform over an annulus of radius 2.5 to 3.5, open to the
    /// right (angles 50° to 310°). Its member mean lies near (-1, 0), in the hollow, about 1.5 from the nearest
    /// point, so no core point is within eps = 0.3 of the centre.
    /// </summary>
    public static ToyCluster Crescent(int count = 1200, int seed = 2)
    {
        const double inner = 2.5, outer = 3.5, gap = 50.0 * Math.PI / 180.0;
        return Sample(count, seed, (x, y) =>
        {
            double r = Math.Sqrt(x * x + y * y);
            double a = Math.Abs(Math.Atan2(y, x)); // 0 on the +x axis, the opening
            return r >= inner && r <= outer && a >= gap;
        }, -outer, outer, -outer, outer, eps: 0.3, minSamples: 5);
    }

    private static ToyCluster Sample(int count, int seed, Func<double, double, bool> inside,
        double x0, double x1, double y0, double y1, double eps, int minSamples)
    {
        if (count < 10)
            throw new ArgumentOutOfRangeException(nameof(count), count, "count must be >= 10 to draw a shape.");
        var rng = new Random(seed);
        var data = new float[count * 2];
        double sx = 0, sy = 0;
        for (int i = 0; i < count; )
        {
            double x = x0 + (x1 - x0) * rng.NextDouble(), y = y0 + (y1 - y0) * rng.NextDouble();
            if (!inside(x, y)) continue;
            data[2 * i] = (float)x;
            data[2 * i + 1] = (float)y;
            sx += (float)x;
            sy += (float)y;
            i++;
        }
        return new ToyCluster(new EmbeddingMatrix(data, count, 2), eps, minSamples, sx / count, sy / count);
    }
}
