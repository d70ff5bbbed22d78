using LabelAssignment.Tests.Oracles;
using LabelAssignment.Numerics;
using LabelAssignment.IO;
using LabelAssignment.Metrics;

namespace LabelAssignment.Tests.Embedding;

public class NeighbourAccuracyTests
{
    [Fact]
    public void Matches_scikit_learn_leave_one_out_on_the_fixture()
    {
        // tests/Fixtures/knn/make_knn_fixture.py printed "correct fine, coarse: [239, 264]" (scikit-learn 1.2.1).
        string folder = Path.Combine(TestPaths.Fixtures, "knn");
        var x = Npy.ReadMatrix(Path.Combine(folder, "knn_X.npy"));
        int[] labels = Npy.ReadLabels(Path.Combine(folder, "knn_labels.npy"));
        int[] nb = NeighbourAccuracy.NearestNeighbours(x, 10);
        Assert.Equal(new KnnAccuracy(10, 239, 300), NeighbourAccuracy.Accuracy(nb, 10, labels));
        Assert.Equal(new KnnAccuracy(10, 264, 300), NeighbourAccuracy.Accuracy(nb, 10, labels.Select(l => l / 2).ToArray()));
        Assert.Equal(239, NeighbourAccuracy.LeaveOneOut(x, labels).Correct);
    }

    [Fact]
    public void Neighbours_equal_a_brute_force_sort()
    {
        var rng = new Random(3);
        int n = 150, d = 5, k = 7;
        var x = new EmbeddingMatrix(Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble() - 0.3f).ToArray(), n, d);
        int[] nb = NeighbourAccuracy.NearestNeighbours(x, k);
        for (int i = 0; i < n; i++)
        {
            var want = Enumerable.Range(0, n).Where(j => j != i)
                .OrderBy(j => Distances.Between(DistanceMetric.Cosine, x, i, j)).ThenBy(j => j).Take(k).ToArray();
            Assert.Equal(want, nb.AsSpan(i * k, k).ToArray());
        }
    }

    [Fact]
    public void Hand_computed_vote_with_a_tie_goes_to_the_smallest_label()
    {
        // 4 items, k = 2. Item 0's neighbours carry labels 5 and 1: tie, so 1 wins (item 0 has label 1: correct).
        int[] labels = [1, 5, 1, 5];
        int[] nb = [1, 2, 3, 0, 0, 1, 1, 2];
        // item 1: labels 5, 1 -> 1 (wrong, it is 5); item 2: 1, 5 -> 1 (right); item 3: 5, 1 -> 1 (wrong).
        Assert.Equal(new KnnAccuracy(2, 2, 4), NeighbourAccuracy.Accuracy(nb, 2, labels));
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var x = new EmbeddingMatrix([1, 0, 0, 1, 0, 0], 3, 2);
        Assert.Contains("row 2", Assert.Throws<ArgumentException>(() => NeighbourAccuracy.NearestNeighbours(x, 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => NeighbourAccuracy.NearestNeighbours(x, 3));
        Assert.Throws<ArgumentException>(() => NeighbourAccuracy.LeaveOneOut(x, [1, 2]));
    }
}
