using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LabelAssignment.Reporting;

/// <summary>Wall time of one section of a notebook (cells under the same level-1 or level-2 heading).</summary>
/// <param name="Section">The heading.</param>
/// <param name="Seconds">Sum of its cells' wall times.</param>
/// <param name="Cells">Code cells timed in it.</param>
public sealed record SectionTiming(string Section, double Seconds, int Cells);

/// <summary>The first failed cell of an executed notebook.</summary>
/// <param name="Cell">1-based index among all cells.</param>
/// <param name="Message">The exception's name and message.</param>
public sealed record ReportError(int Cell, string Message);

/// <summary>What an executed notebook says about its run, from the hidden JSON blocks its outputs carry.</summary>
/// <param name="Title">The first level-1 heading (else the file name).</param>
/// <param name="Run">The run record of the provenance cell, or null when the notebook has none.</param>
/// <param name="Cells">Wall time per timed cell.</param>
/// <param name="Data">Data read or written.</param>
/// <param name="Headlines">Headline numbers (empty when the run did not reach that cell).</param>
/// <param name="FirstError">The first failed cell, or null.</param>
/// <param name="DurationSeconds">From the kernel's start to the end of the last timed cell, or null when unknown.</param>
public sealed record ReportSummary(string Title, RunRecord? Run, IReadOnlyList<CellTiming> Cells, IReadOnlyList<DataProvenance> Data,
    IReadOnlyList<HeadlineNumber> Headlines, ReportError? FirstError, double? DurationSeconds)
{
    /// <summary>Wall time per section, in notebook order.</summary>
    public IReadOnlyList<SectionTiming> Sections => Cells.GroupBy(c => c.Section)
        .Select(g => new SectionTiming(g.Key, Math.Round(g.Sum(c => c.Seconds), 3), g.Count())).ToArray();

    /// <summary>The timing of cell <paramref name="cell"/> (1-based), or null.</summary>
    public CellTiming? CellAt(int cell) => Cells.LastOrDefault(c => c.Cell == cell);
}

/// <summary>Reads the hidden provenance blocks (<see cref="Provenance.MetaBlock"/>) of an executed notebook.</summary>
public static partial class ReportMeta
{
    sealed record CellMarker(int Cell, int Of, string Section, double Seconds, string EndedUtc, bool Failed, DataProvenance[]? Data);

    sealed record HeadlineBlock(HeadlineNumber[] Items, DataProvenance[]? Data, CellTiming[]? Cells, string? EndedUtc);

    /// <summary>Every hidden block in an HTML text: its kind and its JSON.</summary>
    public static IEnumerable<(string Kind, string Json)> Blocks(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        foreach (Match m in BlockPattern().Matches(html))
            yield return (m.Groups[1].Value, m.Groups[2].Value);
    }

    /// <summary>True when the HTML is nothing but hidden blocks (the renderer leaves such an output out).</summary>
    public static bool IsOnlyBlocks(string html) => BlockPattern().Replace(html, "").Trim().Length == 0 && html.Contains(Provenance.MetaTypePrefix, StringComparison.Ordinal);

    /// <summary>Reads an executed notebook file.</summary>
    public static ReportSummary ReadFile(string ipynbPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ipynbPath));
        return Read(doc.RootElement, Path.GetFileNameWithoutExtension(ipynbPath));
    }

    /// <summary>Reads an executed notebook (.ipynb JSON root).</summary>
    /// <exception cref="InvalidDataException">No cells array: not a notebook.</exception>
    public static ReportSummary Read(JsonElement notebook, string fallbackTitle)
    {
        if (notebook.ValueKind != JsonValueKind.Object || !notebook.TryGetProperty("cells", out var cells) || cells.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("no \"cells\" array at the top level: not an .ipynb notebook.");
        string? title = null;
        RunRecord? run = null;
        var timings = new List<CellTiming>();
        var data = new List<DataProvenance>();
        HeadlineBlock? headlines = null;
        ReportError? error = null;
        int index = 0;
        foreach (var cell in cells.EnumerateArray())
        {
            index++;
            string type = cell.TryGetProperty("cell_type", out var t) ? t.GetString() ?? "" : "";
            if (type == "markdown" && title is null)
            {
                string source = cell.TryGetProperty("source", out var s) ? JoinText(s) : "";
                title = source.Replace("\r\n", "\n").Split('\n').FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim();
            }
            if (!cell.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array) continue;
            foreach (var output in outputs.EnumerateArray())
            {
                if (output.TryGetProperty("output_type", out var ot) && ot.GetString() == "error" && error is null)
                    error = new ReportError(index, $"{Str(output, "ename")}: {Str(output, "evalue")}");
                if (!output.TryGetProperty("data", out var bundle) || !bundle.TryGetProperty("text/html", out var h)) continue;
                foreach (var (kind, json) in Blocks(JoinText(h)))
                {
                    try
                    {
                        switch (kind)
                        {
                            case "run":
                                run ??= JsonSerializer.Deserialize<RunRecord>(json, Provenance.Json);
                                break;
                            case "cell" when JsonSerializer.Deserialize<CellMarker>(json, Provenance.Json) is { } c:
                                timings.Add(new CellTiming(c.Cell, c.Of, c.Section, c.Seconds, c.EndedUtc, c.Failed));
                                data.AddRange(c.Data ?? []);
                                break;
                            case "headlines":
                                headlines = JsonSerializer.Deserialize<HeadlineBlock>(json, Provenance.Json);
                                break;
                        }
                    }
                    catch (JsonException) { }   // a damaged block loses that block, not the report
                }
            }
        }
        // Outside a headless run there are no cell blocks: the headline block carries what was recorded.
        if (timings.Count == 0 && headlines?.Cells is { } hc) timings.AddRange(hc);
        if (headlines?.Data is { } hd) data.AddRange(hd);
        double? duration = null;
        var ends = timings.Select(c => c.EndedUtc).Append(headlines?.EndedUtc).Where(e => e is not null).Select(e => Parse(e!)).Where(e => e is not null).ToList();
        if (run is not null && ends.Count > 0 && Parse(run.StartedUtc) is { } start)
            duration = Math.Round((ends.Max()!.Value - start).TotalSeconds, 1);
        return new ReportSummary(title ?? fallbackTitle, run, timings.OrderBy(c => c.Cell).ToArray(), data.Distinct().ToArray(),
            headlines?.Items ?? [], error, duration);
    }

    static DateTime? Parse(string text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;

    static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";

    /// <summary>nbformat stores multi-line strings either as one string or as an array of lines.</summary>
    public static string JoinText(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString() ?? "",
        JsonValueKind.Array => string.Concat(e.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : x.GetRawText())),
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => e.GetRawText(),
    };

    [GeneratedRegex(@"<script type=""application/vnd\.labelassignment\.([a-z]+)\+json"">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex BlockPattern();
}
