using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Reporting;

/// <summary>
/// Projects embeddings to 2-D for pictures: principal component analysis fitted on all the given sets together, so
/// that, e.g., yesterday's and today's cluster centres land in one shared plane and matched pairs can be compared.
/// </summary>
public static class Projection2D
{
    /// <summary>
    /// The first two principal components of the rows of all <paramref name="sets"/> (centred on their common mean),
    /// returned per set in the order given. Axis 1 carries the most variance. Each axis's sign is fixed so that the
    /// point with the largest absolute coordinate on it is positive, so a result does not flip between runs. Data of
    /// rank below 2 give zero coordinates on the missing axes.
    /// </summary>
    /// <param name="sets">One or more matrices of the same dimension (finite values).</param>
    /// <exception cref="ArgumentException">No set, no rows in all, different dimensions, or a NaN/infinity.</exception>
    public static (double X, double Y)[][] Pca(params EmbeddingMatrix[] sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        if (sets.Length == 0)
            throw new ArgumentException("sets is empty: give at least one matrix to project.", nameof(sets));
        int d = sets[0]?.Dimension ?? throw new ArgumentNullException(nameof(sets), "sets[0] is null.");
        for (int s = 0; s < sets.Length; s++)
        {
            ArgumentNullException.ThrowIfNull(sets[s], $"sets[{s}]");
            if (sets[s].Dimension != d)
                throw new ArgumentException($"sets[{s}] has dimension {sets[s].Dimension} but sets[0] has {d}: all sets must share one space.", nameof(sets));
            sets[s].EnsureFinite($"sets[{s}]");
        }
        int n = sets.Sum(s => s.Count);
        if (n == 0)
            throw new ArgumentException("the sets hold no rows: nothing to project.", nameof(sets));

        // Centred rows in double.
        var x = new double[n * d];
        var mean = new double[d];
        int row = 0;
        foreach (var set in sets)
            for (int i = 0; i < set.Count; i++, row++)
            {
                var r = set.Row(i);
                for (int j = 0; j < d; j++) { x[row * d + j] = r[j]; mean[j] += r[j]; }
            }
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) x[i * d + j] -= mean[j];

        var coords = new double[2][];
        if (n <= d)
        {
            // Gram route: Xc = U S Vᵀ, and the projection Xc V = U S comes from the eigenvectors of Xc Xcᵀ (n x n).
            var g = new double[n * n];
            Parallel.For(0, n, i =>
            {
                var a = new ReadOnlySpan<double>(x, i * d, d);
                for (int k = 0; k <= i; k++)
                    g[i * n + k] = g[k * n + i] = TensorPrimitives.Dot(a, new ReadOnlySpan<double>(x, k * d, d));
            });
            var (vectors, values) = TopTwo(g, n);
            for (int c = 0; c < 2; c++)
            {
                double scale = Math.Sqrt(Math.Max(0, values[c]));
                coords[c] = vectors[c].Select(v => v * scale).ToArray();
            }
        }
        else
        {
            // Covariance route (more rows than dimensions): eigenvectors V of Xcᵀ Xc (d x d), then Xc V.
            var t = new double[d * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < d; j++) t[j * n + i] = x[i * d + j];
            var c2 = new double[d * d];
            Parallel.For(0, d, a =>
            {
                var u = new ReadOnlySpan<double>(t, a * n, n);
                for (int b = 0; b <= a; b++)
                    c2[a * d + b] = c2[b * d + a] = TensorPrimitives.Dot(u, new ReadOnlySpan<double>(t, b * n, n));
            });
            var (vectors, _) = TopTwo(c2, d);
            for (int c = 0; c < 2; c++)
            {
                coords[c] = new double[n];
                for (int i = 0; i < n; i++)
                    coords[c][i] = TensorPrimitives.Dot(new ReadOnlySpan<double>(x, i * d, d), vectors[c]);
            }
        }

        for (int c = 0; c < 2; c++)
        {
            int arg = 0;
            for (int i = 1; i < n; i++)
                if (Math.Abs(coords[c][i]) > Math.Abs(coords[c][arg])) arg = i;
            if (coords[c][arg] < 0)
                for (int i = 0; i < n; i++) coords[c][i] = -coords[c][i];
        }

        var result = new (double X, double Y)[sets.Length][];
        row = 0;
        for (int s = 0; s < sets.Length; s++)
        {
            result[s] = new (double, double)[sets[s].Count];
            for (int i = 0; i < sets[s].Count; i++, row++)
                result[s][i] = (coords[0][row], coords[1][row]);
        }
        return result;
    }

    /// <summary>
    /// The two leading eigenpairs of a symmetric positive semi-definite m x m matrix by subspace iteration with a
    /// Rayleigh-Ritz step; vectors are unit length (or zero when the matrix has rank below 2).
    /// </summary>
    internal static (double[][] Vectors, double[] Values) TopTwo(double[] m, int size)
    {
        int k = Math.Min(2, size);
        var q = new double[2][] { new double[size], new double[size] };
        // A fixed start that is not orthogonal to the leading eigenvectors in any common case.
        var random = new Random(12345);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < size; i++) q[c][i] = random.NextDouble() - 0.5;
        Orthonormalise(q, k);
        double trace = 0;
        for (int i = 0; i < size; i++) trace += m[i * size + i];
        var z = new double[2][] { new double[size], new double[size] };
        for (int iter = 0; iter < 3000; iter++)
        {
            for (int c = 0; c < 2; c++) Multiply(m, size, q[c], z[c]);
            Orthonormalise(z, k);
            double change = 0;
            for (int c = 0; c < 2; c++)
            {
                // Compare the spanned directions up to sign.
                double dot = Math.Abs(TensorPrimitives.Dot(z[c], q[c]));
                change = Math.Max(change, 1 - dot);
                z[c].CopyTo(q[c], 0);
            }
            if (change < 1e-13 || trace == 0) break;
        }
        // Rayleigh-Ritz on the 2-D subspace: order and rotate the two vectors into eigenvectors.
        var mq0 = new double[size];
        var mq1 = new double[size];
        Multiply(m, size, q[0], mq0);
        Multiply(m, size, q[1], mq1);
        double a = TensorPrimitives.Dot(q[0], mq0), b = TensorPrimitives.Dot(q[0], mq1), d = TensorPrimitives.Dot(q[1], mq1);
        double mid = (a + d) / 2, radius = Math.Sqrt((a - d) * (a - d) / 4 + b * b);
        double l1 = mid + radius, l2 = mid - radius;
        double angle = 0.5 * Math.Atan2(2 * b, a - d);
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        var v1 = new double[size];
        var v2 = new double[size];
        for (int i = 0; i < size; i++)
        {
            v1[i] = cos * q[0][i] + sin * q[1][i];
            v2[i] = -sin * q[0][i] + cos * q[1][i];
        }
        return (new[] { v1, v2 }, new[] { l1, l2 });
    }

    static void Multiply(double[] m, int size, double[] v, double[] result)
    {
        for (int i = 0; i < size; i++)
            result[i] = TensorPrimitives.Dot(new ReadOnlySpan<double>(m, i * size, size), v);
    }

    static void Orthonormalise(double[][] q, int k)
    {
        for (int c = 0; c < q.Length; c++)
        {
            if (c >= k) { Array.Clear(q[c]); continue; }
            double before = TensorPrimitives.Norm(q[c]);
            // Gram-Schmidt twice: one pass leaves a tiny remainder that is not orthogonal when most of q[c] cancels.
            for (int pass = 0; pass < 2; pass++)
                for (int p = 0; p < c; p++)
                {
                    double dot = TensorPrimitives.Dot(q[c], q[p]);
                    for (int i = 0; i < q[c].Length; i++) q[c][i] -= dot * q[p][i];
                }
            double norm = TensorPrimitives.Norm(q[c]);
            // Nothing (or only rounding noise) left outside the earlier directions: the data have rank below c + 1.
            if (!(norm > 1e-10 * before)) { Array.Clear(q[c]); continue; }
            for (int i = 0; i < q[c].Length; i++) q[c][i] /= norm;
        }
    }
}
