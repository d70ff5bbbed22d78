namespace LabelAssignment.Reporting;

/// <summary>
/// A piece of HTML produced by the library (an image grid, a progress bar). Notebooks show it as HTML (the
/// package's extension.dib registers the formatter); elsewhere <see cref="ToString"/> gives the markup.
/// </summary>
/// <param name="Html">The markup, ready to insert into a page.</param>
public sealed record HtmlFragment(string Html)
{
    /// <summary>The markup.</summary>
    public override string ToString() => Html;
}
