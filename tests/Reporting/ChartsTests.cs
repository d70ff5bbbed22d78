using System.Text.Json;
using LabelAssignment.Reporting;
using Plotly.NET;

namespace LabelAssignment.Tests.Reporting;

public class ChartsTests
{
    static JsonElement Traces(GenericChart chart) =>
        JsonDocument.Parse(GenericChart.toJson(chart)).RootElement.GetProperty("data");

    static double[] Numbers(JsonElement array) =>
        array.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.Parse(x.GetString()!)).ToArray();

    [Fact]
    public void Bin_follows_numpy_histogram_rules()
    {
        // numpy.histogram([0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.0], bins=4, range=(0, 1)) -> counts [2, 1, 1, 3]
        // (bins [0,.25) [.25,.5) [.5,.75) [.75,1]: 0.25 opens bin 1, 0.5 opens bin 2, the last bin holds 1.0).
        var h = Charts.Bin([0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.0], 4, 0, 1);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1.0], h.Edges);
        Assert.Equal([2, 1, 1, 3], h.Counts);
        // Outside the range: not counted (np.histogram([-1, 0.7, 2], bins=2, range=(0, 1)) -> [0, 1]).
        Assert.Equal([0, 1], Charts.Bin([-1, 0.7, 2], 2, 0, 1).Counts);
        // A constant input gets a bin around the value (np.histogram([3, 3, 3], bins=1) -> [3], edges [2.5, 3.5]).
        var c = Charts.Bin([3, 3, 3], 1, 3, 3);
        Assert.Equal([2.5, 3.5], c.Edges);
        Assert.Equal([3], c.Counts);
    }

    [Fact]
    public void Bin_matches_numpy_histogram_for_awkward_edges()
    {
        // 0.1 * k edges are not exact in binary. Reference, Debian's numpy 1.24.2
        // (apt-get install python3-numpy; /usr/bin/python3):
        //   v = np.arange(1000) / 999.0 * 0.7 + 0.1
        //   np.histogram(v, bins=7, range=(0.1, 0.8))
        //   -> [143, 143, 143, 142, 143, 143, 143],
        //      edges [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8]
        var values = Enumerable.Range(0, 1000).Select(i => i / 999.0 * 0.7 + 0.1).ToArray();
        var h = Charts.Bin(values, 7, 0.1, 0.8);
        Assert.Equal([143, 143, 143, 142, 143, 143, 143], h.Counts);
        double[] edges = [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6, 0.7000000000000001, 0.8];
        Assert.Equal(edges.Length, h.Edges.Length);
        for (int i = 0; i < edges.Length; i++)
            Assert.Equal(edges[i], h.Edges[i], 1e-15);
    }

    [Fact]
    public void Bin_rejects_bad_input()
    {
        Assert.Contains("bins", Assert.Throws<ArgumentOutOfRangeException>(() => Charts.Bin([1.0], 0, 0, 1)).Message);
        Assert.Contains("values[1]=NaN", Assert.Throws<ArgumentException>(() => Charts.Bin([0.5, double.NaN], 2, 0, 1)).Message);
        Assert.Contains("min", Assert.Throws<ArgumentException>(() => Charts.Bin([0.5], 2, 1, 0)).Message);
    }

    [Fact]
    public void HistogramWithThreshold_has_the_counts_and_a_vertical_line_at_the_threshold()
    {
        var chart = Charts.HistogramWithThreshold([0.1, 0.2, 0.2, 0.9], threshold: 0.5, bins: 4, title: "scores");
        var traces = Traces(chart);
        Assert.Equal(2, traces.GetArrayLength());
        Assert.Equal("bar", traces[0].GetProperty("type").GetString());
        // range [0.1, 0.9] in 4 bins of 0.2: [0.1,0.3) has 3, [0.7,0.9] has 1 (np.histogram([0.1, 0.2, 0.2, 0.9], bins=4) -> [3, 0, 0, 1]).
        Assert.Equal([3, 0, 0, 1], Numbers(traces[0].GetProperty("y")));
        Assert.Equal([0.5, 0.5], Numbers(traces[1].GetProperty("x")));
        Assert.Contains("threshold", traces[1].GetProperty("name").GetString());
        Assert.Contains("scores", GenericChart.toJson(chart));
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.HistogramWithThreshold([1.0], double.NaN));
        Assert.Throws<ArgumentException>(() => Charts.HistogramWithThreshold([1.0, double.PositiveInfinity], 0.5));
    }

    [Fact]
    public void MatchedPairs_joins_each_pair_with_a_segment()
    {
        (double, double)[] from = [(0, 0), (1, 1)];
        (double, double)[] to = [(5, 5), (2, 3), (9, 9)];
        var traces = Traces(Charts.MatchedPairs(from, to, [(0, 1), (1, 0)], "yesterday", "today"));
        Assert.Equal(3, traces.GetArrayLength());
        var lineX = traces[0].GetProperty("x").EnumerateArray().ToArray();
        var lineY = traces[0].GetProperty("y").EnumerateArray().ToArray();
        // segment (0,0)-(2,3), gap, segment (1,1)-(5,5), gap
        Assert.Equal([0.0, 2.0], new[] { lineX[0].GetDouble(), lineX[1].GetDouble() });
        Assert.Equal([0.0, 3.0], new[] { lineY[0].GetDouble(), lineY[1].GetDouble() });
        Assert.Equal("NaN", lineX[2].GetString());
        Assert.Equal([1.0, 5.0], new[] { lineX[3].GetDouble(), lineX[4].GetDouble() });
        Assert.Equal([5.0, 2.0, 9.0], Numbers(traces[2].GetProperty("x")));
        Assert.Equal("yesterday (2)", traces[1].GetProperty("name").GetString());
    }

    [Fact]
    public void MatchedPairs_rejects_pairs_outside_the_points_and_non_finite_points()
    {
        (double, double)[] pts = [(0, 0)];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Charts.MatchedPairs(pts, pts, [(0, 3)]));
        Assert.Contains("pairs[0].To=3", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.MatchedPairs(pts, pts, [(-1, 0)]));
        Assert.Contains("from[0]", Assert.Throws<ArgumentException>(() =>
            Charts.MatchedPairs([(double.NaN, 0)], pts, [])).Message);
    }

    [Fact]
    public void Lines_draws_one_trace_per_series_and_checks_lengths()
    {
        var traces = Traces(Charts.Lines([0.1, 0.2, 0.3],
            [("kept", [10.0, 8, 5]), ("match rate", [0.9, 0.8, 0.7])], xTitle: "threshold"));
        Assert.Equal(2, traces.GetArrayLength());
        Assert.Equal("match rate", traces[1].GetProperty("name").GetString());
        Assert.Equal([0.9, 0.8, 0.7], Numbers(traces[1].GetProperty("y")));
        Assert.Contains("'kept') has 2 values but parameter has 3",
            Assert.Throws<ArgumentException>(() => Charts.Lines([1.0, 2, 3], [("kept", [1.0, 2])])).Message);
        Assert.Throws<ArgumentException>(() => Charts.Lines([1.0], []));
    }

    [Fact]
    public void Notebook_html_loads_plotly_through_require_and_draws_the_data()
    {
        string html = Charts.ToNotebookHtml(Charts.Lines([1.0, 2], [("s", [3.0, 4])]));
        Assert.Contains("requirejs.config", html);
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains("\"y\":[3.0,4.0]", html);
    }
}

public class EpsCircleChartTests
{
    static JsonElement Json(GenericChart chart) => JsonDocument.Parse(GenericChart.toJson(chart)).RootElement;

    static double[] Numbers(JsonElement array) =>
        array.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number ? x.GetDouble() : double.NaN).ToArray();

    [Fact]
    public void EpsCircle_splits_the_points_draws_the_circle_and_keeps_the_axes_equal()
    {
        (double, double)[] points = [(0, 0), (3, 0), (0.5, 0.5), (-2, 1)];
        bool[] outside = [false, true, false, true];
        var root = Json(Charts.EpsCircle(points, outside, (1, 0), 1.0, "in", "out", title: "blob"));
        var data = root.GetProperty("data");
        Assert.Equal(4, data.GetArrayLength());
        Assert.Equal([0, 0.5], Numbers(data[0].GetProperty("x")));
        Assert.Equal("in (2)", data[0].GetProperty("name").GetString());
        Assert.Equal([3, -2], Numbers(data[1].GetProperty("x")));
        Assert.Equal([0, 1], Numbers(data[1].GetProperty("y")));
        Assert.Equal("out (2)", data[1].GetProperty("name").GetString());
        // The circle: every vertex at distance eps from the centre, closed.
        var cx = Numbers(data[2].GetProperty("x"));
        var cy = Numbers(data[2].GetProperty("y"));
        for (int k = 0; k < cx.Length; k++)
            Assert.Equal(1.0, Math.Sqrt((cx[k] - 1) * (cx[k] - 1) + cy[k] * cy[k]), 12);
        Assert.Equal(cx[0], cx[^1], 12);
        Assert.Equal([1], Numbers(data[3].GetProperty("x")));
        var layout = root.GetProperty("layout");
        Assert.Equal("x", layout.GetProperty("yaxis").GetProperty("scaleanchor").GetString());
        // Equal spans: x covers [-2, 3], y must be as long (5 * 1.05) around its middle.
        var xr = Numbers(layout.GetProperty("xaxis").GetProperty("range"));
        var yr = Numbers(layout.GetProperty("yaxis").GetProperty("range"));
        Assert.Equal(xr[1] - xr[0], yr[1] - yr[0], 9);
        Assert.Equal(5 * 1.05, xr[1] - xr[0], 9);
        Assert.True(xr[0] <= -2 && xr[1] >= 3 && yr[0] <= -1 && yr[1] >= 1);
        Assert.Contains("blob", GenericChart.toJson(Charts.EpsCircle(points, outside, (1, 0), 1.0, title: "blob")));
    }

    [Fact]
    public void EpsCircle_rejects_bad_input()
    {
        (double, double)[] points = [(0, 0), (1, 1)];
        Assert.Contains("outside has 1", Assert.Throws<ArgumentException>(() => Charts.EpsCircle(points, [true], (0, 0), 1)).Message);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => Charts.EpsCircle(points, [true, false], (0, 0), 0)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => Charts.EpsCircle(points, [true, false], (0, 0), double.NaN)).ParamName);
        Assert.Equal("centre", Assert.Throws<ArgumentException>(() => Charts.EpsCircle(points, [true, false], (double.NaN, 0), 1)).ParamName);
        Assert.Equal("points", Assert.Throws<ArgumentException>(() => Charts.EpsCircle([(0, double.PositiveInfinity)], [true], (0, 0), 1)).ParamName);
    }
}

public class HtmlFragmentMarkdownTests
{
    [Fact]
    public void FromMarkdown_renders_emphasis_and_lists()
    {
        var html = HtmlFragment.FromMarkdown("Some **bold** text\n\n- one\n- two").Html;
        Assert.Contains("<strong>bold</strong>", html);
        Assert.Contains("<li>one</li>", html);
        Assert.StartsWith("<div class=\"md\">", html);
        Assert.Contains("<li><strong>bold</strong> and <code>code</code></li>", HtmlFragment.FromMarkdown("- **bold** and `code`").Html);
        Assert.Throws<ArgumentNullException>(() => HtmlFragment.FromMarkdown(null!));
    }
}
