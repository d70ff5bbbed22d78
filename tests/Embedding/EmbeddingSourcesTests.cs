using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Embedding;

public class EmbeddingSourcesTests
{
    static EmbeddingSet Set(int n, float scale)
    {
        var x = EmbeddingMatrix.Zeros(n, 3);
        for (int i = 0; i < x.Data.Length; i++) x.Data[i] = scale * (i + 1);
        return new EmbeddingSet(x, Enumerable.Range(100, n).ToArray(), Enumerable.Range(0, n).Select(i => i % 7).ToArray());
    }

    [Fact]
    public void FindCifarEntry_takes_the_smallest_complete_entry_of_the_model_with_enough_rows()
    {
        string data = Directory.CreateTempSubdirectory("la-sources-").FullName;
        Assert.Null(EmbeddingSources.FindCifarEntry(data, "resnet18-224", 10));
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 8, "resnet18-224-l2"), Set(8, 1));     // too small
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 50, "resnet18-224"), Set(50, 2));
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 20, "resnet18-224-l2"), Set(20, 3));
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 12, "resnet18-64-l2"), Set(12, 4));     // other model
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "train", 15, "resnet18-224-l2"), Set(15, 5));   // other split
        var found = EmbeddingSources.FindCifarEntry(data, "resnet18-224", 10);
        Assert.Equal("cifar100-test-n20-resnet18-224-l2", found!.Value.Key.FolderName);
        Assert.Equal("cifar100-test-n50-resnet18-224", EmbeddingSources.FindCifarEntry(data, "resnet18-224", 21)!.Value.Key.FolderName);
        Assert.Null(EmbeddingSources.FindCifarEntry(data, "resnet18-224", 51));
        // An entry without its manifest is incomplete and never chosen.
        File.Delete(Path.Combine(found.Value.Folder, "manifest.json"));
        Assert.Equal("cifar100-test-n50-resnet18-224", EmbeddingSources.FindCifarEntry(data, "resnet18-224", 10)!.Value.Key.FolderName);
        Assert.Equal("minCount", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSources.FindCifarEntry(data, "resnet18-224", 0)).ParamName);
    }

    [Fact]
    public void Load_prefers_a_named_npy_then_the_cache()
    {
        string data = Directory.CreateTempSubdirectory("la-sources-").FullName;
        var set = Set(30, 1);
        EmbeddingCache.Save(data, new EmbeddingCacheKey("cifar100", "test", 30, "resnet18-224-l2"), set);
        var cached = EmbeddingSources.Load(10, "", data, "", "resnet18");
        Assert.Equal(EmbeddingSourceKind.Cache, cached.Kind);
        Assert.Equal(set.Embeddings.Data.AsSpan(0, 30).ToArray(), cached.Embeddings.Data);
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), cached.ItemIds);
        Assert.Equal(set.Labels.Take(10), cached.Labels!);
        Assert.Contains("first 10 of 30 cached", cached.Description);

        string npy = Path.Combine(data, "x.npy");
        Npy.Write(npy, Set(6, 2).Embeddings);
        var fromNpy = EmbeddingSources.Load(4, npy, data, "", "resnet18");
        Assert.Equal(EmbeddingSourceKind.Npy, fromNpy.Kind);
        Assert.Equal(4, fromNpy.Embeddings.Count);
        Assert.Equal(2f * 12, fromNpy.Embeddings.Data[^1]);
        Assert.Equal([0L, 1, 2, 3], fromNpy.ItemIds);
        Assert.Null(fromNpy.Labels);

        Assert.Contains("has 6", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSources.Load(7, npy, data, "", "resnet18")).Message);
        Assert.Throws<FileNotFoundException>(() => EmbeddingSources.Load(4, Path.Combine(data, "nope.npy"), data, "", "resnet18"));
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingSources.Load(1, npy, data, "", "resnet18")).ParamName);
        Assert.Throws<ArgumentException>(() => EmbeddingSources.Load(4, "", data, "", "resnet99"));
    }

    [Fact]
    public void Load_embeds_real_CIFAR_images_when_nothing_is_cached_and_caches_them()
    {
        string data = Directory.CreateTempSubdirectory("la-sources-").FullName;
        double last = 0;
        var fresh = EmbeddingSources.Load(6, "", data, TestPaths.SharedCifar100, "resnet18-64", new Progress<double>(v => last = v));
        Assert.Equal(EmbeddingSourceKind.Embedded, fresh.Kind);
        Assert.Equal((6, 512), (fresh.Embeddings.Count, fresh.Embeddings.Dimension));
        // The official test split starts with fine labels 49 33 72 51 71 92.
        Assert.Equal([49, 33, 72, 51, 71, 92], fresh.Labels!);
        var again = EmbeddingSources.Load(6, "", data, TestPaths.SharedCifar100, "resnet18-64");
        Assert.Equal(EmbeddingSourceKind.Cache, again.Kind);
        Assert.Equal(fresh.Embeddings.Data, again.Embeddings.Data);
        Assert.NotNull(EmbeddingSources.FindSharedCifar100(TestPaths.RepoRoot));
    }
}
