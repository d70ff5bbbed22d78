using System.Security.Cryptography;
using LabelAssignment.Data;

namespace LabelAssignment.Tests.Data;

public sealed class Cifar100SourceTests : IDisposable
{
    // The process environment is shared with tests running in parallel: these tests pass the variable's value in.
    private readonly string _root = TestPaths.NewTempFolder();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Fixture(string sub) => Path.Combine(TestPaths.Fixtures, "cifar100", sub);

    private string CopyBinaryTo(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (string f in Directory.GetFiles(Fixture("cifar-100-binary")))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        return folder;
    }

    /// <summary>An HttpClient whose every request fails as it does without internet.</summary>
    private sealed class Offline : HttpMessageHandler
    {
        public int Requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Requests);
            throw new HttpRequestException("Name or service not known (www.cs.toronto.edu:443)");
        }
    }

    private Cifar100Options Options(HttpMessageHandler handler) => new()
    {
        DataFolder = Path.Combine(_root, "data"),
        Http = new HttpClient(handler),
        MaxAttempts = 1,
    };

    private static Task<Cifar100Location> Locate(Cifar100Split split, Cifar100Options options, string start, string? env = null) =>
        Cifar100Source.LocateAsync(split, options, start, env, null, default);

    [Fact]
    public void FindShared_walks_up_to_the_nearest_shared_folder_holding_the_split()
    {
        string deep = Path.Combine(_root, "wt", "repo", "notebooks");
        Directory.CreateDirectory(deep);
        Assert.Null(Cifar100Source.FindShared(deep));
        string shared = CopyBinaryTo(Path.Combine(_root, "shared", "cifar-100"));
        Assert.Equal(shared, Cifar100Source.FindShared(deep));
        // A nearer shared folder without the split is passed over; once it holds the split it wins.
        string nearer = Path.Combine(_root, "wt", "shared", "cifar-100");
        Directory.CreateDirectory(nearer);
        Assert.Equal(shared, Cifar100Source.FindShared(deep));
        File.Copy(Path.Combine(shared, "test.bin"), Path.Combine(nearer, "test.bin"));
        Assert.Equal(nearer, Cifar100Source.FindShared(deep));
        // The shared copy of this repo has only the test split.
        File.Delete(Path.Combine(nearer, "test.bin"));
        File.Delete(Path.Combine(shared, "train.bin"));
        Assert.Null(Cifar100Source.FindShared(deep, Cifar100Split.Train));
        Assert.Throws<ArgumentException>(() => Cifar100Source.FindShared(""));
    }

    [Fact]
    public void HoldsSplit_knows_both_formats_and_their_subfolders()
    {
        Assert.True(Cifar100Source.HoldsSplit(Fixture("cifar-100-binary"), Cifar100Split.Train));
        Assert.True(Cifar100Source.HoldsSplit(Fixture("cifar-100-python"), Cifar100Split.Test));
        Assert.True(Cifar100Source.HoldsSplit(Path.Combine(TestPaths.Fixtures, "cifar100"), Cifar100Split.Test)); // parent of both
        Assert.False(Cifar100Source.HoldsSplit(Fixture("cifar-100-py3"), Cifar100Split.Train)); // test + meta only
        Assert.False(Cifar100Source.HoldsSplit(_root, Cifar100Split.Test));
    }

    [Fact]
    public async Task Order_is_named_folder_then_variable_then_earlier_download_then_shared_then_download()
    {
        var offline = new Offline();
        var options = Options(offline);
        string start = Path.Combine(_root, "repo", "notebooks");
        Directory.CreateDirectory(start);
        string shared = CopyBinaryTo(Path.Combine(_root, "shared", "cifar-100"));
        File.Delete(Path.Combine(shared, "train.bin"));
        string python = Fixture("cifar-100-python");

        var found = await Locate(Cifar100Split.Test, options, start);
        Assert.Equal((shared, Cifar100SourceKind.SharedFolder), (found.Folder, found.Kind));
        Assert.Contains(shared, found.Description);

        string downloaded = CopyBinaryTo(Path.Combine(options.DataFolder, Cifar100.BinaryFolderName));
        found = await Locate(Cifar100Split.Test, options, start);
        Assert.Equal((downloaded, Cifar100SourceKind.DataFolder), (found.Folder, found.Kind));

        found = await Locate(Cifar100Split.Test, options, start, env: python);
        Assert.Equal((python, Cifar100SourceKind.EnvironmentVariable), (found.Folder, found.Kind));
        Assert.Contains(Cifar100.FolderEnvironmentVariable, found.Description);

        string named = CopyBinaryTo(Path.Combine(_root, "mine"));
        found = await Locate(Cifar100Split.Test, options with { LocalFolder = named }, start, env: python);
        Assert.Equal((named, Cifar100SourceKind.LocalFolder), (found.Folder, found.Kind));
        Assert.Equal(5, Cifar100.Load(found.Folder, Cifar100Split.Test, expectedRecords: 5).Count);
        Assert.Equal(0, offline.Requests); // something local was always there
        Assert.Equal(found, Cifar100Source.FindLocal(Cifar100Split.Test, options with { LocalFolder = named }, start, python));
        Assert.Null(Cifar100Source.FindLocal(Cifar100Split.Train, options with { DataFolder = Path.Combine(_root, "empty") }, start, null)); // the shared copy has no train.bin
    }

    [Fact]
    public async Task A_named_folder_that_is_missing_or_lacks_the_split_is_an_error_not_a_fallback()
    {
        var options = Options(new Offline());
        CopyBinaryTo(Path.Combine(_root, "shared", "cifar-100")); // would be found otherwise
        string start = _root;
        string missing = Path.Combine(_root, "nope");
        var e1 = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => Locate(Cifar100Split.Test, options with { LocalFolder = missing }, start));
        Assert.Contains(missing, e1.Message);
        Assert.Contains("LocalFolder", e1.Message);
        var e2 = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => Locate(Cifar100Split.Test, options, start, env: missing));
        Assert.Contains(Cifar100.FolderEnvironmentVariable, e2.Message);
        string py3 = Fixture("cifar-100-py3"); // test split only
        var e3 = await Assert.ThrowsAsync<FileNotFoundException>(() => Locate(Cifar100Split.Train, options with { LocalFolder = py3 }, start));
        Assert.Contains("train.bin", e3.Message);
        Assert.Contains(py3, e3.Message);
        await Assert.ThrowsAsync<ArgumentException>(() => Locate(Cifar100Split.Test, options with { LocalFolder = " " }, start));
    }

    [Fact]
    public async Task Nothing_local_and_no_internet_says_what_to_do()
    {
        var offline = new Offline();
        var options = Options(offline);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Locate(Cifar100Split.Test, options, _root));
        Assert.Equal(1, offline.Requests);
        Assert.IsType<HttpRequestException>(Assert.IsType<DownloadFailedException>(e.InnerException).InnerException);
        Assert.Contains("Name or service not known", e.Message);
        Assert.Contains(Cifar100.FolderEnvironmentVariable, e.Message);
        Assert.Contains("cifar-100-binary.tar.gz", e.Message);
        Assert.Contains(Cifar100.ArchiveMd5, e.Message);
        Assert.Contains(Path.GetFullPath(options.DataFolder), e.Message);
        Assert.False(File.Exists(Path.Combine(options.DataFolder, "cifar-100-binary.tar.gz"))); // nothing half-written under the final name
    }

    [Fact]
    public async Task Downloads_the_archive_when_nothing_local_exists()
    {
        byte[] archive = DownloadTests.MakeArchive(noiseBytes: 0);
        using var server = new LoopbackServer(archive);
        var options = new Cifar100Options
        {
            DataFolder = Path.Combine(_root, "data"), ArchiveUri = server.Uri,
            ArchiveMd5 = Convert.ToHexStringLower(MD5.HashData(archive)), Http = new HttpClient(),
        };
        var found = await Locate(Cifar100Split.Train, options, _root);
        Assert.Equal(Cifar100SourceKind.Downloaded, found.Kind);
        Assert.Equal(Path.Combine(options.DataFolder, Cifar100.BinaryFolderName), found.Folder);
        Assert.Equal(8, Cifar100.Load(found.Folder, Cifar100Split.Train, expectedRecords: 8).Count);
        found = await Locate(Cifar100Split.Train, options, _root); // the second time it is an earlier download
        Assert.Equal(Cifar100SourceKind.DataFolder, found.Kind);
    }
}
