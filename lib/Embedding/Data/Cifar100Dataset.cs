using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Data;

/// <summary>Which CIFAR-100 split: 50,000 training images or 10,000 test images.</summary>
public enum Cifar100Split
{
    /// <summary>The training split (<c>train.bin</c> / <c>train</c>).</summary>
    Train,

    /// <summary>The test split (<c>test.bin</c> / <c>test</c>).</summary>
    Test,
}

/// <summary>
/// CIFAR-100 images with their labels, as read from the binary or the Python-pickle distribution.
/// Pixels stay in the official layout: image i is <see cref="Cifar100.ImageBytes"/> bytes, a 32x32 R plane, then
/// G, then B, each row-major. Item ids are the images' positions in the official file.
/// </summary>
public sealed record Cifar100Dataset
{
    /// <summary>Creates a data set after checking that the arrays agree.</summary>
    /// <param name="split">Which split the images came from.</param>
    /// <param name="pixels">n x 3072 bytes (R, G, B planes of 32x32).</param>
    /// <param name="itemIds">n ids: positions in the official file.</param>
    /// <param name="fineLabels">n fine labels in [0, 100).</param>
    /// <param name="coarseLabels">n coarse labels in [0, 20).</param>
    /// <param name="fineLabelNames">100 fine class names in label order.</param>
    /// <param name="coarseLabelNames">20 coarse class names in label order.</param>
    /// <param name="source">The file the images were read from.</param>
    public Cifar100Dataset(Cifar100Split split, byte[] pixels, long[] itemIds, int[] fineLabels, int[] coarseLabels,
        IReadOnlyList<string> fineLabelNames, IReadOnlyList<string> coarseLabelNames, string source)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentNullException.ThrowIfNull(fineLabels);
        ArgumentNullException.ThrowIfNull(coarseLabels);
        ArgumentNullException.ThrowIfNull(fineLabelNames);
        ArgumentNullException.ThrowIfNull(coarseLabelNames);
        int n = itemIds.Length;
        if (pixels.Length != (long)n * Cifar100.ImageBytes)
            throw new ArgumentException($"pixels has {pixels.Length} bytes; {n} images need {(long)n * Cifar100.ImageBytes}.", nameof(pixels));
        if (fineLabels.Length != n || coarseLabels.Length != n)
            throw new ArgumentException($"fineLabels ({fineLabels.Length}) and coarseLabels ({coarseLabels.Length}) must both have {n} entries.", nameof(fineLabels));
        if (fineLabelNames.Count != Cifar100.FineClassCount || coarseLabelNames.Count != Cifar100.CoarseClassCount)
            throw new ArgumentException(
                $"expected {Cifar100.FineClassCount} fine and {Cifar100.CoarseClassCount} coarse label names; got {fineLabelNames.Count} and {coarseLabelNames.Count}.", nameof(fineLabelNames));
        for (int i = 0; i < n; i++)
        {
            if ((uint)fineLabels[i] >= Cifar100.FineClassCount)
                throw new ArgumentOutOfRangeException(nameof(fineLabels), fineLabels[i], $"fine label of item {i} must be in [0, {Cifar100.FineClassCount}).");
            if ((uint)coarseLabels[i] >= Cifar100.CoarseClassCount)
                throw new ArgumentOutOfRangeException(nameof(coarseLabels), coarseLabels[i], $"coarse label of item {i} must be in [0, {Cifar100.CoarseClassCount}).");
        }
        Split = split;
        Pixels = pixels;
        ItemIds = itemIds;
        FineLabels = fineLabels;
        CoarseLabels = coarseLabels;
        FineLabelNames = fineLabelNames;
        CoarseLabelNames = coarseLabelNames;
        Source = source;
    }

    /// <summary>Which split the images came from.</summary>
    public Cifar100Split Split { get; }

    /// <summary>n x 3072 bytes: each image's R, G and B 32x32 planes.</summary>
    public byte[] Pixels { get; }

    /// <summary>Each image's position in the official file (stable across subsets).</summary>
    public long[] ItemIds { get; }

    /// <summary>Fine labels in [0, 100).</summary>
    public int[] FineLabels { get; }

    /// <summary>Coarse (superclass) labels in [0, 20).</summary>
    public int[] CoarseLabels { get; }

    /// <summary>The 100 fine class names in label order ("apple", "aquarium_fish", ...).</summary>
    public IReadOnlyList<string> FineLabelNames { get; }

    /// <summary>The 20 coarse class names in label order.</summary>
    public IReadOnlyList<string> CoarseLabelNames { get; }

    /// <summary>The file the images were read from.</summary>
    public string Source { get; }

    /// <summary>Number of images.</summary>
    public int Count => ItemIds.Length;

    /// <summary>The 3072 bytes of image <paramref name="index"/> (R, G, B planes).</summary>
    public ReadOnlySpan<byte> ImagePlanes(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Pixels.AsSpan(index * Cifar100.ImageBytes, Cifar100.ImageBytes);
    }

    /// <summary>Image <paramref name="index"/> as a 32x32 RGB ImageSharp image (the caller disposes it).</summary>
    public Image<Rgb24> ToImage(int index)
    {
        var planes = ImagePlanes(index);
        const int area = Cifar100.ImageSize * Cifar100.ImageSize;
        var pixels = new Rgb24[area];
        for (int p = 0; p < area; p++)
            pixels[p] = new Rgb24(planes[p], planes[area + p], planes[2 * area + p]);
        return Image.LoadPixelData<Rgb24>(pixels, Cifar100.ImageSize, Cifar100.ImageSize);
    }

    /// <summary>The first <paramref name="count"/> images (all of them when count is at least <see cref="Count"/>).</summary>
    public Cifar100Dataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Select(Enumerable.Range(0, Math.Min(count, Count)).ToArray());
    }

    /// <summary>The images at <paramref name="indices"/> (positions in this data set), in that order.</summary>
    public Cifar100Dataset Select(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int n = indices.Count;
        var pixels = new byte[(long)n * Cifar100.ImageBytes];
        var ids = new long[n];
        var fine = new int[n];
        var coarse = new int[n];
        for (int k = 0; k < n; k++)
        {
            int i = indices[k];
            if ((uint)i >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), i, $"index at position {k} must be in [0, {Count}).");
            ImagePlanes(i).CopyTo(pixels.AsSpan(k * Cifar100.ImageBytes));
            ids[k] = ItemIds[i];
            fine[k] = FineLabels[i];
            coarse[k] = CoarseLabels[i];
        }
        return new Cifar100Dataset(Split, pixels, ids, fine, coarse, FineLabelNames, CoarseLabelNames, Source);
    }
}
