using Microsoft.FSharp.Core;
using Plotly.NET;
using CSharpChart = Plotly.NET.CSharp.Chart;
using Plotly.NET.CSharp;

namespace LabelAssignment.Reporting;

/// <summary>Counts of values in equal-width bins: <c>Edges</c> has one more entry than <c>Counts</c>.</summary>
/// <param name="Edges">Bin edges, ascending; bin i is [Edges[i], Edges[i+1]), the last bin also holds its right edge.</param>
/// <param name="Counts">Number of values in each bin.</param>
public sealed record HistogramBins(double[] Edges, int[] Counts);

/// <summary>
/// The charts the notebooks draw, built with Plotly.NET so they show in a notebook, in a rendered report and
/// (through <see cref="GenericChart"/>'s own methods) in a standalone HTML file. Inputs are plain arrays; every
/// helper validates them first and names the bad argument.
/// </summary>
public static class Charts
{
    /// <summary>Default chart width in pixels.</summary>
    public const int DefaultWidth = 820;

    /// <summary>Default chart height in pixels.</summary>
    public const int DefaultHeight = 520;

    /// <summary>
    /// Two sets of 2-D points (e.g. yesterday's and today's cluster centres after a projection) with a line joining
    /// each pair (e.g. each matched old/new cluster). Pairs index into <paramref name="from"/> and <paramref name="to"/>.
    /// </summary>
    public static GenericChart MatchedPairs(
        IReadOnlyList<(double X, double Y)> from,
        IReadOnlyList<(double X, double Y)> to,
        IReadOnlyList<(int From, int To)> pairs,
        string fromName = "before",
        string toName = "after",
        string? title = null,
        string xTitle = "x",
        string yTitle = "y")
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(pairs);
        RequireFinite(from, nameof(from));
        RequireFinite(to, nameof(to));
        // One trace for all segments: NaN between pairs breaks the line, so 5,000 pairs stay one legend entry.
        var lineX = new double[pairs.Count * 3];
        var lineY = new double[pairs.Count * 3];
        for (int p = 0; p < pairs.Count; p++)
        {
            var (a, b) = pairs[p];
            if ((uint)a >= (uint)from.Count)
                throw new ArgumentOutOfRangeException(nameof(pairs), a,
                    $"pairs[{p}].From={a} is outside from, which has {from.Count} points.");
            if ((uint)b >= (uint)to.Count)
                throw new ArgumentOutOfRangeException(nameof(pairs), b,
                    $"pairs[{p}].To={b} is outside to, which has {to.Count} points.");
            lineX[3 * p] = from[a].X; lineY[3 * p] = from[a].Y;
            lineX[3 * p + 1] = to[b].X; lineY[3 * p + 1] = to[b].Y;
            lineX[3 * p + 2] = double.NaN; lineY[3 * p + 2] = double.NaN;
        }
        var chart = CSharpChart.Combine(
        [
            CSharpChart.Line<double, double, string>(lineX, lineY, Name: $"pairs ({pairs.Count})",
                LineColor: Color.fromString("rgba(120,120,120,0.6)"), LineWidth: 1.0),
            CSharpChart.Point<double, double, string>(from.Select(p => p.X), from.Select(p => p.Y),
                Name: $"{fromName} ({from.Count})"),
            CSharpChart.Point<double, double, string>(to.Select(p => p.X), to.Select(p => p.Y),
                Name: $"{toName} ({to.Count})", MarkerSymbol: StyleParam.MarkerSymbol.Cross),
        ]);
        return Style(chart, title, xTitle, yTitle);
    }

    /// <summary>
    /// Histogram of <paramref name="values"/> in <paramref name="bins"/> equal-width bins with a vertical line at
    /// <paramref name="threshold"/> (e.g. match scores and the score a match must clear).
    /// </summary>
    public static GenericChart HistogramWithThreshold(
        IReadOnlyList<double> values, double threshold, int bins = 30,
        string? title = null, string xTitle = "value", string thresholdName = "threshold")
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!double.IsFinite(threshold))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "threshold must be a finite number.");
        double min = threshold, max = threshold;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) break; // Bin reports the index and value.
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        var h = Bin(values, bins, min, max);
        var centres = new double[h.Counts.Length];
        for (int i = 0; i < centres.Length; i++) centres[i] = (h.Edges[i] + h.Edges[i + 1]) / 2;
        double top = Math.Max(1, h.Counts.DefaultIfEmpty(0).Max()) * 1.05;
        var chart = CSharpChart.Combine(
        [
            CSharpChart.Column<int, double, string>(h.Counts, Keys: centres, Name: $"count ({values.Count})"),
            CSharpChart.Line<double, double, string>([threshold, threshold], [0, top],
                Name: $"{thresholdName} = {threshold:G4}", LineColor: Color.fromString("crimson"), LineWidth: 2.0,
                LineDash: StyleParam.DrawingStyle.Dash),
        ]);
        return Style(chart, title, xTitle, "count");
    }

    /// <summary>
    /// Equal-width histogram over [<paramref name="min"/>, <paramref name="max"/>] (numpy.histogram's rule: each bin
    /// half-open except the last, values outside the range are not counted). A zero-width range is widened by 0.5
    /// on each side so that a constant input still has a bin.
    /// </summary>
    public static HistogramBins Bin(IReadOnlyList<double> values, int bins, double min, double max)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (bins < 1)
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "bins must be >= 1.");
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
            throw new ArgumentException($"the range [min={min}, max={max}] must be finite with min <= max.", nameof(min));
        if (min == max) { min -= 0.5; max += 0.5; }
        var edges = new double[bins + 1];
        for (int i = 0; i <= bins; i++) edges[i] = min + (max - min) * i / bins;
        edges[bins] = max;
        var counts = new int[bins];
        for (int i = 0; i < values.Count; i++)
        {
            double v = values[i];
            if (!double.IsFinite(v))
                throw new ArgumentException($"values[{i}]={v} is not a finite number.", nameof(values));
            if (v < min || v > max) continue;
            int b = v == max ? bins - 1 : (int)((v - min) / (max - min) * bins);
            // Rounding can put v one bin off its edges; the edges array is the truth.
            if (b > 0 && v < edges[b]) b--;
            else if (b < bins - 1 && v >= edges[b + 1]) b++;
            counts[b]++;
        }
        return new HistogramBins(edges, counts);
    }

    /// <summary>
    /// Several series against one parameter (e.g. kept IDs and match rate as the threshold moves), one line with
    /// markers each. Every series must have one value per parameter value; NaN leaves a gap.
    /// </summary>
    /// <param name="parameter">The x values.</param>
    /// <param name="series">Named y values, one per x value each; series i is drawn in <see cref="Palette"/>[i mod 10].</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xTitle">X axis title.</param>
    /// <param name="yTitle">Y axis title.</param>
    /// <param name="marker">Optional vertical dashed line at an x value (e.g. the threshold in use) with its legend name.</param>
    public static GenericChart Lines(
        IReadOnlyList<double> parameter,
        IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series,
        string? title = null, string xTitle = "parameter", string yTitle = "value",
        (double X, string Name)? marker = null)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0)
            throw new ArgumentException("series is empty: give at least one (name, values) pair.", nameof(series));
        for (int i = 0; i < parameter.Count; i++)
            if (!double.IsFinite(parameter[i]))
                throw new ArgumentException($"parameter[{i}]={parameter[i]} is not a finite number.", nameof(parameter));
        var traces = new List<GenericChart>(series.Count);
        for (int s = 0; s < series.Count; s++)
        {
            var (name, values) = series[s];
            ArgumentNullException.ThrowIfNull(values, $"{nameof(series)}[{s}].Values");
            if (values.Count != parameter.Count)
                throw new ArgumentException(
                    $"series[{s}] ('{name}') has {values.Count} values but parameter has {parameter.Count}.", nameof(series));
            // Explicit colours (Plotly's default sequence) so that panels side by side colour a series alike.
            traces.Add(CSharpChart.Line<double, double, string>(parameter, values, ShowMarkers: true, Name: name,
                LineColor: Color.fromString(Palette[s % Palette.Length]), MarkerColor: Color.fromString(Palette[s % Palette.Length])));
        }
        if (marker is { } m)
        {
            if (!double.IsFinite(m.X))
                throw new ArgumentOutOfRangeException(nameof(marker), m.X, "marker.X must be a finite number.");
            double lo = 0, hi = 0;
            foreach (var (_, values) in series)
                foreach (double v in values)
                    if (double.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            traces.Add(CSharpChart.Line<double, double, string>([m.X, m.X], [lo, hi == lo ? lo + 1 : hi], Name: m.Name,
                LineColor: Color.fromString("crimson"), LineWidth: 2.0, LineDash: StyleParam.DrawingStyle.Dash));
        }
        return Style(CSharpChart.Combine(traces), title, xTitle, yTitle);
    }

    /// <summary>Plotly's default trace colours, in order (what <see cref="Lines"/> uses per series).</summary>
    public static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>
    /// Charts in one row, each in its own panel with its own axes and a title above it (e.g. the same sweep for two
    /// measures). The legend lists the first panel's traces only: give panels the same series names and colours
    /// (as <see cref="Lines"/> does) so one legend explains them all.
    /// </summary>
    /// <param name="charts">The panels, left to right (at least one).</param>
    /// <param name="panelTitles">One title per panel.</param>
    /// <param name="title">Title of the whole figure.</param>
    /// <param name="height">Height in pixels.</param>
    public static GenericChart SideBySide(IReadOnlyList<GenericChart> charts, IReadOnlyList<string> panelTitles,
        string? title = null, int height = 460)
    {
        ArgumentNullException.ThrowIfNull(charts);
        ArgumentNullException.ThrowIfNull(panelTitles);
        if (charts.Count == 0)
            throw new ArgumentException("charts is empty: give at least one panel.", nameof(charts));
        if (panelTitles.Count != charts.Count)
            throw new ArgumentException($"panelTitles has {panelTitles.Count} titles but there are {charts.Count} charts.", nameof(panelTitles));
        if (height < 100)
            throw new ArgumentOutOfRangeException(nameof(height), height, "height must be >= 100 pixels.");
        var panels = charts.Select((c, i) =>
        {
            ArgumentNullException.ThrowIfNull(c, $"charts[{i}]");
            return i == 0 ? c : c.WithTraceInfo(ShowLegend: false);
        }).ToArray();
        var grid = CSharpChart.Grid(panels, 1, panels.Length, SubPlotTitles: panelTitles.ToArray())
            .WithSize(DefaultWidth + 120, height)
            .WithLegendStyle(Orientation: StyleParam.Orientation.Horizontal, Y: -0.2);
        return string.IsNullOrEmpty(title) ? grid : Plotly.NET.Chart.withTitle(title, null).Invoke(grid);
    }

    /// <summary>
    /// A 2-D cluster with its centre and the eps circle around it (the article's section 3 figures, from data):
    /// points inside the circle, points outside it (<paramref name="outside"/>[i] true: what a nearest-centre rule
    /// with this eps cannot reach) in another colour, the centre as a cross, the circle as a closed line. Both axes
    /// span the same length on a square chart, so the circle looks round.
    /// </summary>
    /// <param name="points">The cluster's points.</param>
    /// <param name="outside">One flag per point: true draws it as "outside".</param>
    /// <param name="centre">The cluster centre (e.g. the member mean).</param>
    /// <param name="eps">Radius of the circle, &gt; 0.</param>
    /// <param name="insideName">Legend name of the points inside (their count is appended).</param>
    /// <param name="outsideName">Legend name of the points outside (their count is appended).</param>
    /// <param name="title">Chart title.</param>
    public static GenericChart EpsCircle(
        IReadOnlyList<(double X, double Y)> points, IReadOnlyList<bool> outside, (double X, double Y) centre, double eps,
        string insideName = "within eps of the centre", string outsideName = "beyond eps of the centre", string? title = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(outside);
        RequireFinite(points, nameof(points));
        if (outside.Count != points.Count)
            throw new ArgumentException($"outside has {outside.Count} flags but points has {points.Count} points.", nameof(outside));
        if (!double.IsFinite(centre.X) || !double.IsFinite(centre.Y))
            throw new ArgumentException($"centre=({centre.X}, {centre.Y}) is not a finite point.", nameof(centre));
        if (!double.IsFinite(eps) || eps <= 0)
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be a finite number > 0.");
        var inPts = points.Where((_, i) => !outside[i]).ToArray();
        var outPts = points.Where((_, i) => outside[i]).ToArray();
        const int segments = 96;
        var cx = new double[segments + 1];
        var cy = new double[segments + 1];
        for (int k = 0; k <= segments; k++)
        {
            double a = 2 * Math.PI * k / segments;
            cx[k] = centre.X + eps * Math.Cos(a);
            cy[k] = centre.Y + eps * Math.Sin(a);
        }
        var chart = CSharpChart.Combine(
        [
            CSharpChart.Point<double, double, string>(inPts.Select(p => p.X), inPts.Select(p => p.Y),
                Name: $"{insideName} ({inPts.Length})", MarkerColor: Color.fromString("steelblue")),
            CSharpChart.Point<double, double, string>(outPts.Select(p => p.X), outPts.Select(p => p.Y),
                Name: $"{outsideName} ({outPts.Length})", MarkerColor: Color.fromString("darkorange")),
            CSharpChart.Line<double, double, string>(cx, cy, Name: $"eps = {eps:G3} around the centre",
                LineColor: Color.fromString("crimson"), LineWidth: 2.5),
            CSharpChart.Point<double, double, string>([centre.X], [centre.Y], Name: "centre (member mean)",
                MarkerColor: Color.fromString("crimson"), MarkerSymbol: StyleParam.MarkerSymbol.X),
        ]);
        // Equal spans on a square plot keep the circle round.
        double x0 = Math.Min(centre.X - eps, points.Select(p => p.X).DefaultIfEmpty(centre.X).Min());
        double x1 = Math.Max(centre.X + eps, points.Select(p => p.X).DefaultIfEmpty(centre.X).Max());
        double y0 = Math.Min(centre.Y - eps, points.Select(p => p.Y).DefaultIfEmpty(centre.Y).Min());
        double y1 = Math.Max(centre.Y + eps, points.Select(p => p.Y).DefaultIfEmpty(centre.Y).Max());
        double half = Math.Max(x1 - x0, y1 - y0) / 2 * 1.05, mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
        chart = chart.WithSize(DefaultWidth, DefaultHeight + 80)
            .WithXAxisStyle<double, double, string>(TitleText: "x", MinMax: new Tuple<double, double>(mx - half, mx + half))
            .WithYAxisStyle<double, double, string>(TitleText: "y", MinMax: new Tuple<double, double>(my - half, my + half));
        // One unit on y is drawn as long as one unit on x (plotly's scaleanchor), whatever room the legend takes.
        var yAxis = new Plotly.NET.LayoutObjects.LinearAxis();
        yAxis.SetProperty("scaleanchor", "x");
        chart = Plotly.NET.Chart.withYAxis(yAxis, null).Invoke(chart);
        return string.IsNullOrEmpty(title) ? chart : Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    /// <summary>
    /// The chart as notebook HTML: the same markup Plotly.NET's own notebook extension writes (plotly.js loaded
    /// through require.js from Plotly.NET's CDN address). <see cref="NotebookReport"/> swaps the loader for an
    /// inlined plotly.js, so rendered reports work offline.
    /// </summary>
    public static string ToNotebookHtml(GenericChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var reference = DisplayOptions.getPlotlyReference(DisplayOptions.initCDNOnly());
        if (reference is PlotlyJSReference.CDN cdn)
        {
            // require.js takes module paths without the .js extension.
            string url = cdn.Item.EndsWith(".js", StringComparison.Ordinal) ? cdn.Item[..^3] : cdn.Item;
            var options = DisplayOptions.init(null, null, null, null, null, null,
                FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.NewRequire(url)));
            chart = GenericChart.setDisplayOptions(options, chart);
        }
        return GenericChart.toChartHTML(chart);
    }

    static GenericChart Style(GenericChart chart, string? title, string xTitle, string yTitle)
    {
        chart = chart.WithSize(DefaultWidth, DefaultHeight)
            .WithXAxisStyle<double, double, string>(TitleText: xTitle)
            .WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return string.IsNullOrEmpty(title) ? chart : Plotly.NET.Chart.withTitle(title, null).Invoke(chart);
    }

    static void RequireFinite(IReadOnlyList<(double X, double Y)> points, string name)
    {
        for (int i = 0; i < points.Count; i++)
            if (!double.IsFinite(points[i].X) || !double.IsFinite(points[i].Y))
                throw new ArgumentException($"{name}[{i}]=({points[i].X}, {points[i].Y}) is not a finite point.", name);
    }
}
