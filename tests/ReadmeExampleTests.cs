using LabelAssignment.Clustering;
using LabelAssignment.Metrics;
using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Remapping;
using LabelAssignment.Ids;
using LabelAssignment.IO;

namespace LabelAssignment.Tests;

/// <summary>The README's "Using the library without notebooks" sample, run as written on small data, so it stays true.</summary>
public sealed class ReadmeExampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_readme_sample_runs_and_keeps_ids_stable()
    {
        // Six tight, well-separated groups of unit vectors: both KMeans runs find them, so every ID must be kept.
        var rng = new Random(5);
        const int groups = 6, per = 40, d = 16;
        var rows = new List<float[]>();
        for (int g = 0; g < groups; g++)
            for (int i = 0; i < per; i++)
            {
                var v = new float[d];
                v[g] = 1f;
                for (int j = 0; j < d; j++) v[j] += (float)(rng.NextDouble() - 0.5) * 0.05f;
                float norm = MathF.Sqrt(v.Sum(t => t * t));
                rows.Add(v.Select(t => t / norm).ToArray());
            }
        string path = Path.Combine(_dir, "X.npy");
        Npy.Write(path, EmbeddingMatrix.FromRows(rows));

        // --- the README sample (K = 6 and this file instead of 100 and the cache) ---
        EmbeddingMatrix x = Npy.ReadMatrix(path);
        var yesterday = KMeans.Fit(x, new KMeansOptions { K = groups, Seed = 1, Metric = DistanceMetric.Euclidean });
        var today = KMeans.Fit(x, new KMeansOptions { K = groups, Seed = 2, Metric = DistanceMetric.Euclidean });
        long[] ids = Enumerable.Range(0, x.Count).Select(i => (long)i).ToArray();
        RemappingResult remap = LabelRemapper.ByOverlap(new Labeling(ids, yesterday.Labels), new Labeling(ids, today.Labels),
            new RemappingOptions { OverlapThreshold = 0.5 });
        int[] stableIds = remap.Apply(today.Labels);
        var scores = ClusteringMetrics.Compare(yesterday.Labels, stableIds);

        var options = new DbscanOptions { Eps = 0.25, MinSamples = 5, Metric = DistanceMetric.Cosine };
        var tables = ClusterTables.Initialise(ids, x, Dbscan.Fit(x, options), options);
        var assigner = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = 0.25 });
        Assignment p = assigner.Predict(itemId: 100_000, embedding: x.Row(0));
        Assignment a = assigner.Assign(itemId: 100_000, embedding: x.Row(0));
        new ClusterTablesStore(Path.Combine(_dir, "tables")).Save(tables);
        // --- end of the sample ---

        Assert.Equal(1.0, scores.MatchRate);                // every item keeps yesterday's ID
        Assert.Equal(groups, remap.KeptIds.Length);
        Assert.Empty(remap.CreatedIds);
        Assert.Equal(groups, tables.ClusterCount);          // six DBSCAN clusters, no noise
        Assert.False(a.CreatedCluster);
        Assert.Equal(tables.ClusterOf(0), a.ClusterId);     // row 0's twin joins row 0's cluster
        Assert.Equal(a, p);                                 // the prediction was the answer
        Assert.True(new ClusterTablesStore(Path.Combine(_dir, "tables")).Load().SameStateAs(tables));
    }
}
