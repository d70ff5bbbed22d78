using LabelAssignment.Cli;

namespace LabelAssignment.Tests.Cli;

/// <summary>--memory-limit and --temp-dir reach DuckDB; a malformed size is a usage error before any work.</summary>
public sealed class EngineSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("labelassign-engine-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Output) Run(params string[] args) => CliHarness.RunFlat(args);

    [Theory]
    [InlineData("6GB", true)]
    [InlineData("512 MiB", true)]
    [InlineData("1.5gb", true)]
    [InlineData("lots", false)]
    [InlineData("6", false)]
    [InlineData("6GB; DROP TABLE today", false)]
    public void SizesAreWhatDuckDbTakes(string size, bool valid) => Assert.Equal(valid, EngineSettings.IsSize(size));

    [Fact]
    public void AMemoryLimitAndATempFolderAreUsedAndABadSizeIsAUsageError()
    {
        File.WriteAllLines(P("y.csv"), ["item_id,cluster_id", "1,0", "2,0", "3,1"]);
        File.WriteAllLines(P("t.csv"), ["item_id,label", "1,4", "2,4", "3,5"]);
        var ok = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o"), "--memory-limit", "256MB",
            "--temp-dir", P("spill"), "--format", "csv", "-q");
        Assert.True(ok.Code == 0, ok.Output);
        Assert.Equal(["item_id,cluster_id", "1,0", "2,0", "3,1"], File.ReadAllLines(P("o/stable_ids.csv")));
        var bad = Run("remap", "--yesterday", P("y.csv"), "--today", P("t.csv"), "--out", P("o2"), "--memory-limit", "lots");
        Assert.Equal(ExitCode.Usage, bad.Code);
        Assert.Contains("--memory-limit must be a size", bad.Output);
        Assert.False(Directory.Exists(P("o2")));
    }
}
