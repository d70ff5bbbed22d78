using LabelAssignment.Tests.Oracles;
using LabelAssignment.Tests.Clustering;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Numerics;

public class ProjectionBoundTests
{
    /// <summary>Clustered rows in a low-rank subspace plus a little isotropic noise, like image embeddings.</summary>
    internal static EmbeddingMatrix LowRank(int seed, int n, int d, int rank, double noise)
    {
        var rng = new Random(seed);
        var basis = new double[rank, d];
        for (int r = 0; r < rank; r++)
            for (int j = 0; j < d; j++) basis[r, j] = rng.NextDouble() * 2 - 1;
        var centres = new double[8, rank];
        for (int c = 0; c < 8; c++)
            for (int r = 0; r < rank; r++) centres[c, r] = rng.NextDouble() * 2 - 1;
        var x = EmbeddingMatrix.Zeros(n, d);
        for (int i = 0; i < n; i++)
        {
            int c = rng.Next(8);
            var row = x.Row(i);
            for (int r = 0; r < rank; r++)
            {
                double coef = centres[c, r] + 0.15 * (rng.NextDouble() * 2 - 1);
                for (int j = 0; j < d; j++) row[j] += (float)(coef * basis[r, j]);
            }
            for (int j = 0; j < d; j++) row[j] += (float)(noise * (rng.NextDouble() * 2 - 1));
        }
        return x;
    }

    [Theory]
    [InlineData(4, 0.01)]
    [InlineData(12, 0.05)]
    [InlineData(30, 0.2)]
    public void Bound_IsAboveEveryDotProduct(int rank, double noise)
    {
        var x = LowRank(rank, 300, 48, 6, noise);
        int n = x.Count, d = x.Dimension;
        var sq = new double[n];
        for (int i = 0; i < n; i++) sq[i] = x.Row(i).ToArray().Sum(v => (double)v * v);
        var bound = ProjectionBound.Build(x.Data, n, d, sq, rank);
        Assert.NotNull(bound);
        Assert.InRange(bound!.Slack, 0, 1e-2);
        int tight = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double dot = 0, zz = 0;
                for (int k = 0; k < d; k++) dot += (double)x.Row(i)[k] * x.Row(j)[k];
                for (int k = 0; k < bound.Dimension; k++) zz += (double)bound.Z[i * bound.Dimension + k] * bound.Z[j * bound.Dimension + k];
                double slack = bound.Slack * Math.Sqrt(sq[i] * sq[j]);
                Assert.True(dot <= zz + slack, $"pair ({i}, {j}): dot {dot} above the bound {zz} + {slack}");
                if (zz - dot < 0.05 * Math.Sqrt(sq[i] * sq[j])) tight++;
            }
        // With the rank at least the data's, the bound is close for most pairs (that is what makes it useful).
        if (rank >= 6) Assert.True(tight > n * (n - 1) / 4, $"only {tight} pairs have a tight bound");
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 0.02, 6)]
    [InlineData(DistanceMetric.Cosine, 0.1, 3)]
    [InlineData(DistanceMetric.Euclidean, 0.3, 6)]
    [InlineData(DistanceMetric.Euclidean, 0.6, 10)]
    public void RadiusNeighbors_WithFirstPass_EqualsBruteForce(DistanceMetric metric, double radius, int rank)
    {
        var x = LowRank(7, 400, 40, 6, 0.02);
        var expected = DbscanOracle.Neighborhoods(x, radius, metric);
        var g = RadiusNeighbors.ComputeCore(x, radius, metric, block: 64, null, default, projectionRank: rank);
        long pairs = 0;
        for (int i = 0; i < x.Count; i++)
        {
            Assert.Equal(expected[i].Where(j => j != i).ToArray(), g.Neighbors(i).ToArray());
            pairs += g.Degree(i);
        }
        Assert.InRange(pairs / 2, 1, 400L * 399 / 4);
        Assert.True(g.Blocks.FirstPass > 0, $"no block was settled by the first pass: {g.Blocks}");
    }

    [Fact]
    public void RadiusNeighbors_WithFirstPass_OnStructurelessData_FallsBackToTheSamePairs()
    {
        // Isotropic noise: the rank-4 bound rules out almost nothing, so blocks take the full product.
        var rng = new Random(3);
        var x = EmbeddingMatrix.Zeros(300, 24);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        var plain = RadiusNeighbors.ComputeCore(x, 0.7, DistanceMetric.Cosine, 64, null, default, projectionRank: 0);
        var pruned = RadiusNeighbors.ComputeCore(x, 0.7, DistanceMetric.Cosine, 64, null, default, projectionRank: 4);
        Assert.Equal(plain.Offsets, pruned.Offsets);
        Assert.Equal(plain.Indices, pruned.Indices);
        Assert.True(plain.PairCount > 0);
        Assert.True(pruned.Blocks.Full > 0, $"{pruned.Blocks}");
        Assert.Equal(0, plain.Blocks.FirstPass);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, 0.05)]
    [InlineData(DistanceMetric.Euclidean, 0.5)]
    public void RadiusNeighbors_ReorderedOrNot_SamePairsInRowOrder(DistanceMetric metric, double radius)
    {
        var x = LowRank(11, 600, 40, 6, 0.02);
        var plain = RadiusNeighbors.ComputeCore(x, radius, metric, 64, null, default, projectionRank: 0);
        var straight = RadiusNeighbors.ComputeCore(x, radius, metric, 64, null, default, projectionRank: 8, reorder: false);
        var reordered = RadiusNeighbors.ComputeCore(x, radius, metric, 64, null, default, projectionRank: 8, reorder: true);
        Assert.True(plain.PairCount > 100, $"{plain.PairCount} pairs");
        Assert.Equal(plain.Offsets, straight.Offsets);
        Assert.Equal(plain.Indices, straight.Indices);
        Assert.Equal(plain.Offsets, reordered.Offsets);
        Assert.Equal(plain.Indices, reordered.Indices);
        Assert.True(reordered.Blocks.FirstPass > 0 && straight.Blocks.FirstPass > 0);
    }
}
