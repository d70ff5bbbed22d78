using System.Text.Json.Nodes;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class NotebookReportTests
{
    static string Notebook(params JsonObject[] cells) =>
        new JsonObject { ["cells"] = new JsonArray(cells.Select(c => (JsonNode)c).ToArray()), ["nbformat"] = 4 }.ToJsonString();

    static JsonObject Code(string source, params JsonObject[] outputs) => new()
    {
        ["cell_type"] = "code",
        ["source"] = new JsonArray(source.Split((char)10).Select(l => (JsonNode)(l + "\n")).ToArray()),
        ["outputs"] = new JsonArray(outputs.Select(o => (JsonNode)o).ToArray()),
    };

    static JsonObject Html(string html) => new()
    {
        ["output_type"] = "display_data",
        ["data"] = new JsonObject { ["text/html"] = html },
    };

    [Fact]
    public void Renders_markdown_code_streams_errors_and_html()
    {
        string html = NotebookReport.RenderHtml(Notebook(
            new JsonObject { ["cell_type"] = "markdown", ["source"] = "# Title\n| a | b |\n|---|---|\n| 1 | 2 |" },
            Code("var x = 1 < 2;",
                new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = new JsonArray("x=\u001b[31mTrue\u001b[0m\n") },
                new JsonObject { ["output_type"] = "execute_result", ["data"] = new JsonObject { ["text/plain"] = "<plain>" } },
                Html("<b id=\"kept\">bold</b>"),
                new JsonObject { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = "boom", ["traceback"] = new JsonArray() })),
            "report <1>");
        Assert.Contains("<title>report &lt;1&gt;</title>", html);
        Assert.Contains("<h1 id=\"title\">Title</h1>", html);
        Assert.Contains("<table>", html);                       // pipe tables (advanced extensions)
        Assert.Contains("var x = 1 &lt; 2;", html);
        Assert.Contains("x=True", html);                        // ANSI colours stripped
        Assert.Contains("&lt;plain&gt;", html);
        Assert.Contains("<b id=\"kept\">bold</b>", html);
        Assert.Contains("Error: boom", html);
        Assert.Contains("class=\"cell err\"", html);
        Assert.DoesNotContain(NotebookReport.PlotlyJs[..100], html); // no chart, no 3.5 MB of plotly.js
    }

    [Fact]
    public void Inlines_plotly_and_the_require_shim_when_a_chart_is_present()
    {
        string chart = Charts.ToNotebookHtml(Charts.Lines([1.0, 2], [("s", [1.0, 2])]));
        string html = NotebookReport.RenderHtml(Notebook(Code("chart", Html(chart))), "r");
        Assert.True(NotebookReport.PlotlyJs.Length > 1_000_000);
        Assert.Contains(NotebookReport.PlotlyJs[..200], html);
        Assert.True(html.IndexOf("window.requirejs=r", StringComparison.Ordinal) < html.IndexOf("<main>", StringComparison.Ordinal));
        // The inlined script must not close its <script> element early.
        Assert.DoesNotContain("</script", NotebookReport.PlotlyJs, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Keeps_only_the_last_frame_of_package_installs_and_progress_bars()
    {
        string Bar(double f) => new ProgressState("embed", f, TimeSpan.Zero, f >= 1).ToHtml().Html;
        string html = NotebookReport.RenderHtml(Notebook(Code("x",
            Html("<div><strong>Installing Packages</strong><ul><li>LabelAssignment...</li></ul></div>"),
            Html("<div><strong>Installed Packages</strong><ul><li>LabelAssignment, 0.1.0</li></ul></div>"),
            new JsonObject
            {
                ["output_type"] = "display_data",
                ["data"] = new JsonObject { ["text/plain"] = "Loading extension script from `/home/x/.nuget/packages/labelassignment/extension.dib`" },
            },
            Html(Bar(0)), Html(Bar(0.5)), Html(Bar(1)),
            Html(new ProgressState("other", 0.3, TimeSpan.Zero, false).ToHtml().Html))), "r");
        Assert.DoesNotContain("Installing Packages", html);
        Assert.Contains("Installed Packages", html);
        Assert.DoesNotContain("Loading extension", html);
        Assert.Equal(2, html.Split("class=\"la-progress\"").Length - 1);
        Assert.Contains("value=\"1\"", html);
        Assert.DoesNotContain("value=\"0.5\"", html);
        Assert.Contains("other", html);
    }

    [Fact]
    public void Render_writes_the_file_and_names_a_file_that_is_not_a_notebook()
    {
        string folder = Directory.CreateTempSubdirectory("la-report-").FullName;
        try
        {
            string ipynb = Path.Combine(folder, "a.ipynb");
            File.WriteAllText(ipynb, Notebook(Code("1+1", new JsonObject
            {
                ["output_type"] = "execute_result",
                ["data"] = new JsonObject { ["text/plain"] = "2" },
            })));
            string html = Path.Combine(folder, "out", "a.html");
            NotebookReport.Render(ipynb, html);
            Assert.Contains("<pre>2</pre>", File.ReadAllText(html));
            Assert.Empty(Directory.GetFiles(Path.Combine(folder, "out"), "*.tmp"));

            string bad = Path.Combine(folder, "bad.ipynb");
            File.WriteAllText(bad, "{\"cells\": 3}");
            var e = Assert.Throws<InvalidDataException>(() => NotebookReport.Render(bad, html));
            Assert.Contains("bad.ipynb", e.Message);
            File.WriteAllText(bad, "not json");
            Assert.Contains("bad.ipynb", Assert.Throws<InvalidDataException>(() => NotebookReport.Render(bad, html)).Message);
            Assert.Contains("<pre>2</pre>", File.ReadAllText(html)); // the old report is untouched
            Assert.Throws<FileNotFoundException>(() => NotebookReport.Render(Path.Combine(folder, "none.ipynb"), html));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
