using System.Text.Json;
using LabelAssignment.Reporting;
using Microsoft.Data.Analysis;
using Plotly.NET;

namespace LabelAssignment.Tests.Reporting;

public sealed class TablesTests
{
    enum Colour { Red, Green }
    sealed record Row(string Name, int Count, double Share, bool Ok, Colour Colour, int[] Skipped, long Big);

    [Fact]
    public void One_column_per_scalar_property_doubles_rounded()
    {
        var df = Tables.FromRecords(new[]
        {
            new Row("a", 1, 0.123456, true, Colour.Green, [1], 5_000_000_000),
            new Row("b", 2, double.NaN, false, Colour.Red, [], 7),
        }, decimals: 2);
        Assert.Equal(["Name", "Count", "Share", "Ok", "Colour", "Big"], df.Columns.Select(c => c.Name));
        Assert.Equal(2, df.Rows.Count);
        Assert.Equal("a", df["Name"][0]);
        Assert.Equal(2, df["Count"][1]);
        Assert.Equal(0.12, df["Share"][0]);
        Assert.True(double.IsNaN((double)df["Share"][1]!));
        Assert.Equal(true, df["Ok"][0]);
        Assert.Equal("Green", df["Colour"][0]);
        Assert.Equal(5_000_000_000L, df["Big"][0]);
        Assert.IsType<PrimitiveDataFrameColumn<double>>(df["Share"]);
        // Anonymous types work too (what notebooks pass).
        var anon = Tables.FromRecords(new[] { new { x = 1.23456, name = "n" } });
        Assert.Equal(1.235, anon["x"][0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tables.FromRecords(new[] { new { x = 1 } }, decimals: 16));
        Assert.Throws<ArgumentException>(() => Tables.FromRecords(new[] { new { x = new[] { 1 } } }));
    }
}

public sealed class SideBySideAndMarkerTests
{
    [Fact]
    public void Panels_get_their_own_axes_and_one_legend()
    {
        double[] x = [0, 0.5, 1];
        var left = Charts.Lines(x, [("kept", new double[] { 1, 0.5, 0 }), ("rate", new double[] { 0.9, 0.4, 0 })], marker: (0.5, "threshold used"));
        var right = Charts.Lines(x, [("kept", new double[] { 1, 1, 0 }), ("rate", new double[] { 0.8, 0.8, 0 })], marker: (0.95, "threshold used"));
        var grid = Charts.SideBySide([left, right], ["overlap", "centroids"], title: "sweep");
        var json = JsonDocument.Parse(GenericChart.toJson(grid)).RootElement;
        var traces = json.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(6, traces.Length);
        // Same series, same colour in both panels; the second panel's traces stay out of the legend.
        Assert.Equal(traces[0].GetProperty("line").GetProperty("color").GetString(), traces[3].GetProperty("line").GetProperty("color").GetString());
        Assert.All(traces[3..], t => Assert.False(t.GetProperty("showlegend").GetBoolean()));
        Assert.Equal("x2", traces[3].GetProperty("xaxis").GetString());
        // The marker: a vertical line at the threshold, from 0 to the highest value.
        Assert.Equal([0.95, 0.95], traces[5].GetProperty("x").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([0.0, 1.0], traces[5].GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        string html = Charts.ToNotebookHtml(grid);
        Assert.Contains("overlap", html);
        Assert.Contains("centroids", html);
        Assert.Throws<ArgumentException>(() => Charts.SideBySide([], []));
        Assert.Throws<ArgumentException>(() => Charts.SideBySide([left], ["a", "b"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Charts.Lines(x, [("a", x)], marker: (double.NaN, "m")));
    }
}
