using System.Globalization;
using System.Text.Json;
using LabelAssignment.Reporting;
using static LabelAssignment.Tests.Notebooks.NotebookFiles;
using LabelAssignment.IO;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>Runs one generated notebook (library from the local feed, parameters, .npy, chart, DataFrame, progress) once.</summary>
public sealed class DemoNotebookFixture : IDisposable
{
    /// <summary>Folder of the generated notebook and its outputs.</summary>
    public string Folder { get; } = Directory.CreateTempSubdirectory("la-notebook-").FullName;

    /// <summary>The run.</summary>
    public NotebookRun Run { get; }

    /// <summary>Parameters given on the command line.</summary>
    public const int N = 7;

    /// <summary>Parameters given on the command line.</summary>
    public const double Scale = 2.5;

    public DemoNotebookFixture()
    {
        string npy = Path.Combine(Folder, "x.npy");
        string notebook = Write(Path.Combine(Folder, "demo.ipynb"),
            Markdown("# Demo notebook\nChecks the *notebook toolchain*."),
            Code("#r \"nuget: LabelAssignment.Studies, *-*\""),
            Code("""
                 using LabelAssignment.Reporting;
                 var n = NotebookParameters.Get("n", 4);
                 var scale = NotebookParameters.Get("scale", 1.0);
                 var title = NotebookParameters.Get("title", "default title");
                 NotebookParameters.EnsureAllInputsUsed("eps"); // eps is read by #!set below
                 NotebookParameters.Used
                 """),
            Code("#!set --name eps --value @input:eps"),
            Code($$"""
                  using LabelAssignment.IO;
                  using LabelAssignment.Numerics;
                  // n x 3 matrix with values scale * (i*3 + j), written as .npy and read back.
                  var values = Enumerable.Range(0, n * 3).Select(v => (float)(scale * v)).ToArray();
                  Npy.Write(@"{{npy}}", new EmbeddingMatrix(values, n, 3));
                  var m = Npy.ReadMatrix(@"{{npy}}");
                  Console.WriteLine($"shape={m.Count}x{m.Dimension} sum={m.Data.Sum():R} eps={eps} title={title}");
                  """),
            Code("""
                 Charts.Lines(Enumerable.Range(0, n).Select(i => (double)i).ToArray(),
                     new (string, IReadOnlyList<double>)[] { ("row sums", Enumerable.Range(0, n).Select(i => (double)m.Data.Skip(3 * i).Take(3).Sum()).ToArray()) },
                     title: "row sums", xTitle: "row", yTitle: "sum")
                 """),
            Code("""
                 // A chart shown in the middle of a cell, then an image grid as the cell's value.
                 display(Charts.HistogramWithThreshold(new double[] { 0.1, 0.2, 0.2, 0.9 }, 0.5, bins: 4, title: "scores"));
                 var red = new RgbImage(Enumerable.Range(0, 4 * 4).SelectMany(_ => new byte[] { 255, 0, 0 }).ToArray(), 4, 4);
                 ImageGrid.ToHtml(new[] { red, red }, new[] { "red one", "red two" }, columns: 2)
                 """),
            Code("""
                 using Microsoft.Data.Analysis;
                 new DataFrame(new PrimitiveDataFrameColumn<int>("row", Enumerable.Range(0, n)),
                               new PrimitiveDataFrameColumn<float>("first", Enumerable.Range(0, n).Select(i => m.Row(i)[0])))
                 """),
            Code("""
                 using (var bar = ProgressDisplay.Create("demo work"))
                     for (int i = 0; i <= 4; i++) { bar.Report(i / 4.0); System.Threading.Thread.Sleep(250); }
                 """));
        Run = NotebookRunner.Run(notebook, new Dictionary<string, string>
        {
            ["n"] = N.ToString(CultureInfo.InvariantCulture),
            ["scale"] = Scale.ToString(CultureInfo.InvariantCulture),
            ["title"] = "from the command line",
            ["eps"] = "0.15",
        });
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[Collection(NotebookCollection.Name)]
public sealed class NotebookHarnessTests(DemoNotebookFixture demo) : IClassFixture<DemoNotebookFixture>
{
    [Fact]
    public void Notebook_runs_without_error_cells_and_its_table_holds_the_values_the_inputs_give()
    {
        demo.Run.AssertNoErrors();
        // The DataFrame cell: row i's first value is scale * 3i (the matrix holds scale * v, v = 0 .. 3n-1).
        string table = demo.Run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text)
            .Single(h => h.Contains("<table") && HtmlTables.Header(h).Contains("first"));
        Assert.Equal(Enumerable.Range(0, DemoNotebookFixture.N).Select(i => i.ToString(CultureInfo.InvariantCulture)), HtmlTables.Column(table, "row"));
        Assert.Equal(Enumerable.Range(0, DemoNotebookFixture.N).Select(i => DemoNotebookFixture.Scale * 3 * i),
            HtmlTables.Column(table, "first").Select(v => double.Parse(v, CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Notebook_loads_the_version_just_packed_from_the_local_feed()
    {
        demo.Run.AssertNoErrors();
        Assert.Contains(demo.Run.Outputs(), o => o.Cell == 2 && o.Text.Contains($"LabelAssignment.Studies, {NotebookRunner.PackedVersion}"));
        // Without package source mapping, prove the package came from the local feed and is the very file packed
        // (not another clone's package of the same version, not a package of that name on another source).
        var (source, hash) = NotebookRunner.RestoredFrom(NotebookRunner.PackedVersion);
        Assert.Equal(Path.GetFullPath(NotebookRunner.FeedFolder).TrimEnd('/'), Path.GetFullPath(source).TrimEnd('/'));
        string nupkg = Path.Combine(NotebookRunner.FeedFolder, $"LabelAssignment.Studies.{NotebookRunner.PackedVersion}.nupkg");
        Assert.Equal(Convert.ToBase64String(System.Security.Cryptography.SHA512.HashData(File.ReadAllBytes(nupkg))), hash);
    }

    [Fact]
    public void Inputs_reach_the_notebook_and_the_library_computes_with_them()
    {
        demo.Run.AssertNoErrors();
        // sum over v = 0 .. 3n-1 of scale * v = scale * 3n(3n-1)/2 = 2.5 * 21 * 20 / 2 = 525 (exact in float).
        float expected = (float)(DemoNotebookFixture.Scale * (3 * DemoNotebookFixture.N) * (3 * DemoNotebookFixture.N - 1) / 2);
        Assert.Equal(525f, expected);
        Assert.Contains(demo.Run.Outputs(), o => o.Type == "stream" &&
            o.Text.Contains($"shape=7x3 sum={expected.ToString("R", CultureInfo.InvariantCulture)} eps=0.15 title=from the command line"));
        // The parameters table names each parameter's source.
        Assert.Contains(demo.Run.Outputs(), o => o.Cell == 3 && o.Type == "text/html" && o.Text.Contains("--input") && o.Text.Contains("scale"));
    }

    [Fact]
    public void Chart_DataFrame_and_progress_show_as_html()
    {
        demo.Run.AssertNoErrors();
        var outputs = demo.Run.Outputs().ToList();
        Assert.Contains(outputs, o => o.Type == "text/html" && o.Text.Contains("Plotly.newPlot") && o.Text.Contains("row sums"));
        Assert.Contains(outputs, o => o.Type == "text/html" && o.Text.Contains("<table") && o.Text.Contains("first"));
        Assert.Contains(outputs, o => o.Type == "text/html" && o.Text.Contains("Plotly.newPlot") && o.Text.Contains("scores"));
        Assert.Contains(outputs, o => o.Type == "text/html" && o.Text.Contains("la-image-grid") && o.Text.Contains("red two"));
        Assert.Contains(outputs, o => o.Type == "text/html" && o.Text.Contains("la-progress") && o.Text.Contains("100% ") && o.Text.Contains("done"));
    }

    [Fact]
    public void Report_is_self_contained_and_draws_the_chart_in_headless_chromium()
    {
        demo.Run.AssertNoErrors();
        string html = Path.Combine(demo.Folder, "demo.html");
        NotebookReport.Render(demo.Run.OutputPath, html);
        string text = File.ReadAllText(html);
        Assert.Contains("<h1", text);
        Assert.Contains("<em>notebook toolchain</em>", text);
        Assert.Contains(NotebookReport.PlotlyJs[..200], text);
        Assert.DoesNotContain("Installing Packages", text);
        // One progress bar, shown once (its final frame), not once per update.
        Assert.Equal(1, CountOf(text, "class=\"la-progress\""));
        if (HeadlessChromium.Executable is null)
            return; // .ci/run installs chromium; without it the page is still checked above.
        string dom = HeadlessChromium.DumpDom(html, TimeSpan.FromSeconds(60));
        Assert.Contains("class=\"main-svg\"", dom);   // plotly drew the chart: offline, from the inlined plotly.js
        Assert.Contains("row sums", dom);
        Assert.Equal(2, CountOf(dom, "class=\"plot-container plotly\""));  // both charts drawn, one container each
        Assert.Contains("red two", dom);
    }

    static int CountOf(string text, string what)
    {
        int count = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) count++;
        return count;
    }
}

[Collection(NotebookCollection.Name)]
public sealed class NotebookErrorTests
{
    [Fact]
    public void Error_cells_are_listed_with_their_exception_and_later_cells_still_run()
    {
        string folder = Directory.CreateTempSubdirectory("la-notebook-").FullName;
        try
        {
            string notebook = Write(Path.Combine(folder, "fails.ipynb"),
                Code("Console.WriteLine(\"one\");"),
                Code("throw new InvalidOperationException(\"boom-42\");"),
                Code("Console.WriteLine(\"after\");"));
            var run = NotebookRunner.Run(notebook, format: NotebookOutputFormat.Trx);
            Assert.Equal(2, run.ExitCode);
            var error = Assert.Single(run.Errors);
            Assert.Equal(2, error.Cell);
            Assert.Contains("InvalidOperationException: boom-42", error.Message);
            var failure = Assert.Throws<Xunit.Sdk.XunitException>(run.AssertNoErrors);
            Assert.Contains("boom-42", failure.Message);
            Assert.Contains("cell 2", failure.Message);
            Assert.Contains("after", File.ReadAllText(run.OutputPath));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

[Collection(NotebookCollection.Name)]
public sealed class HeadlessStopTests
{
    [Fact]
    public void With_the_library_loaded_a_failed_cell_stops_the_run_and_the_error_and_every_cell_time_reach_stderr()
    {
        string folder = Directory.CreateTempSubdirectory("la-notebook-").FullName;
        try
        {
            string notebook = Write(Path.Combine(folder, "stops.ipynb"),
                Markdown("# Stops\n## First part"),
                Code("#r \"nuget: LabelAssignment.Studies, *-*\""),
                Code("Console.WriteLine(\"one\");"),
                Markdown("## Second part"),
                Code("throw new InvalidOperationException(\"boom-77\");"),
                Code("Console.WriteLine(\"after\");"));
            var run = NotebookRunner.Run(notebook);
            Assert.Equal(2, run.ExitCode);
            var error = Assert.Single(run.Errors);
            Assert.Equal(5, error.Cell);
            Assert.Contains("boom-77", error.Message);
            var outputs = run.Outputs();
            Assert.Contains(outputs, o => o.Cell == 3 && o.Type == "stream" && o.Text.Contains("one"));
            // The cell after the failure did not run: no "after", the note instead.
            Assert.DoesNotContain(outputs, o => o.Text.Contains("after\n") && o.Type == "stream");
            Assert.Contains(outputs, o => o.Cell == 6 && o.Text.Contains("Not run: cell 5 failed"));
            // One line per cell on stderr, with its section; the failure with its message.
            Assert.Contains("stops: cell 2/6  kernel start and package restore:", run.StdErr);
            Assert.Matches(@"stops: cell 3/6  First part \.\.\. \d+\.\d s \(notebook \d+ s\)", run.StdErr);
            Assert.Contains("stops: cell 5/6  Second part ... FAILED after", run.StdErr);
            Assert.Contains("InvalidOperationException: boom-77", run.StdErr);
            Assert.DoesNotContain("cell 6/6", run.StdErr);
            // The report says where it failed.
            string html = Path.Combine(folder, "stops.html");
            NotebookReport.Render(run.OutputPath, html);
            Assert.Contains("This run failed at cell 5:", File.ReadAllText(html));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
