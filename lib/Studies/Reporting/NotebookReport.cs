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

        var body = new StringBuilder();
        int index = 0;
        foreach (var cell in cells.EnumerateArray())
        {
            index++;
            string type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() ?? "" : "";
            string source = cell.TryGetProperty("source", out var s) ? JoinText(s) : "";
            if (type == "markdown")
                body.Append("<section class=\"md\">").Append(Markdig.Markdown.ToHtml(source, Markdown)).Append("</section>\n");
            else if (type == "code")
                AppendCodeCell(body, index, source, cell);
            else if (type == "raw")
                body.Append("<pre class=\"raw\">").Append(WebUtility.HtmlEncode(source)).Append("</pre>\n");
        }

        string content = body.ToString();
        bool plotly = content.Contains("Plotly.newPlot", StringComparison.Ordinal);
        var html = new StringBuilder(content.Length + (plotly ? PlotlyJsText.Value.Length : 0) + 4096);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
            .Append(WebUtility.HtmlEncode(title)).Append("</title>\n<style>").Append(Css).Append("</style>\n");
        if (plotly)
        {
            html.Append("<script type=\"text/javascript\">").Append(PlotlyJsText.Value).Append("</script>\n");
            html.Append("<script type=\"text/javascript\">").Append(RequireShim).Append("</script>\n");
        }
        html.Append("</head><body>\n<main>\n").Append(content).Append("</main>\n</body></html>\n");
        return html.ToString();
    }

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
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px}";

    static void AppendCodeCell(StringBuilder body, int index, string source, JsonElement cell)
    {
        var outputs = cell.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Array
            ? o.EnumerateArray().ToList() : [];
        bool failed = outputs.Any(x => OutputType(x) == "error");
        body.Append("<div class=\"cell").Append(failed ? " err" : "").Append("\"><div class=\"n\">[").Append(index)
            .Append("]</div><pre class=\"code\"><code>").Append(WebUtility.HtmlEncode(source)).Append("</code></pre>\n");
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
                AppendBundle(body, data, html);
            }
        }
        body.Append("</div>\n");
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

    static void AppendBundle(StringBuilder body, JsonElement data, string? html)
    {
        body.Append("<div class=\"out\">");
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
