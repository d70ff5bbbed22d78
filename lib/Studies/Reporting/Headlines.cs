using System.Globalization;
using System.Net;
using System.Text;

namespace LabelAssignment.Reporting;

/// <summary>
/// The few numbers a report leads with (the index page shows them on the report's card). A notebook's last cell
/// calls <see cref="Show"/> once with them; the output is a small visible table plus a hidden JSON block that the
/// report renderer and the index read, together with the data used and the cell timings recorded so far.
/// </summary>
public static class Headlines
{
    /// <summary>Shows the headline numbers; a double is written with 4 significant digits, other values as they format.</summary>
    public static HtmlFragment Show(params (string Name, object Value)[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var numbers = items.Select(i => new HeadlineNumber(
            string.IsNullOrWhiteSpace(i.Name) ? throw new ArgumentException("a headline needs a name.", nameof(items)) : i.Name,
            Format(i.Value))).ToArray();
        var html = new StringBuilder("<div class=\"la-headlines\"><p><strong>Headline numbers</strong> (shown on the index page, <code>reports/index.html</code>):</p><table><tbody>");
        foreach (var n in numbers)
            html.Append("<tr><td>").Append(WebUtility.HtmlEncode(n.Name)).Append("</td><td><strong>").Append(WebUtility.HtmlEncode(n.Value))
                .Append("</strong></td></tr>");
        html.Append("</tbody></table></div>");
        html.Append(Provenance.MetaBlock("headlines", new
        {
            Items = numbers,
            Data = Provenance.Data,
            Cells = Provenance.Cells,
            EndedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        }));
        return new HtmlFragment(html.ToString());
    }

    /// <summary>How a value is shown: doubles with 4 significant digits (invariant), others by their invariant text.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
