using LabelAssignment.Ids;
using LabelAssignment.Remapping;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Studies;

public class RemapGapTests
{
    private static RemapReport Report(RemappingMeasure measure, double ari, double after) =>
        new("two seeds", measure, 0.5, 6, ari, 0, 0, after, 3, 3, 0, 0, 0, 0, 0, 0, 0);

    [Fact]
    public void The_ceiling_is_the_best_one_to_one_relabelling_and_the_text_follows_the_numbers()
    {
        // Overlap counts (old, new): (0,5)=2, (0,6)=1, (1,6)=2, (2,7)=1. The best one-to-one pairing is 0-5, 1-6, 2-7:
        // 5 of the 6 clustered items, 0.8333..., just below the article's 0.8336.
        var y = new Labeling([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 2]);
        var t = new Labeling([1, 2, 3, 4, 5, 6], [5, 5, 6, 6, 6, 7]);
        var gap = RemapGap.Measure(y, t, Report(RemappingMeasure.Overlap, 0.4, 0.5), Report(RemappingMeasure.Centroids, 0.4, 0.25));
        Assert.Equal(5.0 / 6.0, gap.Ceiling, 12);
        Assert.Equal(0.4, gap.AdjustedRandIndex);
        Assert.Equal(0.5 / (5.0 / 6.0), gap.OverlapShareOfCeiling, 12);
        Assert.Equal(0.25 / (5.0 / 6.0), gap.CentroidShareOfCeiling, 12);
        string text = gap.Explain("ResNet18");
        Assert.Contains("ARI 0.400 (the article's BLIP-2 fits: 0.796)", text);
        Assert.Contains("a match rate of 0.833", text);
        Assert.Contains("no remap could reach the article's figure", text);
        Assert.Contains("0.500 (60% of the ceiling)", text);

        // Today a pure renaming of yesterday: the ceiling is 1, so the gap would be the remap's.
        var same = new Labeling([1, 2, 3, 4, 5, 6], [9, 9, 9, 8, 8, 7]);
        var full = RemapGap.Measure(y, same, Report(RemappingMeasure.Overlap, 1, 1), Report(RemappingMeasure.Centroids, 1, 1));
        Assert.Equal(1.0, full.Ceiling, 12);
        Assert.Contains("the gap lies in the remap", full.Explain("ResNet18"));
    }
}
