using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LabelAssignment.Embedding;
using LabelAssignment.Numerics;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

/// <summary>
/// Provenance's static state (cell tracking, recorded data) is process-wide: these tests never run in parallel with
/// each other, and each starts from <see cref="Provenance.ResetForTests"/>.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProvenanceCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Provenance";
}

[Collection(ProvenanceCollection.Name)]
public sealed class ProvenanceTests
{
    static JsonObject Markdown(string text) => new() { ["cell_type"] = "markdown", ["source"] = text };

    static JsonObject Code(string source, params JsonObject[] outputs) => new()
    {
        ["cell_type"] = "code",
        ["source"] = source,
        ["outputs"] = new JsonArray(outputs.Select(o => (JsonNode)o).ToArray()),
    };

    static JsonObject Html(string html) => new() { ["output_type"] = "display_data", ["data"] = new JsonObject { ["text/html"] = html } };

    static string NotebookJson(params JsonObject[] cells) =>
        new JsonObject { ["cells"] = new JsonArray(cells.Select(c => (JsonNode)c).ToArray()), ["nbformat"] = 4 }.ToJsonString();

    [Fact]
    public void Cell_tracking_names_each_cell_and_its_section_times_it_and_stops_after_a_failure()
    {
        string folder = TestPaths.NewTempFolder();
        try
        {
            string path = Path.Combine(folder, "demo.ipynb");
            File.WriteAllText(path, NotebookJson(
                Markdown("# Demo\ntext"),
                Code("#r \"nuget: LabelAssignment.Studies, *-*\""),
                Markdown("## Load\nno heading below"),
                Markdown("plain text, not a heading"),
                Code("var a = 1;"),
                Code("throw new Exception();"),
                Markdown("## Later"),
                Code("var b = 2;")));
            var writer = new StringWriter();
            Provenance.ResetForTests(path, writer);
            Assert.True(Provenance.Headless);
            var setup = Provenance.StartCellTracking();
            Assert.NotNull(setup);
            Assert.Contains("\"cell\":2", setup.Html);   // the #r cell: kernel start and restore

            Assert.True(Provenance.CellStarting("markdown", "## Load\nno heading below"));
            Assert.Null(Provenance.CellFinished(false, null));   // markdown: not timed
            Assert.True(Provenance.CellStarting("csharp", "var a = 1;\r\n"));   // line ends and trailing space do not matter
            Thread.Sleep(30);
            var bar = Provenance.ProgressLines("embedding");
            var quick = Provenance.ProgressLines("quick");
            quick(new ProgressState("quick", 0.5, TimeSpan.FromSeconds(0.5), false));   // in its first 2 s: quiet
            quick(new ProgressState("quick", 1, TimeSpan.FromSeconds(1), true));        // and so is its end
            bar(new ProgressState("embedding", 0.05, TimeSpan.FromSeconds(1), false));   // first 2 s: not printed
            bar(new ProgressState("embedding", 0.15, TimeSpan.FromSeconds(2.5), false));
            bar(new ProgressState("embedding", 0.17, TimeSpan.FromSeconds(2.7), false));   // same tenth: not printed
            bar(new ProgressState("embedding", 1, TimeSpan.FromSeconds(3), false));        // 100% before the end: not printed
            bar(new ProgressState("embedding", 1, TimeSpan.FromSeconds(3), true));
            var block = Provenance.CellFinished(false, null);
            Assert.NotNull(block);
            Assert.True(Provenance.CellStarting("csharp", "throw new Exception();"));
            Provenance.CellFinished(true, "System.Exception: boom\n   at line 1");
            Assert.False(Provenance.CellStarting("markdown", "## Later"));
            Assert.False(Provenance.CellStarting("csharp", "var b = 2;"));   // not run after the failure
            Assert.Contains("cell 6 failed", Provenance.SkippedNote().Html);

            var cells = Provenance.Cells;
            Assert.Equal([2, 5, 6], cells.Select(c => c.Cell));
            Assert.All(cells, c => Assert.Equal(8, c.Of));
            Assert.Equal(["Demo", "Load", "Load"], cells.Select(c => c.Section));
            Assert.Equal([false, false, true], cells.Select(c => c.Failed));
            Assert.InRange(cells[1].Seconds, 0.03, 10);
            string log = writer.ToString();
            // The progress lines broke cell 5's line, so its time comes on a line that names it again.
            Assert.Contains("demo: cell 5/8  Load ... \n      embedding: 15% (2.5 s)\n      embedding: 100% (3.0 s) done\n  demo: cell 5/8  done: ", log.Replace("\r\n", "\n"));
            Assert.DoesNotContain("quick", log);
            Assert.Contains("demo: cell 6/8  Load ... FAILED after", log);
            Assert.Contains("System.Exception: boom", log);
            Assert.Contains("later cells are not run", log);
            Assert.DoesNotContain("cell 8/8", log);
        }
        finally
        {
            Provenance.ResetForTests();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Outside_a_headless_run_nothing_is_timed_and_every_cell_runs()
    {
        Provenance.ResetForTests(run: null, writer: new StringWriter());
        Assert.False(Provenance.Headless);
        Assert.Null(Provenance.StartCellTracking());
        Assert.True(Provenance.CellStarting("csharp", "x"));
        Assert.Null(Provenance.CellFinished(true, "boom"));
        Assert.True(Provenance.CellStarting("csharp", "y"));
        Assert.Empty(Provenance.Cells);
        Provenance.ResetForTests();
    }

    [Fact]
    public void A_cache_entry_read_or_written_is_recorded_with_the_SHA256_of_its_vectors()
    {
        string data = TestPaths.NewTempFolder();
        try
        {
            Provenance.ResetForTests(run: null, writer: new StringWriter());
            Provenance.Listen();
            var key = new EmbeddingCacheKey("cifar100", "test", 3, "toy-l2");
            var set = new EmbeddingSet(new EmbeddingMatrix([1, 0, 0, 1, 0.6f, 0.8f], 3, 2), [10, 11, 12], [0, 1, 1]);
            EmbeddingCache.Save(data, key, set, "42:abc");
            Assert.NotNull(EmbeddingCache.TryLoad(data, key));
            Assert.Null(EmbeddingCache.TryLoad(data, key with { SampleCount = 4 }));   // absent: not recorded

            // Reference: the SHA-256 of the X.npy bytes on disk, as `sha256sum X.npy` prints it.
            string x = Path.Combine(EmbeddingCache.FolderOf(data, key), "X.npy");
            string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(x)))[..16];
            // Other tests may load cache entries meanwhile: look at this entry only.
            var recorded = Provenance.Data.Where(d => d.Entry == key.FolderName).ToArray();
            Assert.Equal(2, recorded.Length);   // written, then read
            Assert.Equal([false, true], recorded.Select(d => d.FromCache));
            Assert.All(recorded, d =>
            {
                Assert.Equal(("cifar100", "test", 3, "toy-l2", 2), (d.Dataset, d.Split, d.Count, d.Model, d.Dimension));
                Assert.Equal("42:abc", d.ModelFingerprint);
                Assert.Equal("cifar100-test-n3-toy-l2", d.Entry);
                Assert.Equal(sha, d.ContentSha256);
            });
        }
        finally
        {
            Provenance.ResetForTests();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void The_summary_reads_run_cells_data_and_headlines_and_sums_sections()
    {
        var run = new RunRecord("nb", "2026-01-01T10:00:00.0000000Z",
            new LibraryBuild("0.1.0-dev.1", "abcdef0123456789", true, 3, "2026-01-01T09:59:00Z", "0.1.0-dev.1"),
            new MachineInfo(2, "cpu", "os", ".NET 10", "0.5 0.4 0.3"),
            [new NotebookParameter("eps", "0.2", "--input"), new NotebookParameter("k", "100", "default")]);
        var d1 = new DataProvenance("cifar100", "test", 100, "resnet18", 512, "1:aa", "0123456789abcdef", "cifar100-test-n100-resnet18", true);
        string Cell(int cell, string section, double seconds, string ended, bool failed, params DataProvenance[] data) =>
            Provenance.MetaBlock("cell", new { Cell = cell, Of = 6, Section = section, Seconds = seconds, EndedUtc = ended, Failed = failed, Data = data });
        string json = NotebookJson(
            Markdown("# The title\nintro"),
            Code("#r", Html(Cell(2, "The title", 20.5, "2026-01-01T10:00:20.5Z", false))),
            Code("Provenance.Show()", Html("<p>card</p>" + Provenance.MetaBlock("run", run)), Html(Cell(3, "The title", 0.25, "2026-01-01T10:00:20.75Z", false))),
            Markdown("## Load"),
            Code("load", Html(Cell(5, "Load", 4.0, "2026-01-01T10:00:24.75Z", false, d1))),
            Code("Headlines.Show(...)", Html(Provenance.MetaBlock("headlines", new { Items = new[] { new HeadlineNumber("match rate", "36.0%") }, Data = new[] { d1 }, Cells = Array.Empty<CellTiming>(), EndedUtc = "2026-01-01T10:00:25Z" })),
                Html(Cell(6, "Load", 0.5, "2026-01-01T10:00:25.0Z", false))));
        using var doc = JsonDocument.Parse(json);
        var s = ReportMeta.Read(doc.RootElement, "fallback");
        Assert.Equal("The title", s.Title);
        Assert.Equal(run.Library, s.Run!.Library);
        Assert.Equal(run.Parameters, s.Run.Parameters);
        Assert.Equal([2, 3, 5, 6], s.Cells.Select(c => c.Cell));
        Assert.Equal([d1], s.Data);   // recorded twice (cell block, headline block), listed once
        Assert.Equal([new HeadlineNumber("match rate", "36.0%")], s.Headlines);
        Assert.Null(s.FirstError);
        Assert.Equal(25.0, s.DurationSeconds);   // 10:00:00 to 10:00:25
        // Sections: The title = 20.5 + 0.25, Load = 4.0 + 0.5.
        Assert.Equal([new SectionTiming("The title", 20.75, 2), new SectionTiming("Load", 4.5, 2)], s.Sections);

        string html = NotebookReport.RenderHtml(json, "nb");
        Assert.Contains("<div class=\"n\">[5] 4.0 s</div>", html);
        Assert.Contains("id=\"provenance\"", html);
        Assert.Contains("cifar100-test-n100-resnet18", html);
        Assert.Contains("0123456789abcdef", html);
        Assert.Contains("<td>Load</td><td>2</td><td>4.5</td>", html);
        Assert.Contains("<strong>36.0%</strong>", html);
        Assert.Contains("commit abcdef012345, dirty", html);
        // Outputs that are nothing but hidden blocks are left out; the card stays.
        Assert.Equal(1, html.Split("<div class=\"out\">").Length - 1);
        Assert.Contains("<p>card</p>", html);
    }

    [Fact]
    public void A_damaged_block_is_skipped_and_a_failed_cell_is_reported()
    {
        string json = NotebookJson(
            Markdown("# T"),
            Code("a", Html("<script type=\"application/vnd.labelassignment.run+json\">{not json</script>")),
            Code("b", new JsonObject { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = "System.Exception: boom" }));
        using var doc = JsonDocument.Parse(json);
        var s = ReportMeta.Read(doc.RootElement, "t");
        Assert.Null(s.Run);
        Assert.Equal(new ReportError(3, "Error: System.Exception: boom"), s.FirstError);
        Assert.Null(s.DurationSeconds);
        string html = NotebookReport.RenderHtml(json, "t");
        Assert.Contains("This run failed at cell 3:", html);
        Assert.Contains("recorded no provenance", html);
    }

    [Fact]
    public void Hidden_blocks_cannot_end_their_script_element()
    {
        string block = Provenance.MetaBlock("run", new { Text = "</script><b>x</b>" });
        Assert.Equal(1, block.Split("</script>").Length - 1);
        var (kind, json) = Assert.Single(ReportMeta.Blocks(block));
        Assert.Equal("run", kind);
        Assert.Equal("</script><b>x</b>", JsonDocument.Parse(json).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void Charts_are_marked_and_counted_for_the_browser_check()
    {
        string chart = "<div id=\"c\"></div><script>require(['plotly'], function(Plotly){ Plotly.newPlot('c', [], {}); });</script>";
        string html = NotebookReport.RenderHtml(NotebookJson(Markdown("# T"), Code("a", Html(chart), Html("<p>not a chart</p>")), Code("b", Html(chart))), "t");
        Assert.Contains("<meta name=\"la-charts\" content=\"2\">", html);
        Assert.Equal(2, html.Split("<div class=\"out la-chart\">").Length - 1);
        // The error collector is the first script, before plotly.js.
        Assert.True(html.IndexOf("window.__laErrors=[]", StringComparison.Ordinal) < html.IndexOf("window.requirejs=r", StringComparison.Ordinal));
    }

    [Fact]
    public void Headline_values_are_formatted_invariantly()
    {
        Assert.Equal("0.3612", Headlines.Format(0.361234));
        Assert.Equal("12", Headlines.Format(12));
        Assert.Equal("36.0%", Headlines.Format("36.0%"));
        var shown = Headlines.Show(("match rate", 0.5), ("clusters", 148));
        Assert.Contains("<td>match rate</td><td><strong>0.5</strong></td>", shown.Html);
        var (kind, _) = Assert.Single(ReportMeta.Blocks(shown.Html));
        Assert.Equal("headlines", kind);
        Assert.Throws<ArgumentException>(() => Headlines.Show(("", 1)));
    }

    [Fact]
    public void The_index_has_a_card_per_report_with_parameters_duration_headlines_check_and_link()
    {
        var run = new RunRecord("2.remap", "2026-01-01T10:00:00Z", new LibraryBuild("0.1.0-dev.7", "0123456789abcdef", false, 0, null, null),
            new MachineInfo(2, "cpu", "os", ".NET 10", null), [new NotebookParameter("k", "100", "--input"), new NotebookParameter("seed", "1", "default")]);
        var ok = new ReportSummary("2. Remap", run, [], [], [new HeadlineNumber("match rate, sample overlap", "83.4%")], null, 125.0);
        var bad = new ReportSummary("3. Nearest <x>", run, [], [], [], new ReportError(7, "Error: boom"), 12.0);
        var check = new BrowserCheckResult("2.remap.html", 9, 9, 9, 30, 30, [], 5000, "2.remap.png");
        string html = ReportIndex.Render([new IndexEntry("2.remap.html", ok, check), new IndexEntry("3.nearest.html", bad, null)]);
        Assert.Equal(2, html.Split("<article class=\"card").Length - 1);
        Assert.Contains("<a href=\"2.remap.html\">2. Remap</a>", html);
        Assert.Contains("3. Nearest &lt;x&gt;", html);
        Assert.Contains("ran in 2 min 05 s", html);
        Assert.Contains("--input <code>k=100</code>", html);
        Assert.Contains("<strong>83.4%</strong>", html);
        Assert.Contains("ok: 9 charts drawn, 30 images rendered, no script error", html);
        Assert.Contains("src=\"2.remap.png\"", html);
        Assert.Contains("failed at cell 7", html);
        Assert.Contains("Error: boom", html);
        Assert.Contains("wall time 2 min 17 s", html);   // 125 + 12
    }

    [Fact]
    public void A_check_result_names_each_problem()
    {
        var r = new BrowserCheckResult("r.html", 3, 3, 2, 4, 3, ["TypeError: x is undefined"], 100, null);
        Assert.False(r.Passed);
        Assert.Equal(["1 of 3 charts drew no SVG", "1 of 4 images did not render", "script error: TypeError: x is undefined"], r.Problems);
        Assert.Contains("2 chart outputs in the page, the renderer wrote 3", (r with { Charts = 2 }).Problems);
        Assert.True((r with { ChartsDrawn = 3, ImagesRendered = 4, Errors = [] }).Passed);
    }
}
