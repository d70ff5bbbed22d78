using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Embedding;

public sealed class EmbeddingSourceTests
{
    static EmbeddingSet Set(int n, int d = 3, int offset = 0) =>
        new(new EmbeddingMatrix(Enumerable.Range(0, n * d).Select(v => (float)v).ToArray(), n, d), Enumerable.Range(offset, n).ToArray(), new int[n]);

    [Fact]
    public void A_named_npy_file_comes_first_and_is_subsampled_by_seed()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            string npy = Path.Combine(root, "x.npy");
            Npy.Write(npy, Set(10).Embeddings);
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 20, "resnet18-224"), Set(20));
            var all = EmbeddingSource.Load(npy, root, 0, 1, root);
            Assert.Equal(EmbeddingOrigin.NpyFile, all.Origin);
            Assert.Equal(Enumerable.Range(0, 10), all.ItemIds);
            var some = EmbeddingSource.Load(npy, root, 4, 1, root);
            Assert.Equal(4, some.Embeddings.Count);
            Assert.Equal(some.ItemIds.Order(), some.ItemIds);
            for (int k = 0; k < 4; k++)   // row k of the subset is row ItemIds[k] of the file
                Assert.Equal(3f * some.ItemIds[k], some.Embeddings.Row(k)[0]);
            Assert.Contains("a random 4 of its 10 rows", some.Description);
            Assert.Equal(some.ItemIds, EmbeddingSource.Load(npy, root, 4, 1, root).ItemIds);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void The_largest_cache_entry_is_used_only_when_it_holds_enough_items()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 5, "resnet18-224"), Set(5, offset: 100));
            EmbeddingCache.Save(root, new EmbeddingCacheKey("cifar100", "test", 8, "resnet18-224"), Set(8, offset: 200));
            var e = EmbeddingSource.Load(null, root, 0, 1, root);
            Assert.Equal(EmbeddingOrigin.Cache, e.Origin);
            Assert.Equal(Enumerable.Range(200, 8), e.ItemIds);
            Assert.Contains("cifar100-test-n8-resnet18-224", e.Description);
            Assert.Equal(6, EmbeddingSource.Load("", root, 6, 1, root).Embeddings.Count);
            // 9 items asked, the cache holds 8, and there is no CIFAR-100 above the temp folder: a clear error.
            var ex = Assert.Throws<DirectoryNotFoundException>(() => EmbeddingSource.Load(null, root, 9, 1, root));
            Assert.Contains("shared/cifar-100", ex.Message);
            Assert.Equal("samples", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSource.Load(null, root, -1, 1, root)).ParamName);
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Without_cache_it_embeds_real_cifar100_images_and_caches_them()
    {
        string root = TestPaths.NewTempFolder();
        try
        {
            // The repo root lies below the folder holding shared/cifar-100.
            var made = EmbeddingSource.Load(null, root, 3, 1, TestPaths.RepoRoot);
            Assert.Equal(EmbeddingOrigin.Computed, made.Origin);
            Assert.Equal((3, 512), (made.Embeddings.Count, made.Embeddings.Dimension));
            Assert.Equal([0, 1, 2], made.ItemIds);
            var again = EmbeddingSource.Load(null, root, 3, 1, TestPaths.RepoRoot);
            Assert.Equal(EmbeddingOrigin.Cache, again.Origin);
            Assert.Equal(made.Embeddings.Data, again.Embeddings.Data);
        }
        finally { Directory.Delete(root, true); }
    }
}
