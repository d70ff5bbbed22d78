using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Embedding;

public class EmbeddingCacheTests
{
    private static Cifar100Dataset Fixture() =>
        Cifar100.Load(Path.Combine(TestPaths.Fixtures, "cifar100", "cifar-100-binary"), Cifar100Split.Train, expectedRecords: 8);

    [Fact]
    public void Computes_once_then_reads_the_same_arrays_back()
    {
        string dir = TestPaths.NewTempFolder();
        try
        {
            string model = Path.Combine(dir, "m.onnx");
            FakeOnnxModels.WriteBlip2Like(model, dim: 16);
            var preset = ModelPreset.Blip2Vision(model) with { OutputDimension = 16 };
            using var embedder = new OnnxImageEmbedder(preset, new EmbedderOptions { L2Normalize = true });
            var data = Fixture().Take(6);
            var first = EmbeddingCache.GetOrCreate(dir, data, embedder);
            Assert.False(first.FromCache);
            Assert.Equal(Path.Combine(dir, "embeddings", "cifar100-train-n6-blip2-vision-l2"), first.Folder);
            var second = EmbeddingCache.GetOrCreate(dir, data, embedder);
            Assert.True(second.FromCache);
            Assert.Equal(first.Set.Embeddings.Data, second.Set.Embeddings.Data);
            Assert.Equal(data.ItemIds, second.Set.ItemIds);
            Assert.Equal(data.FineLabels, second.Set.Labels);
            Assert.Equal(data.CoarseLabels, second.Set.CoarseLabels);
            // Plain .npy files, as numpy would read them.
            Assert.Equal([6, 16], Npy.ReadHeader(Path.Combine(first.Folder, "X.npy")).Shape);
            Assert.Equal("<i4", Npy.ReadHeader(Path.Combine(first.Folder, "labels.npy")).Descr);

            // Other items with the same count are not served from the entry for the first six.
            var other = Fixture().Select([7, 6, 5, 4, 3, 2]);
            Assert.False(EmbeddingCache.GetOrCreate(dir, other, embedder).FromCache);
            Assert.Equal(other.ItemIds, EmbeddingCache.GetOrCreate(dir, other, embedder).Set.ItemIds);

            // Any change to the model file (a re-export) invalidates the entry; the open session is not reloaded.
            byte[] bytes = File.ReadAllBytes(model);
            bytes[^5] ^= 0x55;
            File.WriteAllBytes(model, bytes);
            Assert.False(EmbeddingCache.GetOrCreate(dir, other, embedder).FromCache);
        }
        finally { Directory.Delete(dir, true); }
    }

    private static EmbeddingSet Set(int n, int d, float seed) =>
        new(new EmbeddingMatrix(Enumerable.Range(0, n * d).Select(i => seed + i).ToArray(), n, d),
            Enumerable.Range(100, n).Select(i => (long)i).ToArray(), Enumerable.Range(0, n).Select(i => i % 3).ToArray());

    [Fact]
    public void Ids_are_written_as_int64_and_old_int32_ids_still_read()
    {
        string dir = TestPaths.NewTempFolder();
        try
        {
            var key = new EmbeddingCacheKey("toy", "test", 3, "m");
            var set = new EmbeddingSet(new EmbeddingMatrix([1f, 2f, 3f], 3, 1), [5_000_000_000, 7, 9], [0, 1, 2]);
            string folder = EmbeddingCache.Save(dir, key, set);
            string ids = Path.Combine(folder, "ids.npy");
            Assert.Equal("<i8", Npy.ReadHeader(ids).Descr);
            Assert.Equal([5_000_000_000L, 7, 9], EmbeddingCache.TryLoad(dir, key)!.ItemIds);

            // An entry written when ids were int32: the same ids come back widened.
            Npy.Write(ids, new[] { 4, 7, 9 });
            Assert.Equal("<i4", Npy.ReadHeader(ids).Descr);
            Assert.Equal([4L, 7, 9], EmbeddingCache.TryLoad(dir, key)!.ItemIds);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Damaged_or_incomplete_entries_are_recomputed()
    {
        string dir = TestPaths.NewTempFolder();
        try
        {
            var key = new EmbeddingCacheKey("toy", "test", 4, "m1");
            int calls = 0;
            EmbeddingSet Compute() { calls++; return Set(4, 3, calls * 1000); }
            var a = EmbeddingCache.GetOrCreate(dir, key, Compute);
            Assert.Null(a.Set.CoarseLabels);
            Assert.True(EmbeddingCache.GetOrCreate(dir, key, Compute).FromCache);
            Assert.Equal(1, calls);

            string x = Path.Combine(a.Folder, "X.npy");
            using (var f = new FileStream(x, FileMode.Open)) f.SetLength(f.Length - 4);
            var b = EmbeddingCache.GetOrCreate(dir, key, Compute);
            Assert.False(b.FromCache);
            Assert.Equal(2000f, b.Set.Embeddings.Data[0]);

            File.Delete(Path.Combine(a.Folder, "manifest.json"));
            Assert.False(EmbeddingCache.GetOrCreate(dir, key, Compute).FromCache);
            File.WriteAllText(Path.Combine(a.Folder, "manifest.json"), "{ not json");
            Assert.False(EmbeddingCache.GetOrCreate(dir, key, Compute).FromCache);
            Assert.Equal(4, calls);
            Assert.True(EmbeddingCache.GetOrCreate(dir, key, Compute).FromCache);

            // A different count or model is another entry.
            Assert.False(EmbeddingCache.GetOrCreate(dir, key with { Model = "m2" }, Compute).FromCache);
            Assert.NotNull(EmbeddingCache.TryLoad(dir, key));
            Assert.Null(EmbeddingCache.TryLoad(dir, key with { SampleCount = 5 }));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Bad_keys_and_mismatched_sets_are_refused()
    {
        Assert.Contains("Model='../x'", Assert.Throws<ArgumentException>(() => new EmbeddingCacheKey("toy", "test", 4, "../x").Validate()).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingCacheKey("toy", "test", -1, "m").Validate());
        var key = new EmbeddingCacheKey("toy", "test", 5, "m");
        Assert.Contains("5", Assert.Throws<ArgumentException>(() => EmbeddingCache.Save(Path.GetTempPath(), key, Set(4, 2, 0))).Message);
        var bad = Set(4, 2, 0) with { Labels = [1, 2] };
        Assert.Throws<ArgumentException>(() => bad.Validate());
    }
}
