using System.Reflection;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class ProgressBarTests
{
    [Fact]
    public void Throttles_updates_but_always_shows_first_and_completed_state()
    {
        var shown = new List<ProgressState>();
        using (var bar = new ProgressBar("work", shown.Add, TimeSpan.FromHours(1)))
            for (int i = 1; i <= 100; i++) bar.Report(i / 100.0);
        Assert.Equal(2, shown.Count);
        Assert.Equal(0, shown[0].Fraction);
        Assert.False(shown[0].Completed);
        Assert.Equal(1, shown[1].Fraction);
        Assert.True(shown[1].Completed);
    }

    [Fact]
    public void Without_throttle_every_report_is_shown_clamped_and_nothing_after_dispose()
    {
        var shown = new List<ProgressState>();
        var bar = new ProgressBar("w", shown.Add, TimeSpan.Zero);
        bar.Report(0.5);
        bar.Report(2);
        bar.Dispose();
        bar.Report(0.1);
        bar.Dispose();
        Assert.Equal([0, 0.5, 1, 1], shown.Select(s => s.Fraction));
        Assert.Equal(1, shown.Count(s => s.Completed));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProgressBar("w", _ => { }, TimeSpan.Zero).Report(double.NaN));
    }

    [Fact]
    public void Plain_text_sink_writes_a_line_per_tenth()
    {
        var writer = new StringWriter();
        var view = ProgressDisplay.PlainText(writer)("embedding");
        foreach (double f in new[] { 0, 0.01, 0.05, 0.1, 0.15, 0.5, 1.0 })
            view(new ProgressState("embedding", f, TimeSpan.FromSeconds(f * 10), false));
        view(new ProgressState("embedding", 1.0, TimeSpan.FromSeconds(10), true));
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["embedding: 0% (0.0 s)", "embedding: 10% (1.0 s)", "embedding: 50% (5.0 s)",
            "embedding: 100% (10.0 s)", "embedding: 100% (10.0 s) done"], lines);
    }

    [Fact]
    public void Html_state_is_a_progress_element_with_an_encoded_label()
    {
        string html = new ProgressState("a<b", 0.25, TimeSpan.FromSeconds(1.5), false).ToHtml().Html;
        Assert.StartsWith("<div class=\"la-progress\"", html);
        Assert.Contains("a&lt;b", html);
        Assert.Contains("value=\"0.25\"", html);
        Assert.Contains("25% (1.5 s)", html);
    }
}

[Collection("NotebookParameters")] // static state
public class NotebookParametersTests
{
    [Fact]
    public void Parses_the_three_spellings_of_input()
    {
        var p = NotebookParameters.Parse(["x.dll", "--run", "a.ipynb", "--input", "eps=0.15", "--input=k=5", "--input:name=a=b c"]);
        Assert.Equal("0.15", p["eps"]);
        Assert.Equal("5", p["k"]);
        Assert.Equal("a=b c", p["name"]);
        Assert.Contains("name=value", Assert.Throws<ArgumentException>(() => NotebookParameters.Parse(["--input", "eps"])).Message);
    }

    [Fact]
    public void Inputs_override_defaults_and_are_parsed_invariantly()
    {
        NotebookParameters.SetInputs(new Dictionary<string, string> { ["eps"] = "0.15", ["k"] = "12", ["spherical"] = "TRUE" });
        Assert.Equal(0.15, NotebookParameters.Get("eps", 0.1));
        Assert.Equal(12, NotebookParameters.Get("k", 100));
        Assert.True(NotebookParameters.Get("spherical", false));
        Assert.Equal("cifar", NotebookParameters.Get("dataset", "cifar"));
        NotebookParameters.EnsureAllInputsUsed();
        Assert.Equal(
            [new NotebookParameter("eps", "0.15", "--input"), new NotebookParameter("k", "12", "--input"),
             new NotebookParameter("spherical", "true", "--input"), new NotebookParameter("dataset", "cifar", "default")],
            NotebookParameters.Used);
    }

    [Fact]
    public void A_bad_value_or_a_misspelt_name_is_an_error_naming_it()
    {
        NotebookParameters.SetInputs(new Dictionary<string, string> { ["k"] = "ten", ["esp"] = "0.2" });
        var e = Assert.Throws<ArgumentException>(() => NotebookParameters.Get("k", 100));
        Assert.Contains("k='ten'", e.Message);
        Assert.Contains("Int32", e.Message);
        NotebookParameters.Get("eps", 0.1);
        var unknown = Assert.Throws<ArgumentException>(() => NotebookParameters.EnsureAllInputsUsed());
        Assert.Contains("esp", unknown.Message);
        NotebookParameters.EnsureAllInputsUsed("esp", "k");
    }
}

public class FSharpCoreResolverTests
{
    [Fact]
    public void Returns_the_loaded_FSharp_Core_for_a_newer_minor_version_and_nothing_else()
    {
        var loaded = typeof(Microsoft.FSharp.Core.FSharpOption<int>).Assembly;
        var asked = new AssemblyName(loaded.GetName().FullName) { Version = new Version(loaded.GetName().Version!.Major, 99, 0, 0) };
        Assert.Same(loaded, FSharpCoreResolver.Resolve(null, new ResolveEventArgs(asked.FullName)));
        var otherMajor = new AssemblyName(loaded.GetName().FullName) { Version = new Version(loaded.GetName().Version!.Major + 1, 0, 0, 0) };
        Assert.Null(FSharpCoreResolver.Resolve(null, new ResolveEventArgs(otherMajor.FullName)));
        Assert.Null(FSharpCoreResolver.Resolve(null, new ResolveEventArgs("Newtonsoft.Json, Version=13.0.0.0")));
        Assert.True(NotebookSetup.EnsureInitialized());
    }
}
