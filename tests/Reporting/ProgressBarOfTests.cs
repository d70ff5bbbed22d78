using LabelAssignment.Embedding;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class ProgressBarOfTests
{
    [Fact]
    public void Of_forwards_each_report_as_its_fraction_synchronously()
    {
        var shown = new List<ProgressState>();
        using (var bar = new ProgressBar("embedding", shown.Add, TimeSpan.Zero))
        {
            var progress = bar.Of<EmbeddingProgress>(p => p.Fraction);
            progress.Report(new EmbeddingProgress(32, 128));
            Assert.Equal(0.25, bar.Fraction); // already there when Report returns (Progress<T> would post it later)
            progress.Report(new EmbeddingProgress(128, 128));
        }
        Assert.Equal([0, 0.25, 1, 1], shown.Select(s => s.Fraction));
        Assert.True(shown[^1].Completed);
        Assert.Throws<ArgumentNullException>(() => new ProgressBar("x", _ => { }, TimeSpan.Zero).Of<int>(null!));
    }
}
