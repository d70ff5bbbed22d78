using System.Text.Json;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>
/// Runs notebooks/3.nearest.ipynb headless once on a small input: 250 real CIFAR-100 test images embedded with the
/// packaged ResNet18 at 64x64 (fast) into a temporary data folder, a three-value eps sweep.
/// </summary>
public sealed class NearestNotebookFixture
{
    /// <summary>The run.</summary>
    public NotebookRun Run { get; }

    /// <summary>Everything the executed notebook shows, as one string (outputs of all cells).</summary>
    public string Outputs { get; }

    public NearestNotebookFixture()
    {
        string data = Directory.CreateTempSubdirectory("la-nearest-data-").FullName;
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
}

[Collection(NotebookCollection.Name)]
public class NearestNotebookTests(NearestNotebookFixture fixture) : IClassFixture<NearestNotebookFixture>
{
    [Fact]
    public void Runs_headless_on_a_small_input_without_an_error_cell() => fixture.Run.AssertNoErrors();

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
}
