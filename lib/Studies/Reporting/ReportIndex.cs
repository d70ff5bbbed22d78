using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using LabelAssignment.IO;

namespace LabelAssignment.Reporting;

/// <summary>One report on the index page.</summary>
/// <param name="Html">The report's file name, relative to the index (the link).</param>
/// <param name="Summary">What its executed notebook recorded (<see cref="ReportMeta.Read"/>).</param>
/// <param name="Check">Its browser check, or null when not checked.</param>
public sealed record IndexEntry(string Html, ReportSummary Summary, BrowserCheckResult? Check);

/// <summary>
/// <c>reports/index.html</c>: one card per report with its title, the parameters it ran with, its duration, its
/// headline numbers, its browser check and screenshot, and a link.
/// </summary>
public static class ReportIndex
{
    /// <summary>The suffix of the browser check result written next to a report (<c>NAME.check.json</c>).</summary>
    public const string CheckSuffix = ".check.json";

    /// <summary>Writes the check result next to its report, atomically.</summary>
    public static void SaveCheck(BrowserCheckResult result, string path)
    {
        ArgumentNullException.ThrowIfNull(result);
        var shown = result with { Report = Path.GetFileName(result.Report), Screenshot = result.Screenshot is null ? null : Path.GetFileName(result.Screenshot) };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(shown, Provenance.Json));
    }

    /// <summary>Reads a check result written by <see cref="SaveCheck"/>, or null when absent or unreadable.</summary>
    public static BrowserCheckResult? LoadCheck(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<BrowserCheckResult>(File.ReadAllText(path), Provenance.Json); }
        catch (JsonException) { return null; }
    }

    /// <summary>The entry of an executed notebook: its report is NAME.html beside it, its check NAME.check.json.</summary>
    public static IndexEntry EntryFor(string ipynbPath)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(ipynbPath))!, name = Path.GetFileNameWithoutExtension(ipynbPath);
        return new IndexEntry(name + ".html", ReportMeta.ReadFile(ipynbPath), LoadCheck(Path.Combine(folder, name + CheckSuffix)));
    }

    /// <summary>Writes the index page to <paramref name="indexPath"/> atomically.</summary>
    public static void Write(string indexPath, IReadOnlyList<IndexEntry> entries) => AtomicFile.WriteAllText(indexPath, Render(entries));

    /// <summary>The index page's HTML.</summary>
    public static string Render(IReadOnlyList<IndexEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var html = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>LabelAssignment reports</title>\n<style>")
            .Append(Css).Append("</style></head><body><main>\n<h1>LabelAssignment reports</h1>\n");
        double total = entries.Sum(e => e.Summary.DurationSeconds ?? 0);
        var first = entries.Select(e => e.Summary.Run).FirstOrDefault(r => r is not null);
        if (first is not null)
            html.Append("<p class=\"meta\">LabelAssignment ").Append(Enc(first.Library.Version))
                .Append(first.Library.Commit is { } c ? $", commit {Enc(c[..Math.Min(12, c.Length)])}{(first.Library.Dirty == true ? " (dirty)" : "")}" : "")
                .Append("; ").Append(first.Machine.Cores).Append(" cores, ").Append(Enc(first.Machine.Processor))
                .Append("; notebooks' wall time ").Append(NotebookReport.FormatSeconds(total)).Append(".</p>\n");
        foreach (var e in entries)
        {
            var s = e.Summary;
            bool failed = s.FirstError is not null;
            html.Append("<article class=\"card").Append(failed || e.Check is { Passed: false } ? " bad" : "").Append("\">\n<h2><a href=\"")
                .Append(Enc(e.Html)).Append("\">").Append(Enc(s.Title)).Append("</a></h2>\n");
            // The screenshot floats at the card's top right.
            if (e.Check?.Screenshot is { } png)
                html.Append("<a href=\"").Append(Enc(png)).Append("\"><img class=\"shot\" alt=\"screenshot of ").Append(Enc(s.Title))
                    .Append("\" src=\"").Append(Enc(png)).Append("\" loading=\"lazy\"></a>\n");
            html.Append("<p class=\"meta\">");
            html.Append(s.DurationSeconds is { } d ? "ran in " + NotebookReport.FormatSeconds(d) : "duration not recorded");
            if (failed) html.Append(" · <span class=\"fail\">failed at cell ").Append(s.FirstError!.Cell).Append("</span>");
            if (e.Check is { } check)
                html.Append(" · browser check: <span class=\"").Append(check.Passed ? "ok" : "fail").Append("\">").Append(Enc(check.ToString())).Append("</span>");
            html.Append("</p>\n");
            if (failed) html.Append("<pre class=\"fail\">").Append(Enc(Abbreviate(s.FirstError!.Message, 600))).Append("</pre>\n");
            if (s.Headlines.Count > 0)
            {
                html.Append("<table class=\"headlines\"><tbody>");
                foreach (var h in s.Headlines)
                    html.Append("<tr><td>").Append(Enc(h.Name)).Append("</td><td><strong>").Append(Enc(h.Value)).Append("</strong></td></tr>");
                html.Append("</tbody></table>\n");
            }
            if (s.Run is { } run)
            {
                var given = run.Parameters.Where(p => p.Source != "default").ToArray();
                html.Append("<p class=\"params\">Parameters: ")
                    .Append(given.Length == 0 ? "all defaults" : "--input " + string.Join(", ", given.Select(p => $"<code>{Enc(p.Name)}={Enc(p.Value)}</code>")))
                    .Append("</p>\n<details><summary>all ").Append(run.Parameters.Count).Append(" parameters</summary>")
                    .Append(Provenance.ParameterTable(run.Parameters)).Append("</details>\n");
            }
            html.Append("</article>\n");
        }
        return html.Append("</main></body></html>\n").ToString();
    }

    const string Css =
        "body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#fafafa;color:#222}main{max-width:1100px;margin:0 auto;padding:24px}" +
        ".card{background:#fff;border:1px solid #dde;border-left:4px solid #4a7;padding:10px 16px;margin:16px 0;overflow:hidden}" +
        ".card.bad{border-left-color:#c33}.card h2{margin:4px 0}.meta{color:#556;font-size:13px}.ok{color:#272}.fail{color:#a00}" +
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px}.params{font-size:13px}" +
        ".shot{float:right;width:220px;max-height:300px;object-fit:cover;object-position:top;border:1px solid #ccd;margin:0 0 8px 12px}";

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    static string Abbreviate(string s, int max) => s.Length <= max ? s : s[..max] + " ...";
}
