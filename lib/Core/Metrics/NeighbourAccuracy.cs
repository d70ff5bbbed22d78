using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Metrics;

/// <summary>Leave-one-out k-nearest-neighbour accuracy of one labelling.</summary>
/// <param name="K">Neighbours that vote.</param>
/// <param name="Correct">Items whose vote gave their own label.</param>
/// <param name="Count">Items.</param>
public sealed record KnnAccuracy(int K, int Correct, int Count)
{
    /// <summary>Correct / Count.</summary>
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}

/// <summary>
/// How well embeddings separate classes: each item's k most cosine-similar other items vote with their labels
/// (leave-one-out), as scikit-learn's KNeighborsClassifier(metric="cosine") would with the item held out.
/// </summary>
public static class NeighbourAccuracy
{
    /// <summary>
    /// The k most cosine-similar other items of every item: n x k indices, most similar first; equal
    /// similarities are ordered by the lower index. Rows must be non-zero.
    /// </summary>
    public static int[] NearestNeighbours(EmbeddingMatrix x, int k, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        int n = x.Count, d = x.Dimension;
        if (k < 1 || k >= n)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {n - 1}] for {n} items.");
        var unit = new float[(long)n * d];
        for (int i = 0; i < n; i++)
        {
            var row = x.Row(i);
            foreach (float v in row)
                if (!float.IsFinite(v))
                    throw new ArgumentException($"row {i} holds {v}; cosine similarity needs finite rows.", nameof(x));
            if (!DistanceKernels.TryNormalise(row, unit.AsSpan(i * d, d)))
                throw new ArgumentException($"row {i} is the zero vector (all {d} values are exactly 0); cosine similarity needs rows with a direction.", nameof(x));
        }
        var result = new int[(long)n * k];
        const int block = 64;
        int blocks = (n + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { CancellationToken = cancellationToken }, () => new float[block * n], (b, _, sims) =>
        {
            int start = b * block, m = Math.Min(block, n - start);
            Gemm.MultiplyTransposed(unit.AsSpan(start * d, m * d), m, unit, n, d, sims, n);
            Span<float> bestSim = stackalloc float[k];
            Span<int> bestIdx = stackalloc int[k];
            for (int r = 0; r < m; r++)
            {
                int self = start + r;
                var s = sims.AsSpan(r * n, n);
                int filled = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == self) continue;
                    float v = s[j];
                    if (filled == k && v <= bestSim[k - 1]) continue; // ties keep the lower index already held
                    int pos = filled < k ? filled++ : k - 1;
                    while (pos > 0 && bestSim[pos - 1] < v)
                    {
                        bestSim[pos] = bestSim[pos - 1];
                        bestIdx[pos] = bestIdx[pos - 1];
                        pos--;
                    }
                    bestSim[pos] = v;
                    bestIdx[pos] = j;
                }
                bestIdx.CopyTo(result.AsSpan(self * k, k));
            }
            return sims;
        }, _ => { });
        return result;
    }

    /// <summary>
    /// Accuracy of the majority vote of each item's neighbours (from <see cref="NearestNeighbours"/>); a tie goes to
    /// the smallest label, as scikit-learn's uniform-weight vote does.
    /// </summary>
    public static KnnAccuracy Accuracy(ReadOnlySpan<int> neighbours, int k, ReadOnlySpan<int> labels)
    {
        int n = labels.Length;
        if (k < 1 || neighbours.Length != (long)n * k)
            throw new ArgumentException($"neighbours has {neighbours.Length} entries; {n} labels x k={k} expected.", nameof(neighbours));
        int max = 0;
        foreach (int l in labels)
        {
            if (l < 0) throw new ArgumentOutOfRangeException(nameof(labels), l, "labels must be >= 0.");
            max = Math.Max(max, l);
        }
        var votes = new int[max + 1];
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            var nb = neighbours.Slice(i * k, k);
            foreach (int j in nb) votes[labels[j]]++;
            int best = -1, bestVotes = 0;
            foreach (int j in nb)
            {
                int l = labels[j], v = votes[l];
                if (v > bestVotes || (v == bestVotes && l < best)) { best = l; bestVotes = v; }
            }
            foreach (int j in nb) votes[labels[j]] = 0;
            if (best == labels[i]) correct++;
        }
        return new KnnAccuracy(k, correct, n);
    }

    /// <summary>Leave-one-out k-NN accuracy (cosine) of <paramref name="labels"/>.</summary>
    public static KnnAccuracy LeaveOneOut(EmbeddingMatrix x, ReadOnlySpan<int> labels, int k = 10, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (labels.Length != x.Count)
            throw new ArgumentException($"labels has {labels.Length} entries; x has {x.Count} rows.", nameof(labels));
        return Accuracy(NearestNeighbours(x, k, cancellationToken), k, labels);
    }
}
