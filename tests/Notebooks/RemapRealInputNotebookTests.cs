using System.Globalization;
using System.Text.RegularExpressions;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>
/// Runs notebooks/2.remap.ipynb headless once on a small real input: 250 CIFAR-100 test images embedded with the
/// packaged ResNet18 at 64x64 into a temporary data folder, k = 8, a 3-day study with a synthetic drift.
/// </summary>
public sealed class RemapRealInputNotebookFixture : IDisposable
{
    public string DataFolder { get; } = Directory.CreateTempSubdirectory("la-remap-real-").FullName;

    public NotebookRun Run { get; }

    public string Outputs { get; }

    public RemapRealInputNotebookFixture()
    {
        Run = NotebookRunner.Run(Path.Combine(NotebookRunner.RepoRoot, "notebooks", "2.remap.ipynb"),
            new Dictionary<string, string>
            {
                ["model"] = "resnet18-64", ["samples"] = "250", ["k"] = "8", ["nInit"] = "2",
                ["articleSamples"] = "250", ["articleK"] = "8",
                ["days"] = "3", ["studySamples"] = "250", ["studyK"] = "8", ["studyNInit"] = "1",
                ["change"] = "synthetic", ["changeDays"] = "2",
                ["dataFolder"] = DataFolder, ["cifar"] = TestPaths.Cifar100,
            },
            outputPath: Path.Combine(DataFolder, "2.remap.ipynb"),
            timeout: TimeSpan.FromMinutes(10));
        Outputs = string.Concat(Run.Outputs().Where(o => o.Type != "stream").Select(o => o.Text + "\n"));
    }

    public void Dispose()
    {
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[Collection(NotebookCollection.Name)]
public sealed class RemapRealInputNotebookTests(RemapRealInputNotebookFixture fixture) : IClassFixture<RemapRealInputNotebookFixture>
{
    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public void Runs_headless_on_real_embeddings_and_no_remap_exceeds_the_ceiling()
    {
        fixture.Run.AssertNoErrors();
        // The embeddings were computed from the real images into the temporary data folder, and the report says so.
        string entry = Assert.Single(Directory.GetDirectories(Path.Combine(fixture.DataFolder, "embeddings"), "cifar100-test-n250-resnet18-64*"));
        Assert.True(File.Exists(Path.Combine(entry, "X.npy")), $"no X.npy in {entry}");
        var summary = ReportChecks.AssertProvenance(fixture.Run, [new("k", "8", "--input"), new("model", "resnet18-64", "--input")]);
        // Read three times (sections 1, 6 and 7): computed once, then from the cache, each time with the SHA-256 of X.npy.
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(entry, "X.npy"))))[..16];
        var records = summary.Data.Where(r => r.Entry == Path.GetFileName(entry)).ToArray();
        Assert.NotEmpty(records);
        Assert.All(records, r => Assert.Equal(sha, r.ContentSha256));
        Assert.Single(records, r => !r.FromCache);

        // Section 6's explanation: the overlap and centroid match rates are at most the ceiling, and the stated
        // shares of it are the ratios of the stated numbers.
        var m = Regex.Match(fixture.Outputs,
            @"a match rate of ([0-9.]+) \(the ceiling.*?The overlap remap reached ([0-9.]+) \((\d+)% of the ceiling\) and the centroid remap ([0-9.]+) \((\d+)%\)");
        Assert.True(m.Success, "the explanation of the difference from the article is missing");
        double ceiling = D(m.Groups[1].Value), overlap = D(m.Groups[2].Value), centroid = D(m.Groups[4].Value);
        Assert.InRange(ceiling, 0, 1);
        Assert.True(overlap <= ceiling + 5e-4 && centroid <= ceiling + 5e-4, m.Value);
        Assert.InRange(int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), 100 * overlap / ceiling - 1, 100 * overlap / ceiling + 1);
        ReportChecks.AssertPassesBrowserCheck(fixture.Run, images: 0);
    }
}
