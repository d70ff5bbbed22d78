using System.Globalization;
using System.Text.Json;
using LabelAssignment.Numerics;
using LabelAssignment.IO;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>Runs notebooks/2.remap.ipynb headless once, on well-separated blobs written to a .npy file.</summary>
public sealed class RemapNotebookFixture : IDisposable
{
    /// <summary>Folder of the input and the executed notebook.</summary>
    public string Folder { get; } = Directory.CreateTempSubdirectory("la-remap-notebook-").FullName;

    /// <summary>The run.</summary>
    public NotebookRun Run { get; }

    /// <summary>Clusters in the blobs (and k).</summary>
    public const int K = 6;

    /// <summary>The input: row i belongs to blob i % K.</summary>
    public EmbeddingMatrix Blobs { get; }

    public RemapNotebookFixture()
    {
        // K blobs, 40 items each, in 16-D: centres 10 apart on average, spread 0.05. Any sane clustering finds the
        // blobs, so both days' partitions agree on every shared item and every measure must keep every ID.
        var rng = new Random(2024);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        const int d = 16, perBlob = 40;
        var centres = Enumerable.Range(0, K).Select(_ => Enumerable.Range(0, d).Select(_ => 10 * Gauss()).ToArray()).ToArray();
        var data = new float[K * perBlob * d];
        for (int i = 0; i < K * perBlob; i++)
            for (int j = 0; j < d; j++)
                data[i * d + j] = (float)(centres[i % K][j] + 0.05 * Gauss());
        string npy = Path.Combine(Folder, "blobs.npy");
        Blobs = new EmbeddingMatrix(data, K * perBlob, d);
        Npy.Write(npy, Blobs);
        Run = NotebookRunner.Run(Path.Combine(NotebookRunner.RepoRoot, "notebooks", "2.remap.ipynb"),
            new Dictionary<string, string>
            {
                ["npy"] = npy,
                ["k"] = K.ToString(CultureInfo.InvariantCulture),
                ["samples"] = "0",
                ["nInit"] = "2",
                // Sections 6 and 7 kept small: every row, k = the blobs, 3 days, a synthetic drift on day 2.
                ["articleSamples"] = "0",
                ["articleK"] = K.ToString(CultureInfo.InvariantCulture),
                ["days"] = "3",
                ["studySamples"] = "0",
                ["studyK"] = K.ToString(CultureInfo.InvariantCulture),
                ["studyNInit"] = "2",
                ["change"] = "synthetic",
                ["changeDays"] = "2",
                ["driftAngle"] = "0.05",
                ["driftNoise"] = "0.01",
            },
            outputPath: Path.Combine(Folder, "2.remap.ipynb"),
            // Two halves now (the article's size and the multi-day study, both on the 240 blobs): more than the
            // runner's 3 minutes on a loaded 2-core machine.
            timeout: TimeSpan.FromMinutes(10));
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[Collection(NotebookCollection.Name)]
public sealed class RemapNotebookTests(RemapNotebookFixture fixture) : IClassFixture<RemapNotebookFixture>
{
    [Fact]
    public void Runs_headless_and_the_fit_table_shows_the_inertia_of_the_blobs_recomputed_from_the_input()
    {
        fixture.Run.AssertNoErrors();
        // The blobs are far apart, so every fit finds them: its inertia is the sum of squared distances of the rows
        // to their blob's mean, computed here in double from the input the test wrote.
        var x = fixture.Blobs;
        int k = RemapNotebookFixture.K, n = x.Count, d = x.Dimension;
        var mean = new double[k, d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[i % k, j] += x.Row(i)[j] / (double)(n / k);
        double inertia = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) inertia += Math.Pow(x.Row(i)[j] - mean[i % k, j], 2);
        string table = fixture.Run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text).Single(h => h.Contains("inertiaYesterday"));
        Assert.Equal("same items, another seed", HtmlTables.Column(table, "experiment")[0]);
        // All 240 items on both days, and both days' inertia, shown to 3 decimals.
        Assert.Equal([$"{n}", $"{n}", $"{n}"], new[] { "itemsYesterday", "itemsToday", "shared" }.Select(c => HtmlTables.Column(table, c)[0]));
        foreach (string column in new[] { "inertiaYesterday", "inertiaToday" })
            Assert.Equal(inertia, double.Parse(HtmlTables.Column(table, column)[0], CultureInfo.InvariantCulture), 6e-4);
    }

    [Fact]
    public void Shows_the_source_the_metrics_table_and_the_charts()
    {
        fixture.Run.AssertNoErrors();
        var html = fixture.Run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text).ToList();
        Assert.Contains(html, h => h.Contains("Embeddings used:") && h.Contains("blobs.npy") && h.Contains("240 items"));
        Assert.Contains(html, h => h.Contains("<table") && h.Contains("matchRateAfter") && h.Contains("centroid distance") && h.Contains("retired"));
        int charts = html.Count(h => h.Contains("Plotly.newPlot"));
        Assert.Equal(9, charts);   // two pair plots, two histograms, one side-by-side sweep; study: three days charts, one threshold sweep
        Assert.Contains(html, h => h.Contains("Plotly.newPlot") && h.Contains("Kept IDs and match rate as the threshold moves"));
        Assert.Contains(html, h => h.Contains("Plotly.newPlot") && h.Contains("kept their ID (lines)"));
    }

    [Fact]
    public void The_conclusion_states_what_the_blobs_must_give()
    {
        fixture.Run.AssertNoErrors();
        string conclusion = fixture.Run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text)
            .Single(h => h.Contains("items on both days"));
        // Same partition on both days: ARI 1, every ID kept by both measures, every shared item keeps its ID.
        Assert.Contains("agree almost completely (ARI 1.000, AMI 1.000", conclusion);
        Assert.Equal(2, conclusion.Split("after remapping, 100.0% by sample overlap and 100.0% by centroid distance").Length - 1);
        Assert.Contains($"sample overlap kept {RemapNotebookFixture.K} of {RemapNotebookFixture.K} IDs, created 0 and retired 0", conclusion, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"centroid distance kept {RemapNotebookFixture.K} of {RemapNotebookFixture.K} IDs, created 0 and retired 0", conclusion);
        Assert.DoesNotContain("did not raise", conclusion);
        Assert.Contains("The two measures kept about the same share of items.", conclusion);
    }

    [Fact]
    public void The_article_size_table_and_the_multi_day_study_state_what_the_blobs_must_give()
    {
        fixture.Run.AssertNoErrors();
        var html = fixture.Run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text).ToList();
        int k = RemapNotebookFixture.K;
        // Article-size table: the article's figures beside this run's; the blobs keep every ID with ARI 1.
        string article = html.Single(h => h.Contains("<table") && h.Contains("articleBlip2"));
        Assert.Contains("43 of 100", article);
        Assert.Contains("0.8336", article);
        Assert.Contains($"{k} of {k}", article);
        Assert.Contains("1.0000", article);
        // The plan: 240 items, day 0 = floor(240 / 1.2) = 200, then 20 leave and 20 arrive each day.
        Assert.Contains(html, h => h.Contains("<table") && h.Contains("arrived") && h.Contains("drift 1"));
        Assert.Contains(html, h => h.Contains("**Day 2**") || h.Contains("<strong>Day 2</strong> (200 items, 20 left, 20 arrived)"));
        string conclusion = html.Single(h => h.Contains("IDs whose meaning changed"));
        // Clear blobs: the overlap remap keeps every shared item on its ID; frozen centres never create an ID.
        Assert.Matches(@"retrain \+ overlap remap( kept the most items on yesterday's ID \(mean match rate | )100\.0%", conclusion);
        Assert.Matches(@"IDs created over the run: [^\n]*frozen centres 0[,.]", conclusion);
        Assert.Contains("100.0% of day 0's remaining items", conclusion);
        Assert.Contains("(day 2)", conclusion);
    }

    [Fact]
    public void Its_report_records_provenance_and_passes_the_browser_check()
    {
        fixture.Run.AssertNoErrors();
        var summary = ReportChecks.AssertProvenance(fixture.Run, [new("k", "6", "--input"), new("seedYesterday", "1", "default")]);
        // The blobs came from a .npy file: recorded with the SHA-256 of that file.
        var npy = Assert.Single(summary.Data);
        Assert.Equal(("blobs.npy", 240, 16), (npy.Entry, npy.Count, npy.Dimension));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(fixture.Folder, "blobs.npy"))))[..16], npy.ContentSha256);
        // Every ID kept on the blobs (see the conclusion test): the headline says 100%.
        Assert.Contains(summary.Headlines, h => h.Name.StartsWith("match rate, sample overlap", StringComparison.Ordinal) && h.Value.StartsWith("100.0% (6 of 6", StringComparison.Ordinal));
        ReportChecks.AssertPassesBrowserCheck(fixture.Run, images: 0);
    }
}
