namespace LabelAssignment.Embedding;

/// <summary>
/// What an encoded image may cost to decode, checked from its container headers before any pixel is allocated.
/// An image over a limit is refused with an <see cref="ArgumentException"/> naming the limit and the value.
/// </summary>
public sealed record ImageDecodingLimits
{
    /// <summary>Pixels of one frame (or the canvas of an animation): 50 megapixels, about 150 MB as RGB.</summary>
    public long MaxPixelsPerFrame { get; init; } = 50_000_000;

    /// <summary>
    /// Canvas pixels summed over all frames the file declares (GIF and WebP frames are each decoded onto the full
    /// canvas). Checked even though only the first frame is embedded: a file that claims more is not a photo.
    /// </summary>
    public long MaxTotalPixels { get; init; } = 200_000_000;

    /// <summary>Frames the file may declare (an animated GIF or WebP; other formats have one).</summary>
    public int MaxFrames { get; init; } = 1000;

    /// <summary>
    /// Bytes of metadata (PNG text, iCCP and other ancillary chunks, GIF comment and application blocks, JPEG APPn
    /// and COM segments, WebP ICCP/EXIF/XMP), compressed chunks counted at their inflated size: 16 MiB.
    /// </summary>
    public long MaxAncillaryBytes { get; init; } = 16 << 20;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> whose message and ParamName name the first bad limit.</summary>
    public void Validate()
    {
        if (MaxPixelsPerFrame < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxPixelsPerFrame), MaxPixelsPerFrame, $"MaxPixelsPerFrame must be >= 1; got {MaxPixelsPerFrame}.");
        if (MaxTotalPixels < MaxPixelsPerFrame)
            throw new ArgumentOutOfRangeException(nameof(MaxTotalPixels), MaxTotalPixels, $"MaxTotalPixels must be >= MaxPixelsPerFrame ({MaxPixelsPerFrame}); got {MaxTotalPixels}.");
        if (MaxFrames < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxFrames), MaxFrames, $"MaxFrames must be >= 1; got {MaxFrames}.");
        if (MaxAncillaryBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxAncillaryBytes), MaxAncillaryBytes, $"MaxAncillaryBytes must be >= 0; got {MaxAncillaryBytes}.");
    }
}
