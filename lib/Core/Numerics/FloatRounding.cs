namespace LabelAssignment.Numerics;

/// <summary>Directed rounding of a float64 to float32, for bounds kept in float32 that must stay on their side.</summary>
internal static class FloatRounding
{
    /// <summary>v rounded to a float32 at most v.</summary>
    public static float Down(double v)
    {
        float f = (float)v;
        return f > v ? MathF.BitDecrement(f) : f;
    }

    /// <summary>v rounded to a float32 at least v.</summary>
    public static float Up(double v)
    {
        float f = (float)v;
        return f < v ? MathF.BitIncrement(f) : f;
    }
}
