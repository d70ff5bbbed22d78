using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;
using LabelAssignment.IO;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Embedding;

public sealed class EmbeddingSourceTests
{
    // Row i holds scale * (3i+1, 3i+2, 3i+3); item ids start at offset; labels are i mod 7.
    static EmbeddingSet Set(int n, float scale = 1, int offset = 0)
    {
        var x = EmbeddingMatrix.Zeros(n, 3);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = scale * (i + 1);
        return new EmbeddingSet(x, Enumerable.Range(offset, n).Select(i => (long)i).ToArray(), Enumerable.Range(0, n).Select(i => i % 7).ToArray());
    }

    // Searching from a temp folder finds no shared/cifar-100.
    static EmbeddingRequest In(string root) => new() { DataFolder = root, SearchFrom = root };

    [Fact]
    public void A_named_npy_file_comes_first_then_its_first_or_a_seeded_random_subset()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            string npy = Path.Combine(root, "x.npy");
            Npy.Write(npy, Set(10).Embeddings);
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 20, "resnet18-224"), Set(20));
            var all = EmbeddingSource.Load(In(root) with { Npy = npy });
            Assert.Equal(EmbeddingOrigin.NpyFile, all.Origin);
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), all.ItemIds);
            Assert.Null(all.Labels);

            var first = EmbeddingSource.Load(In(root) with { Npy = npy, Count = 4 });
            Assert.Equal(4, first.Embeddings.Count);
            Assert.Equal(12f, first.Embeddings.Data[^1]);
            Assert.Equal([0, 1, 2, 3], first.ItemIds);
            Assert.Contains("the first 4 of its 10 rows", first.Description);

            var some = EmbeddingSource.Load(In(root) with { Npy = npy, Count = 4, Rows = RowSelection.Random, Seed = 1 });
            Assert.Equal(4, some.Embeddings.Count);
            Assert.Equal(some.ItemIds.Order(), some.ItemIds);
            Assert.NotEqual([0, 1, 2, 3], some.ItemIds);   // seed 1 picks another subset than the head
            for (int k = 0; k < 4; k++)   // row k of the subset is row ItemIds[k] of the file
                Assert.Equal(3f * some.ItemIds[k] + 1, some.Embeddings.Row(k)[0]);
            Assert.Contains("a random 4 of its 10 rows", some.Description);
            Assert.Equal(some.ItemIds, EmbeddingSource.Load(In(root) with { Npy = npy, Count = 4, Rows = RowSelection.Random, Seed = 1 }).ItemIds);

            var ex = Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSource.Load(In(root) with { Npy = npy, Count = 11 }));
            Assert.Equal("Count", ex.ParamName);
            Assert.Contains("has 10", ex.Message);
            Assert.Throws<FileNotFoundException>(() => EmbeddingSource.Load(In(root) with { Npy = Path.Combine(root, "nope.npy") }));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void The_largest_cache_entry_of_the_model_is_used_only_when_it_holds_enough_items()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 5, "resnet18-224"), Set(5, offset: 100));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 8, "resnet18-224-l2"), Set(8, 2, offset: 200));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 30, "resnet18-64"), Set(30));   // other model
            var e = EmbeddingSource.Load(In(root));
            Assert.Equal(EmbeddingOrigin.Cache, e.Origin);
            Assert.Equal(Enumerable.Range(200, 8).Select(i => (long)i), e.ItemIds);
            Assert.Equal(Enumerable.Range(0, 8).Select(i => i % 7), e.Labels!);
            Assert.Contains("cifar100-test-n8-resnet18-224-l2", e.Description);
            Assert.Contains("notebook 1", e.Description);

            var head = EmbeddingSource.Load(In(root) with { Count = 6 });
            Assert.Equal(Set(8, 2).Embeddings.Data.AsSpan(0, 18).ToArray(), head.Embeddings.Data);
            Assert.Equal(Enumerable.Range(200, 6).Select(i => (long)i), head.ItemIds);
            Assert.Equal([0, 1, 2, 3, 4, 5], head.Labels!);
            Assert.Contains("the first 6 of its 8 rows", head.Description);

            // The other model's entry is the only one with 30 rows.
            Assert.Equal(30, EmbeddingSource.Load(In(root) with { Model = "resnet18-64" }).Embeddings.Count);

            // 9 items asked, the model's entries hold 8, and there is no CIFAR-100 above the temp folder: a clear error.
            var ex = Assert.Throws<DirectoryNotFoundException>(() => EmbeddingSource.Load(In(root) with { Count = 9 }));
            Assert.Contains("shared/cifar-100", ex.Message.Replace('\\', '/'));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void L2Normalize_scales_rows_of_a_raw_cache_entry_to_unit_length()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 4, "resnet18-224"), Set(4));
            var raw = EmbeddingSource.Load(In(root));
            var unit = EmbeddingSource.Load(In(root) with { L2Normalize = true });
            Assert.Contains("L2-normalised here", unit.Description);
            for (int i = 0; i < 4; i++)
            {
                var r = raw.Embeddings.Row(i);
                double norm = Math.Sqrt(r[0] * (double)r[0] + r[1] * (double)r[1] + r[2] * (double)r[2]);
                for (int j = 0; j < 3; j++)
                    Assert.Equal(r[j] / norm, unit.Embeddings.Row(i)[j], 6);
            }
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Bad_requests_name_the_field()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            Assert.Equal("Count", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSource.Load(In(root) with { Count = -1 })).ParamName);
            Assert.Equal("Model", Assert.Throws<ArgumentException>(() => EmbeddingSource.Load(In(root) with { Model = "resnet99" })).ParamName);
            Assert.Equal("DataFolder", Assert.Throws<ArgumentException>(() => EmbeddingSource.Load(In(root) with { DataFolder = " " })).ParamName);
            Assert.Equal("Rows", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSource.Load(In(root) with { Rows = (RowSelection)7 })).ParamName);
            Assert.Equal("SearchFrom", Assert.Throws<ArgumentException>(() => EmbeddingSource.Load(In(root) with { SearchFrom = "" })).ParamName);
            Assert.Throws<ArgumentNullException>(() => EmbeddingSource.Load(null!));
            // A CIFAR-100 folder named explicitly must exist: never replaced by another.
            Assert.Throws<DirectoryNotFoundException>(() => EmbeddingSource.Load(In(root) with { Cifar = Path.Combine(root, "missing") }));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Without_cache_it_embeds_cifar100_images_and_caches_them()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            // With ../shared/cifar-100 the repo root lies below it: found automatically. A fresh clone has none: the
            // tests' own small file in the official format is named instead.
            var request = new EmbeddingRequest
            {
                DataFolder = root, SearchFrom = TestPaths.RepoRoot, Model = "resnet18-64", Count = 6, L2Normalize = true,
                Cifar = TestPaths.HasRealCifar100 ? "" : TestPaths.Cifar100,
            };
            double last = 0;
            var made = EmbeddingSource.Load(request, new SyncProgress(p => last = p.Fraction));
            Assert.Equal(1.0, last);
            Assert.Equal(EmbeddingOrigin.Computed, made.Origin);
            Assert.Equal((6, 512), (made.Embeddings.Count, made.Embeddings.Dimension));
            Assert.Equal([0, 1, 2, 3, 4, 5], made.ItemIds);
            // The labels are the file's first six (the official test split starts with 49 33 72 51 71 92, and so
            // does the tests' own file).
            Assert.Equal([49, 33, 72, 51, 71, 92], made.Labels!);
            Assert.Equal(Cifar100.Load(TestPaths.Cifar100, Cifar100Split.Test).FineLabels[..6], made.Labels!);
            Assert.Equal(1.0, System.Numerics.Tensors.TensorPrimitives.Norm(made.Embeddings.Row(0)), 5);
            Assert.NotNull(EmbeddingCache.TryLoad(root, new EmbeddingCacheKey("cifar100", "test", 6, "resnet18-64-l2")));

            var again = EmbeddingSource.Load(request);
            Assert.Equal(EmbeddingOrigin.Cache, again.Origin);
            Assert.Equal(made.Embeddings.Data, again.Embeddings.Data);
            // A named CIFAR-100 folder with fewer rows asked: the cache entry's first rows.
            var fewer = EmbeddingSource.Load(request with { Count = 3, Cifar = TestPaths.Cifar100 });
            Assert.Equal(EmbeddingOrigin.Cache, fewer.Origin);
            Assert.Equal(made.Embeddings.Data.AsSpan(0, 3 * 512).ToArray(), fewer.Embeddings.Data);
            Assert.Equal("Count", Assert.Throws<ArgumentOutOfRangeException>(() =>
                EmbeddingSource.Load(request with { Count = 10_001, Cifar = TestPaths.Cifar100 })).ParamName);
        }
        finally { Directory.Delete(root, true); }
    }

    sealed class SyncProgress(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => report(value);
    }
}

public sealed class EmbeddingCatalogTests
{
    static EmbeddingSet Set(int n) => new(new EmbeddingMatrix(new float[n * 2], n, 2), Enumerable.Range(0, n).Select(i => (long)i).ToArray(), new int[n]);

    [Fact]
    public void Lists_complete_entries_only()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            Assert.Empty(EmbeddingCatalog.List(root));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 3, "resnet18-224"), Set(3));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 5, "resnet18-224-l2"), Set(5));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 9, "blip2-vision"), Set(9));
            // Incomplete (no manifest), damaged and partial manifests are not listed.
            Directory.CreateDirectory(Path.Combine(root, "embeddings", "cifar100-test-n7-resnet18-224"));
            string broken = Directory.CreateDirectory(Path.Combine(root, "embeddings", "cifar100-test-n8-resnet18-224")).FullName;
            File.WriteAllText(Path.Combine(broken, "manifest.json"), "{ not json");
            string partial = Directory.CreateDirectory(Path.Combine(root, "embeddings", "cifar100-test-n9-resnet18-224")).FullName;
            File.WriteAllText(Path.Combine(partial, "manifest.json"), """{ "dataset": "cifar100", "split": "test", "model": "resnet18-224" }""");
            var all = EmbeddingCatalog.List(root);
            Assert.Equal(3, all.Count);
            var best = EmbeddingCatalog.Find(root, "cifar100", "test", "resnet18-224");
            Assert.NotNull(best);
            Assert.Equal(5, best.Key.SampleCount);
            Assert.Equal(2, best.Dimension);
            Assert.NotNull(EmbeddingCache.TryLoad(root, best.Key));
            Assert.Null(EmbeddingCatalog.Find(root, "cifar100", "train", "resnet18-224"));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Find_takes_the_largest_entry_of_the_model_with_enough_items()
    {
        string data = TestPaths.NewTempFolder();
        try
        {
            Assert.Null(EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", 10));
            EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 8, "resnet18-224-l2"), Set(8));
            EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 50, "resnet18-224"), Set(50));
            EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 20, "resnet18-224-l2"), Set(20));
            EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 120, "resnet18-64-l2"), Set(120));     // other model
            EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "train", 150, "resnet18-224-l2"), Set(150));  // other split
            Assert.Equal("cifar100-test-n50-resnet18-224", EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", 10)!.Key.FolderName);
            Assert.Equal("cifar100-test-n50-resnet18-224", EmbeddingCatalog.Find(data, "cifar100", "test", "RESNET18-224")!.Key.FolderName);
            Assert.Null(EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", 51));
            Assert.Equal("cifar100-test-n120-resnet18-64-l2", EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-64")!.Key.FolderName);
            // An entry without its manifest is incomplete and never chosen.
            File.Delete(Path.Combine(data, "embeddings", "cifar100-test-n50-resnet18-224", "manifest.json"));
            var next = EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", 10);
            Assert.Equal("cifar100-test-n20-resnet18-224-l2", next!.Key.FolderName);
            Assert.Equal(Path.Combine(Path.GetFullPath(data), "embeddings", "cifar100-test-n20-resnet18-224-l2"), next.Folder);
            Assert.Null(EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", 21));
            Assert.Equal("minCount", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingCatalog.Find(data, "cifar100", "test", "resnet18-224", -1)).ParamName);
            Assert.Throws<ArgumentException>(() => EmbeddingCatalog.Find(data, "cifar100", "test", ""));
        }
        finally { Directory.Delete(data, true); }
    }
}
