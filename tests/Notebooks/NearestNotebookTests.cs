using System.Text.Json;
using System.Text.RegularExpressions;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;
using LabelAssignment.Tests.Oracles;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>
/// Runs notebooks/3.nearest.ipynb headless once on a small input: 250 real CIFAR-100 test images embedded with the
/// packaged ResNet18 at 64x64 (fast) into a temporary data folder, a three-value eps sweep.
/// </summary>
public sealed class NearestNotebookFixture : IDisposable
{
    /// <summary>The temporary data folder the notebook embedded into (its cache entry is read back by the tests).</summary>
    public string DataFolder { get; }

    /// <summary>The run.</summary>
    public NotebookRun Run { get; }

    /// <summary>Everything the executed notebook shows, as one string (outputs of all cells).</summary>
    public string Outputs { get; }

    public NearestNotebookFixture()
    {
        string data = DataFolder = Directory.CreateTempSubdirectory("la-nearest-data-").FullName;
        Run = NotebookRunner.Run(Path.Combine(NotebookRunner.RepoRoot, "notebooks", "3.nearest.ipynb"),
            new Dictionary<string, string>
            {
                ["initItems"] = "150", ["newItems"] = "100", ["model"] = "resnet18-64", ["eps"] = "0.4", ["minSamples"] = "4",
                ["sweepFrom"] = "0.35", ["sweepTo"] = "0.45", ["sweepStep"] = "0.05",
                ["dataFolder"] = data, ["cifar"] = TestPaths.Cifar100,
            });
        // Every rich output (not the streams), one per line.
        Outputs = string.Concat(Run.Outputs().Where(o => o.Type != "stream").Select(o => o.Text + "\n"));
    }

    public void Dispose()
    {
        try { Directory.Delete(DataFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[Collection(NotebookCollection.Name)]
public class NearestNotebookTests(NearestNotebookFixture fixture) : IClassFixture<NearestNotebookFixture>
{
    [Fact]
    public void Runs_headless_and_reports_the_DBSCAN_counts_of_the_brute_force_oracle_on_the_embeddings_it_cached()
    {
        fixture.Run.AssertNoErrors();
        // The embeddings the notebook computed and cached; DBSCAN on the first 150 recomputed by the tests' oracle.
        var set = EmbeddingCache.TryLoad(fixture.DataFolder, new EmbeddingCacheKey("cifar100", "test", 250, "resnet18-64-l2"));
        Assert.NotNull(set);
        var init = set.Embeddings.SelectRows(Enumerable.Range(0, 150).ToArray());
        var (labels, core) = DbscanOracle.Fit(init, 0.4, 4, DistanceMetric.Cosine);
        int clusters = labels.Max() + 1, noise = labels.Count(l => l < 0);
        var m = Regex.Match(fixture.Outputs, @"DBSCAN: (\d+) clusters, (\d+) noise points .*?, (\d+) core points; the centre table has (\d+) rows");
        Assert.True(m.Success, "the DBSCAN line is missing");
        // Each noise point becomes its own cluster in the centre table.
        Assert.Equal((clusters, noise, core.Count(c => c), clusters + noise),
            (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value)));
        // 100 new items streamed: those that joined and those that opened a cluster add up, and the label table has
        // every item.
        var s = Regex.Match(fixture.Outputs, @"(\d+) of (\d+) new items joined an existing cluster; (\d+) opened a new one\. The label table now has (\d+) rows");
        Assert.True(s.Success, "the streaming line is missing");
        Assert.Equal(100, int.Parse(s.Groups[2].Value));
        Assert.Equal(100, int.Parse(s.Groups[1].Value) + int.Parse(s.Groups[3].Value));
        Assert.Equal(250, int.Parse(s.Groups[4].Value));
    }

    [Fact]
    public void Shows_the_source_the_tables_the_pictures_the_diagnostics_the_sweep_and_the_conclusion()
    {
        string o = fixture.Outputs;
        // The parameters came from --input, and the images were embedded (the temp data folder had no cache).
        Assert.Contains("resnet18-64", o);
        Assert.Contains("Source (Computed): the first 250 images of the CIFAR-100 test split", o);
        Assert.Contains("embedded with resnet18-64 (512-d, L2-normalised; saved to the cache as", o);
        Assert.Contains("cifar100-test-n250-resnet18-64-l2", o);
        // The two tables before and after streaming, with the article's column names.
        foreach (string column in new[] { "item_id", "embeddings", "cluster_id", "cluster_center" })
            Assert.Contains(column, o);
        Assert.Contains("new items joined an existing cluster", o);
        Assert.Contains("streaming new items", o); // the progress bar
        // The two generated pictures with their computed captions.
        Assert.Contains("Failure 1: a large cluster, its centre and the eps circle", o);
        Assert.Contains("Failure 2: a crescent whose centre lies outside it", o);
        Assert.Contains("the centre lies outside the cluster", o);
        // Diagnostics for both assigners and the sweep charts.
        Assert.Contains("NearestCentroid (first within eps)", o);
        Assert.Contains("CorePoint", o);
        Assert.Contains("missed % of truth-in-old", o);
        Assert.Contains("Failure 1: missed share", o);
        Assert.Contains("Failure 2: clusters whose centre lies outside the cluster", o);
        // The conclusion is generated from the run's numbers.
        Assert.Contains("At eps = 0.4 (minSamples = 4, cosine), DBSCAN on the 150 initial items found", o);
        Assert.Contains("Across eps 0.35 to 0.45", o);
    }

    [Fact]
    public void The_diagnostics_describe_the_run_the_notebook_streamed()
    {
        string o = fixture.Outputs;
        // What the streaming cell reported for the tables the reader watched ...
        var streamed = Regex.Match(o, @"(\d+) of (\d+) new items joined an existing cluster; (\d+) opened a new one\. The label table now has (\d+) rows, the centre table (\d+)\.");
        Assert.True(streamed.Success, "the streaming cell's summary is missing");
        // ... is the NearestCentroid row of the diagnostics table (cells as text, tags removed): joined, opened, ..., centres at end.
        var cells = Regex.Split(o, "<[^>]*>").Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        int row = cells.IndexOf("NearestCentroid");
        Assert.True(row >= 0, "no NearestCentroid row in the diagnostics table");
        Assert.Equal(streamed.Groups[1].Value, cells[row + 1]);
        Assert.Equal(streamed.Groups[3].Value, cells[row + 2]);
        Assert.Equal(streamed.Groups[5].Value, cells[row + 8]);
    }

    [Fact]
    public void Its_report_records_provenance_and_passes_the_browser_check()
    {
        fixture.Run.AssertNoErrors();
        var summary = ReportChecks.AssertProvenance(fixture.Run, [
            new("eps", "0.4", "--input"), new("initItems", "150", "--input"), new("metric", "cosine", "default")]);
        ReportChecks.AssertDataRecorded(summary, Path.Combine(fixture.DataFolder, "embeddings", "cifar100-test-n250-resnet18-64-l2"));
        Assert.Contains(summary.Headlines, h => h.Name.StartsWith("DBSCAN on 150 items", StringComparison.Ordinal));
        ReportChecks.AssertPassesBrowserCheck(fixture.Run, images: 0);
    }
}
