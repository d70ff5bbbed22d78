using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Markdig;
using LabelAssignment.IO;

namespace LabelAssignment.Reporting;

/// <summary>
/// Renders an executed notebook (.ipynb, as dotnet-repl or VS Code writes it) into one self-contained HTML file
/// that works offline: markdown cells through Markdig, code cells with their text, HTML, image and error outputs,
/// and Plotly charts drawn by the plotly.js embedded in Plotly.NET.dll, inlined once, with a tiny stand-in for
/// require.js (the notebook markup loads plotly.js through require.js from a CDN).
/// </summary>
public static partial class NotebookReport
{
    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
    static readonly Lazy<string> PlotlyJsText = new(LoadPlotlyJs);

    /// <summary>Renders <paramref name="ipynbPath"/> to <paramref name="htmlPath"/> (written atomically).</summary>
    /// <exception cref="InvalidDataException">The file is not a notebook (names the file).</exception>
    public static void Render(string ipynbPath, string htmlPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(ipynbPath);
        ArgumentException.ThrowIfNullOrEmpty(htmlPath);
        if (!File.Exists(ipynbPath))
            throw new FileNotFoundException($"notebook '{ipynbPath}' does not exist.", ipynbPath);
        string html;
        try
        {
            html = RenderHtml(File.ReadAllText(ipynbPath), Path.GetFileNameWithoutExtension(ipynbPath));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{ipynbPath}' is not a notebook: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"'{ipynbPath}': {e.Message}", e);
        }
        AtomicFile.WriteAllText(htmlPath, html);
    }

    /// <summary>The report's HTML for a notebook given as .ipynb JSON text.</summary>
    public static string RenderHtml(string ipynbJson, string title)
    {
        ArgumentNullException.ThrowIfNull(ipynbJson);
        ArgumentNullException.ThrowIfNull(title);
        using var doc = JsonDocument.Parse(ipynbJson);
        if (doc.RootElement.ValueKind != JsonValueKind.Object ||
            !doc.RootElement.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("no \"cells\" array at the top level: not an .ipynb notebook.");

        var summary = ReportMeta.Read(doc.RootElement, title);
        var body = new StringBuilder();
        int index = 0, charts = 0;
        bool summaryShown = false;
        foreach (var cell in cells.EnumerateArray())
        {
            index++;
            string type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() ?? "" : "";
            string source = cell.TryGetProperty("source", out var s) ? JoinText(s) : "";
            if (type == "markdown")
                body.Append("<section class=\"md\">").Append(Markdig.Markdown.ToHtml(source, Markdown)).Append("</section>\n");
            else if (type == "code")
                charts += AppendCodeCell(body, index, source, cell, summary.CellAt(index));
            else if (type == "raw")
                body.Append("<pre class=\"raw\">").Append(WebUtility.HtmlEncode(source)).Append("</pre>\n");
            // The run at a glance right under the title cell: headline numbers, duration, the first error.
            if (!summaryShown && type == "markdown")
            {
                body.Append(RunSummaryHtml(summary));
                summaryShown = true;
            }
        }
        body.Append(ProvenanceHtml(summary));

        string content = body.ToString();
        bool plotly = content.Contains("Plotly.newPlot", StringComparison.Ordinal);
        var html = new StringBuilder(content.Length + (plotly ? PlotlyJsText.Value.Length : 0) + 8192);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
            .Append(WebUtility.HtmlEncode(title)).Append("</title>\n")
            .Append("<meta name=\"la-charts\" content=\"").Append(charts).Append("\">\n")
            .Append("<script type=\"text/javascript\">").Append(ErrorCollector).Append("</script>\n")
            .Append("<style>").Append(Css).Append("</style>\n");
        if (plotly)
        {
            html.Append("<script type=\"text/javascript\">").Append(PlotlyJsText.Value).Append("</script>\n");
            html.Append("<script type=\"text/javascript\">").Append(RequireShim).Append("</script>\n");
        }
        html.Append("</head><body>\n<main>\n").Append(content).Append("</main>\n")
            .Append("<script type=\"text/javascript\">").Append(SelfCheck).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    /// <summary>Name of the attribute of the page's root element where its self-check writes its JSON result.</summary>
    public const string CheckAttribute = "data-la-check";

    // First script of the page: records every script error and failed resource, before any other script runs.
    const string ErrorCollector =
        "window.__laErrors=[];window.addEventListener('error',function(e){var t=e.target;" +
        "window.__laErrors.push(t&&t!==window&&t.tagName?('resource '+t.tagName+' '+(t.src||t.href||'')).slice(0,200):String(e.message||e.error||'error'));},true);" +
        "window.addEventListener('unhandledrejection',function(e){window.__laErrors.push('unhandled rejection: '+String(e.reason));});";

    // After load: every chart output holds plotly's SVG, every image decoded, no error; the result goes into an
    // attribute of <html>, so `chromium --dump-dom` shows it (HeadlessBrowser.Check reads it).
    const string SelfCheck =
        "window.addEventListener('load',function(){setTimeout(function(){" +
        "var c=document.querySelectorAll('.la-chart'),d=0;for(var i=0;i<c.length;i++){if(c[i].querySelector('svg.main-svg'))d++;}" +
        "var im=document.images,r=0;for(var j=0;j<im.length;j++){if(im[j].complete&&im[j].naturalWidth>0)r++;}" +
        "var m=document.querySelector('meta[name=la-charts]');" +
        "document.documentElement.setAttribute('" + CheckAttribute + "',JSON.stringify({chartsExpected:m?parseInt(m.content,10):0,charts:c.length,chartsDrawn:d," +
        "images:im.length,imagesRendered:r,errors:window.__laErrors,height:Math.ceil(document.documentElement.scrollHeight)}));},500);});";

    static string RunSummaryHtml(ReportSummary summary)
    {
        if (summary.Run is null && summary.Headlines.Count == 0 && summary.FirstError is null) return "";
        var html = new StringBuilder("<section class=\"la-summary\">");
        if (summary.FirstError is { } error)
            html.Append("<p class=\"la-failed\"><strong>This run failed at cell ").Append(error.Cell).Append(":</strong> ")
                .Append(WebUtility.HtmlEncode(FirstLine(StripAnsi(error.Message)))).Append(" (the run stopped there; see the cell below).</p>");
        if (summary.Headlines.Count > 0)
        {
            html.Append("<table class=\"la-headline-table\"><tbody>");
            foreach (var h in summary.Headlines)
                html.Append("<tr><td>").Append(WebUtility.HtmlEncode(h.Name)).Append("</td><td><strong>").Append(WebUtility.HtmlEncode(h.Value)).Append("</strong></td></tr>");
            html.Append("</tbody></table>");
        }
        html.Append("<p class=\"la-run\">");
        if (summary.Run is { } run)
        {
            html.Append("LabelAssignment ").Append(WebUtility.HtmlEncode(run.Library.Version));
            if (run.Library.Commit is { } commit)
                html.Append(" (commit ").Append(WebUtility.HtmlEncode(commit[..Math.Min(12, commit.Length)])).Append(run.Library.Dirty == true ? ", dirty" : "").Append(')');
            int given = run.Parameters.Count(p => p.Source != "default");
            html.Append("; ").Append(given == 0 ? "default parameters" : $"{given} parameter(s) from --input");
        }
        if (summary.DurationSeconds is { } seconds) html.Append("; ran in ").Append(FormatSeconds(seconds));
        html.Append(". <a href=\"#provenance\">Provenance</a></p></section>\n");
        return html.ToString();
    }

    static string ProvenanceHtml(ReportSummary summary)
    {
        var html = new StringBuilder("<section id=\"provenance\" class=\"la-provenance-section\"><h2>Provenance</h2>");
        if (summary.Run is not { } run)
        {
            html.Append("<p>This notebook recorded no provenance (no <code>Provenance.Show()</code> cell ran).</p>");
        }
        else
        {
            var b = run.Library;
            html.Append("<p><strong>Library:</strong> LabelAssignment.Studies ").Append(WebUtility.HtmlEncode(b.Version))
                .Append(b.Commit is null ? "; git commit unknown" : $"; git commit {WebUtility.HtmlEncode(b.Commit)}{(b.Dirty == true ? $" with uncommitted changes ({b.ChangedFiles} files)" : b.Dirty == false ? " (clean)" : "")}")
                .Append(b.PackedUtc is null ? "" : $"; packed {WebUtility.HtmlEncode(b.PackedUtc)}").Append(".</p>");
            var m = run.Machine;
            html.Append("<p><strong>Machine:</strong> ").Append(m.Cores).Append(" cores, ").Append(WebUtility.HtmlEncode(m.Processor)).Append("; ")
                .Append(WebUtility.HtmlEncode(m.OperatingSystem)).Append("; ").Append(WebUtility.HtmlEncode(m.DotNet))
                .Append(m.LoadAverage is null ? "" : $"; load average {WebUtility.HtmlEncode(m.LoadAverage)} at the start").Append(".</p>");
            html.Append("<p><strong>Started:</strong> ").Append(WebUtility.HtmlEncode(run.StartedUtc))
                .Append(summary.DurationSeconds is { } d ? $"; wall time {FormatSeconds(d)}" : "").Append(".</p>");
            html.Append("<p><strong>Parameters</strong> (bold: given with <code>--input</code>):</p>").Append(Provenance.ParameterTable(run.Parameters));
        }
        html.Append("<p><strong>Data</strong> (embedding cache entries read or written; fingerprint = SHA-256 of the vectors file):</p>");
        if (summary.Data.Count == 0) html.Append("<p>none recorded.</p>");
        else
        {
            html.Append("<table class=\"la-data\"><thead><tr><th>entry</th><th>dataset</th><th>split</th><th>rows</th><th>model</th><th>dim</th><th>fingerprint</th><th>model file</th><th>this run</th></tr></thead><tbody>");
            foreach (var x in summary.Data)
                html.Append("<tr><td>").Append(WebUtility.HtmlEncode(x.Entry)).Append("</td><td>").Append(WebUtility.HtmlEncode(x.Dataset))
                    .Append("</td><td>").Append(WebUtility.HtmlEncode(x.Split)).Append("</td><td>").Append(x.Count).Append("</td><td>")
                    .Append(WebUtility.HtmlEncode(x.Model)).Append("</td><td>").Append(x.Dimension).Append("</td><td><code>")
                    .Append(WebUtility.HtmlEncode(x.ContentSha256)).Append("</code></td><td><code>").Append(WebUtility.HtmlEncode(x.ModelFingerprint ?? ""))
                    .Append("</code></td><td>").Append(x.FromCache ? "read" : "computed and written").Append("</td></tr>");
            html.Append("</tbody></table>");
        }
        html.Append("<p><strong>Wall time per section</strong> (headless run; the first section includes the kernel start and package restore):</p>");
        if (summary.Cells.Count == 0) html.Append("<p>not recorded (cells are timed in headless runs: <code>bash run.sh</code>).</p>");
        else
        {
            html.Append("<table class=\"la-sections\"><thead><tr><th>section</th><th>cells</th><th>seconds</th></tr></thead><tbody>");
            foreach (var sec in summary.Sections)
                html.Append("<tr><td>").Append(WebUtility.HtmlEncode(sec.Section)).Append("</td><td>").Append(sec.Cells).Append("</td><td>")
                    .Append(sec.Seconds.ToString("0.0", CultureInfo.InvariantCulture)).Append("</td></tr>");
            html.Append("</tbody></table>");
        }
        return html.Append("</section>\n").ToString();
    }

    /// <summary>Seconds as "42.0 s" or "3 min 05 s".</summary>
    public static string FormatSeconds(double seconds) => seconds < 60
        ? seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s");

    static string FirstLine(string s) => s.Replace("\r\n", "\n").Split('\n')[0];

    /// <summary>The plotly.js that Plotly.NET embeds (the version its charts are written for).</summary>
    public static string PlotlyJs => PlotlyJsText.Value;

    // Notebook chart markup calls requirejs.config(...) and then require(['plotly'], draw); with plotly.js already
    // inlined, both just hand window.Plotly to the callback, so no network access is attempted.
    const string RequireShim =
        "(function(){var r=function(deps,cb){if(typeof cb==='function'){cb(window.Plotly);}};" +
        "r.config=function(){return r;};window.requirejs=r;window.require=r;window.define=window.define||function(){};})();";

    const string Css =
        "body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}" +
        "main{max-width:1100px;margin:0 auto;padding:24px}" +
        "section.md{margin:18px 0}" +
        ".cell{margin:12px 0;border-left:3px solid #ccd;padding-left:10px}" +
        ".cell pre.code{background:#f0f2f5;padding:8px;overflow-x:auto;font-size:13px;margin:0}" +
        ".cell .n{color:#889;font-size:11px}" +
        ".out{margin:6px 0;overflow-x:auto}" +
        ".out pre{margin:0;font-size:13px;white-space:pre-wrap}" +
        ".err{border-left-color:#c33}.err pre.error{color:#a00;background:#fff0f0;padding:6px}" +
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px}" +
        ".la-summary{background:#eef3fb;border:1px solid #c9d6ea;padding:8px 12px;margin:12px 0}.la-run{color:#445;font-size:13px;margin:6px 0 0}" +
        ".la-failed{color:#a00}.la-provenance-section{border-top:2px solid #ccd;margin-top:32px;font-size:13px}";

    // Returns the number of chart outputs written.
    static int AppendCodeCell(StringBuilder body, int index, string source, JsonElement cell, CellTiming? timing)
    {
        int charts = 0;
        var outputs = cell.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Array
            ? o.EnumerateArray().ToList() : [];
        bool failed = outputs.Any(x => OutputType(x) == "error");
        body.Append("<div class=\"cell").Append(failed ? " err" : "").Append("\"><div class=\"n\">[").Append(index)
            .Append(']').Append(timing is null ? "" : $" {timing.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s").Append("</div><pre class=\"code\"><code>").Append(WebUtility.HtmlEncode(source)).Append("</code></pre>\n");
        for (int i = 0; i < outputs.Count; i++)
        {
            var output = outputs[i];
            string kind = OutputType(output);
            if (kind == "stream")
            {
                string text = output.TryGetProperty("text", out var tx) ? JoinText(tx) : "";
                body.Append("<div class=\"out\"><pre>").Append(WebUtility.HtmlEncode(StripAnsi(text))).Append("</pre></div>\n");
            }
            else if (kind == "error")
            {
                string name = output.TryGetProperty("ename", out var en) ? en.GetString() ?? "" : "";
                string value = output.TryGetProperty("evalue", out var ev) ? ev.GetString() ?? "" : "";
                body.Append("<div class=\"out\"><pre class=\"error\">").Append(WebUtility.HtmlEncode(StripAnsi($"{name}: {value}")))
                    .Append("</pre></div>\n");
            }
            else if (output.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                string? html = Mime(data, "text/html");
                // dotnet-repl records every frame of "Installing Packages" and of an updated progress bar as its
                // own output: keep only the last frame of a run of them.
                if (html is not null && IsTransient(html) && i + 1 < outputs.Count && NextIsSameKind(outputs[i + 1], html))
                    continue;
                if (html is not null && html.Contains("<strong>Installing Packages</strong>", StringComparison.Ordinal))
                    continue;
                // "Loading extension script from `<package cache path>`": kernel chatter with a machine's paths.
                if (html is null && Mime(data, "text/plain") is { } plain && plain.StartsWith("Loading extension", StringComparison.Ordinal))
                    continue;
                // Hidden provenance blocks alone (cell timings): read above, nothing to show.
                if (html is not null && ReportMeta.IsOnlyBlocks(html))
                    continue;
                bool chart = html is not null && html.Contains("Plotly.newPlot", StringComparison.Ordinal);
                if (chart) charts++;
                AppendBundle(body, data, html, chart);
            }
        }
        body.Append("</div>\n");
        return charts;
    }

    static bool IsTransient(string html) => html.StartsWith("<div class=\"la-progress\"", StringComparison.Ordinal);

    static bool NextIsSameKind(JsonElement next, string html)
    {
        if (!next.TryGetProperty("data", out var d) || d.ValueKind != JsonValueKind.Object) return false;
        string? h = Mime(d, "text/html");
        if (h is null || !IsTransient(h)) return false;
        // Same bar: same label text before the <progress> element.
        int a = html.IndexOf("<progress", StringComparison.Ordinal), b = h.IndexOf("<progress", StringComparison.Ordinal);
        return a > 0 && b > 0 && html.AsSpan(0, a).SequenceEqual(h.AsSpan(0, b));
    }

    static void AppendBundle(StringBuilder body, JsonElement data, string? html, bool chart)
    {
        body.Append(chart ? "<div class=\"out la-chart\">" : "<div class=\"out\">");
        if (html is not null) body.Append(html);
        else if (Mime(data, "image/png") is { } png)
            body.Append("<img alt=\"output\" src=\"data:image/png;base64,").Append(png.Replace("\n", "")).Append("\"/>");
        else if (Mime(data, "image/svg+xml") is { } svg) body.Append(svg);
        else if (Mime(data, "text/markdown") is { } md) body.Append(Markdig.Markdown.ToHtml(md, Markdown));
        else if (Mime(data, "text/plain") is { } text)
            body.Append("<pre>").Append(WebUtility.HtmlEncode(StripAnsi(text))).Append("</pre>");
        body.Append("</div>\n");
    }

    static string OutputType(JsonElement output) =>
        output.TryGetProperty("output_type", out var t) ? t.GetString() ?? "" : "";

    static string? Mime(JsonElement data, string mime) =>
        data.TryGetProperty(mime, out var v) ? JoinText(v) : null;

    // nbformat stores multi-line strings either as one string or as an array of lines.
    static string JoinText(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Array => string.Concat(e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText())),
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => e.GetRawText(),
    };

    static string StripAnsi(string s) => AnsiEscape().Replace(s, "");

    [GeneratedRegex(@"\x1B\[[0-9;?]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    static string LoadPlotlyJs()
    {
        Assembly plotly = typeof(Plotly.NET.GenericChart).Assembly;
        string name = plotly.GetManifestResourceNames()
            .FirstOrDefault(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? throw new InvalidOperationException(
                $"{plotly.GetName().Name} {plotly.GetName().Version} embeds no plotly-*.min.js resource; cannot inline plotly.js.");
        using var stream = plotly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // Inside a <script> element the text "</script" would end it early.
        return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    }
}
