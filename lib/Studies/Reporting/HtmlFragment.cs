using Markdig;

namespace LabelAssignment.Reporting;

/// <summary>
/// A piece of HTML produced by the library (an image grid, a progress bar). Notebooks show it as HTML (the
/// package's extension.dib registers the formatter); elsewhere <see cref="ToString"/> gives the markup.
/// </summary>
/// <param name="Html">The markup, ready to insert into a page.</param>
public sealed record HtmlFragment(string Html)
{
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    /// <summary>
    /// Markdown rendered to HTML (Markdig, as the reports render markdown cells): computed prose in a notebook
    /// output, which the kernel cannot show as text/markdown by itself.
    /// </summary>
    public static HtmlFragment FromMarkdown(string markdown)
    {
        ArgumentNullException.ThrowIfNull(markdown);
        return new HtmlFragment("<div class=\"md\">" + Markdown.ToHtml(markdown, Pipeline) + "</div>");
    }

    /// <summary>The markup.</summary>
    public override string ToString() => Html;
}
