using LabelAssignment.Numerics;

namespace LabelAssignment.Reporting;

/// <summary>
/// Projects embeddings onto their first two principal components, for pictures such as old and new cluster centres
/// with their matches (<see cref="Charts.MatchedPairs"/>). All sets are fitted together, so they share one plane.
/// A picture, not an analysis: distances in 2-D only hint at distances in the full space.
/// </summary>
public static class Projection2D
{
    // Enough for a picture: a slowly converging axis (two nearly equal eigenvalues) is a fine view either way.
    const int MaxIterations = 500;

    /// <summary>
    /// The 2-D coordinates of every row of every set (result[s][i] is row i of set s). Axes are the top two
    /// eigenvectors of the pooled covariance (power iteration in double precision), each signed so that its largest
    /// entry is positive; an axis with no variance left projects to 0.
    /// </summary>
    public static (double X, double Y)[][] Pca(params EmbeddingMatrix[] sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        if (sets.Length == 0)
            throw new ArgumentException("sets is empty: give at least one matrix.", nameof(sets));
        int d = sets[0]?.Dimension ?? throw new ArgumentException("sets[0] is null.", nameof(sets));
        for (int s = 0; s < sets.Length; s++)
        {
            if (sets[s] is null) throw new ArgumentException($"sets[{s}] is null.", nameof(sets));
            if (sets[s].Dimension != d)
                throw new ArgumentException($"sets[{s}] has dimension {sets[s].Dimension} but sets[0] has {d}.", nameof(sets));
            sets[s].EnsureFinite($"{nameof(sets)}[{s}]");
        }
        long n = sets.Sum(m => (long)m.Count);
        var mean = new double[d];
        foreach (var m in sets)
            for (int i = 0; i < m.Count; i++)
            {
                var row = m.Row(i);
                for (int j = 0; j < d; j++) mean[j] += row[j];
            }
        if (n > 0) for (int j = 0; j < d; j++) mean[j] /= n;

        var first = TopAxis(sets, mean, d, null);
        var second = TopAxis(sets, mean, d, first);
        var result = new (double X, double Y)[sets.Length][];
        for (int s = 0; s < sets.Length; s++)
        {
            var m = sets[s];
            result[s] = new (double, double)[m.Count];
            for (int i = 0; i < m.Count; i++)
            {
                var row = m.Row(i);
                result[s][i] = (Project(row, mean, first), Project(row, mean, second));
            }
        }
        return result;
    }

    static double Project(ReadOnlySpan<float> row, double[] mean, double[] axis)
    {
        double sum = 0;
        for (int j = 0; j < axis.Length; j++) sum += (row[j] - mean[j]) * axis[j];
        return sum;
    }

    // Power iteration on C = Xcᵀ Xc without forming C: v <- Xcᵀ (Xc v), orthogonal to `except` if given.
    static double[] TopAxis(EmbeddingMatrix[] sets, double[] mean, int d, double[]? except)
    {
        var v = new double[d];
        for (int j = 0; j < d; j++) v[j] = 1.0 + (double)j / d; // deterministic, not orthogonal to typical axes
        if (!Orthonormalise(v, except)) return new double[d];
        var next = new double[d];
        double scale = 0;
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            Array.Clear(next);
            foreach (var m in sets)
                for (int i = 0; i < m.Count; i++)
                {
                    var row = m.Row(i);
                    double p = 0;
                    for (int j = 0; j < d; j++) p += (row[j] - mean[j]) * v[j];
                    for (int j = 0; j < d; j++) next[j] += (row[j] - mean[j]) * p;
                }
            double norm = Math.Sqrt(next.Sum(x => x * x));
            if (iteration == 0) scale = norm;
            // No variance left in this direction (e.g. rank-1 data for the second axis): a zero axis.
            if (norm <= 1e-12 * Math.Max(1, scale) || !Orthonormalise(next, except)) return new double[d];
            double change = 0;
            for (int j = 0; j < d; j++) change = Math.Max(change, Math.Abs(next[j] - v[j]));
            (v, next) = (next, v);
            if (change < 1e-10) break;
        }
        int largest = 0;
        for (int j = 1; j < d; j++) if (Math.Abs(v[j]) > Math.Abs(v[largest])) largest = j;
        if (v[largest] < 0) for (int j = 0; j < d; j++) v[j] = -v[j];
        return v;
    }

    static bool Orthonormalise(double[] v, double[]? except)
    {
        if (except is not null)
        {
            double dot = 0;
            for (int j = 0; j < v.Length; j++) dot += v[j] * except[j];
            for (int j = 0; j < v.Length; j++) v[j] -= dot * except[j];
        }
        double norm = Math.Sqrt(v.Sum(x => x * x));
        if (norm == 0 || !double.IsFinite(norm)) return false;
        for (int j = 0; j < v.Length; j++) v[j] /= norm;
        return true;
    }
}
