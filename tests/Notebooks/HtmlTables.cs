using System.Net;
using System.Text.RegularExpressions;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>Reads the cells of an HTML table a notebook displayed (DataFrame and record tables), as plain text.</summary>
internal static partial class HtmlTables
{
    /// <summary>The header texts of the first table in <paramref name="html"/>.</summary>
    public static string[] Header(string html) =>
        Th().Matches(html).Select(m => Text(m.Groups[1].Value)).ToArray();

    /// <summary>Each body row's cell texts (the index column included), in order.</summary>
    public static List<string[]> Rows(string html) =>
        Tr().Matches(html).Select(r => Td().Matches(r.Groups[1].Value).Select(c => Text(c.Groups[1].Value)).ToArray())
            .Where(cells => cells.Length > 0).ToList();

    /// <summary>The column named <paramref name="name"/>, one text per body row.</summary>
    public static string[] Column(string html, string name)
    {
        int at = Array.IndexOf(Header(html), name);
        if (at < 0) throw new ArgumentException($"no column '{name}' in the table (columns: {string.Join(", ", Header(html))}).", nameof(name));
        return Rows(html).Select(r => r[at]).ToArray();
    }

    private static string Text(string cell) => WebUtility.HtmlDecode(Tag().Replace(cell, "")).Trim();

    [GeneratedRegex("<th>(.*?)</th>", RegexOptions.Singleline)]
    private static partial Regex Th();

    [GeneratedRegex("<tr>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex Tr();

    [GeneratedRegex("<td>(.*?)</td>", RegexOptions.Singleline)]
    private static partial Regex Td();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tag();
}
