namespace LabelAssignment.Tests;

public class WorkProgressTests
{
    [Fact]
    public void Fraction_is_done_over_total_clamped_one_when_empty_and_zero_when_unknown()
    {
        Assert.Equal(0.75, new WorkProgress("s", 3, 4).Fraction);
        Assert.Equal(1.0, new WorkProgress("s", 5, 4).Fraction);
        Assert.Equal(0.0, new WorkProgress("s", -2, 4).Fraction);
        Assert.Equal(1.0, new WorkProgress("s", 0, 0).Fraction);
        Assert.Equal(0.0, new WorkProgress("s", 700, -1).Fraction);
        Assert.False(new WorkProgress("s", 700, -1).HasTotal);
        Assert.True(new WorkProgress("s", 0, 0).HasTotal);
    }
}
