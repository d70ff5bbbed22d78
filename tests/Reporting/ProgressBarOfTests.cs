using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class ProgressBarOfTests
{
    [Fact]
    public void The_bar_takes_WorkProgress_directly_and_shows_fraction_stage_and_detail_synchronously()
    {
        var shown = new List<ProgressState>();
        using (var bar = new ProgressBar("embedding", shown.Add, TimeSpan.Zero))
        {
            IProgress<WorkProgress> progress = bar;
            progress.Report(new WorkProgress("embedding", 32, 128, "resnet18"));
            Assert.Equal(0.25, bar.Fraction); // already there when Report returns (Progress<T> would post it later)
            Assert.Equal("embedding: resnet18", bar.Status);
            progress.Report(new WorkProgress("verify", 128, 128));
        }
        Assert.Equal([0, 0.25, 1, 1], shown.Select(s => s.Fraction));
        Assert.Equal([null, "embedding: resnet18", "verify", "verify"], shown.Select(s => s.Status));
        Assert.True(shown[^1].Completed);
        Assert.Equal("embedding: 25% (1.5 s) embedding: resnet18",
            new ProgressState("embedding", 0.25, TimeSpan.FromSeconds(1.5), false, "embedding: resnet18").ToString());
        Assert.Contains("a&lt;b", new ProgressState("x", 0.5, TimeSpan.Zero, false, "a<b").ToHtml().Html);
    }

    [Fact]
    public void Of_forwards_another_report_type_as_its_fraction()
    {
        var shown = new List<ProgressState>();
        using (var bar = new ProgressBar("x", shown.Add, TimeSpan.Zero))
            bar.Of<int>(i => i / 4.0).Report(1);
        Assert.Equal([0, 0.25, 0.25], shown.Select(s => s.Fraction));
        Assert.Throws<ArgumentNullException>(() => new ProgressBar("x", _ => { }, TimeSpan.Zero).Of<int>(null!));
    }
}
