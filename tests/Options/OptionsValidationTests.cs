using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Options;

/// <summary>Every options type reports a bad setting by its property name, in ParamName and at the start of the message.</summary>
public class OptionsValidationTests
{
    static void AssertNames(string property, Action validate)
    {
        var e = Assert.ThrowsAny<ArgumentException>(validate);
        Assert.Equal(property, e.ParamName);
        Assert.StartsWith(property, e.Message);
    }

    [Fact]
    public void Cifar100Options_name_the_bad_property()
    {
        new Cifar100Options().Validate();
        AssertNames("DataFolder", new Cifar100Options { DataFolder = " " }.Validate);
        AssertNames("LocalFolder", new Cifar100Options { LocalFolder = "" }.Validate);
        AssertNames("ArchiveUri", new Cifar100Options { ArchiveUri = new Uri("ftp://a/b") }.Validate);
        AssertNames("ArchiveUri", new Cifar100Options { ArchiveUri = null! }.Validate);
        AssertNames("ArchiveMd5", new Cifar100Options { ArchiveMd5 = "xyz" }.Validate);
        AssertNames("MaxAttempts", new Cifar100Options { MaxAttempts = 0 }.Validate);
    }

    [Fact]
    public void EmbedderOptions_name_the_bad_property()
    {
        new EmbedderOptions().Validate();
        AssertNames("BatchSize", new EmbedderOptions { BatchSize = 0 }.Validate);
        AssertNames("BatchSize", new EmbedderOptions { BatchSize = 4097 }.Validate);
        AssertNames("IntraOpThreads", new EmbedderOptions { IntraOpThreads = -1 }.Validate);
        AssertNames("MinImageSide", new EmbedderOptions { MinImageSide = 0 }.Validate);
        AssertNames("MaxPixelsPerFrame", new EmbedderOptions { Decoding = new ImageDecodingLimits { MaxPixelsPerFrame = 0 } }.Validate);
    }

    [Fact]
    public void EmbeddingRequest_names_the_bad_property()
    {
        new EmbeddingRequest().Validate();
        AssertNames("Npy", new EmbeddingRequest { Npy = null! }.Validate);
        AssertNames("Cifar", new EmbeddingRequest { Cifar = null! }.Validate);
        AssertNames("DataFolder", new EmbeddingRequest { DataFolder = "" }.Validate);
        AssertNames("Count", new EmbeddingRequest { Count = -1 }.Validate);
        AssertNames("Rows", new EmbeddingRequest { Rows = (RowSelection)9 }.Validate);
        AssertNames("SearchFrom", new EmbeddingRequest { SearchFrom = " " }.Validate);
        AssertNames("Model", new EmbeddingRequest { Model = "no-such-model" }.Validate);
        AssertNames("Model", new EmbeddingRequest { Model = null! }.Validate);
    }
}
