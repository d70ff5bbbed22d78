using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace LabelAssignment.Embedding;

/// <summary>
/// Turns images into a model's input: decode (with the <see cref="ImageDecodingLimits"/> checked from the container
/// headers before any pixel is allocated; only the first frame of an animation is decoded), resize to
/// the preset's square size, and write planar normalised floats. Every decodable format is converted to 8-bit RGB:
/// greyscale is replicated into three channels, 16-bit channels are scaled to 8 bits, CMYK/YCCK JPEGs are
/// converted by ImageSharp's colour conversion, and transparency is dropped.
/// </summary>
public sealed class ImagePreprocessor
{
    private readonly ModelPreset _preset;
    private readonly int _minSide;
    private readonly Configuration _configuration;

    /// <summary>Creates a preprocessor for <paramref name="preset"/>.</summary>
    /// <param name="preset">The model's input description.</param>
    /// <param name="minSide">Images whose width or height is smaller are refused (they carry no usable content).</param>
    /// <param name="limits">What decoding one image may cost (default: <see cref="ImageDecodingLimits"/>' defaults).</param>
    public ImagePreprocessor(ModelPreset preset, int minSide = 8, ImageDecodingLimits? limits = null)
    {
        _preset = (preset ?? throw new ArgumentNullException(nameof(preset))).Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(minSide, 1);
        Limits = limits ?? new ImageDecodingLimits();
        Limits.Validate();
        _minSide = minSide;
        // Metadata is not needed to embed pixels, and ImageSharp would inflate PNG text chunks into memory; only the
        // first frame of an animation or multi-page file is embedded, so only it is decoded.
        _configuration = Configuration.Default.Clone();
        _configuration.ImageFormatsManager.SetDecoder(PngFormat.Instance, new PngDecoder { IgnoreMetadata = true });
        _configuration.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { IgnoreMetadata = true, DecodingMode = FrameDecodingMode.First });
        _configuration.ImageFormatsManager.SetDecoder(TiffFormat.Instance, new TiffDecoder { IgnoreMetadata = true, DecodingMode = FrameDecodingMode.First });
    }

    /// <summary>The decoding limits in use.</summary>
    public ImageDecodingLimits Limits { get; }

    /// <summary>Floats per image: 3 x size x size.</summary>
    public int TensorLength => 3 * _preset.InputSize * _preset.InputSize;

    /// <summary>
    /// Decodes an encoded image (PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM) to RGB after checking its header.
    /// </summary>
    /// <param name="encoded">The file's bytes.</param>
    /// <param name="name">What to call the image in error messages (a file name).</param>
    /// <exception cref="InvalidDataException">Not an image, or a corrupt or truncated one.</exception>
    /// <exception cref="ArgumentException">Too small, or over one of the <see cref="Limits"/> (the message names it and the value).</exception>
    public Image<Rgb24> Decode(byte[] encoded, string name)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        ImageContainerCheck.Check(encoded, name, Limits); // before ImageSharp reads anything: Identify inflates PNG text too
        IImageInfo? info;
        try
        {
            info = Image.Identify(_configuration, encoded, out _);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidDataException)
        {
            throw new InvalidDataException($"{name}: corrupt image header ({encoded.Length} bytes): {e.Message}", e);
        }
        if (info is null)
            throw new InvalidDataException($"{name}: not an image in a format ImageSharp reads (PNG, JPEG, BMP, GIF, TGA, TIFF, WebP, PBM); {encoded.Length} bytes starting {Convert.ToHexString(encoded.AsSpan(0, Math.Min(8, encoded.Length)))}.");
        CheckSize(info.Width, info.Height, name);
        try
        {
            var image = Image.Load<Rgb24>(_configuration, encoded);
            while (image.Frames.Count > 1) // formats without a first-frame mode (WebP) decode every frame
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            return image;
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidDataException or ArgumentException)
        {
            throw new InvalidDataException($"{name}: the {info.Width}x{info.Height} image could not be decoded: {e.Message}", e);
        }
    }

    /// <summary>Reads and decodes an image file (see <see cref="Decode(byte[], string)"/>).</summary>
    public Image<Rgb24> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: image file not found.", path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Refuses an image smaller than the minimum side or larger than <see cref="ImageDecodingLimits.MaxPixelsPerFrame"/>.</summary>
    public void CheckSize(int width, int height, string name)
    {
        if (width < _minSide || height < _minSide)
            throw new ArgumentException($"{name}: the image is {width}x{height}; at least {_minSide}x{_minSide} pixels expected.", nameof(width));
        if ((long)width * height > Limits.MaxPixelsPerFrame)
            throw new ArgumentException(
                $"{name}: the image is {width}x{height} = {(long)width * height} pixels; at most MaxPixelsPerFrame = {Limits.MaxPixelsPerFrame} are accepted (raise it in ImageDecodingLimits to allow it).",
                nameof(ImageDecodingLimits.MaxPixelsPerFrame));
    }

    /// <summary>
    /// Resizes <paramref name="image"/> to the input size (stretching: no crop) and writes its normalised planes
    /// into <paramref name="destination"/> (<see cref="TensorLength"/> floats, model channel order).
    /// </summary>
    public void Fill(Image<Rgb24> image, Span<float> destination, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length < TensorLength)
            throw new ArgumentException($"destination has {destination.Length} floats; {TensorLength} needed.", nameof(destination));
        CheckSize(image.Width, image.Height, name);
        int size = _preset.InputSize;
        if (image.Width == size && image.Height == size)
        {
            FillPlanes(image, destination);
            return;
        }
        using var resized = image.Clone(c => c.Resize(new ResizeOptions
        {
            Size = new Size(size, size),
            Mode = ResizeMode.Stretch,
            Sampler = _preset.ImageSharpResampler,
        }));
        FillPlanes(resized, destination);
    }

    /// <summary>
    /// Writes the planes of a 32x32 CIFAR image given as R, G, B planes (3072 bytes) into <paramref name="destination"/>.
    /// </summary>
    public void FillFromPlanes(ReadOnlySpan<byte> rgbPlanes, int width, int height, Span<float> destination)
    {
        int area = width * height;
        if (rgbPlanes.Length != 3 * area)
            throw new ArgumentException($"rgbPlanes has {rgbPlanes.Length} bytes; 3 x {width} x {height} = {3 * area} expected.", nameof(rgbPlanes));
        var pixels = new Rgb24[area];
        for (int p = 0; p < area; p++)
            pixels[p] = new Rgb24(rgbPlanes[p], rgbPlanes[area + p], rgbPlanes[2 * area + p]);
        using var image = Image.LoadPixelData<Rgb24>(pixels, width, height);
        Fill(image, destination);
    }

    private void FillPlanes(Image<Rgb24> image, Span<float> destination)
    {
        int size = _preset.InputSize;
        int area = size * size;
        var norm = _preset.Normalization;
        bool bgr = _preset.ChannelOrder == ChannelOrder.Bgr;
        float scale = norm.Scale;
        // Model channel k reads source channel src[k] (R=0, G=1, B=2).
        Span<int> src = stackalloc int[3];
        src[0] = bgr ? 2 : 0; src[1] = 1; src[2] = bgr ? 0 : 2;
        Span<float> inv = stackalloc float[3];
        for (int k = 0; k < 3; k++) inv[k] = 1f / norm.Std[k];
        float[]? meanImage = norm.MeanImage;
        var dest = destination[..(3 * area)];
        Span<byte> row = stackalloc byte[size * 3];
        for (int y = 0; y < size; y++)
        {
            image.DangerousGetPixelRowMemory(y).Span.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Rgb24>(row));
            for (int k = 0; k < 3; k++)
            {
                int s = src[k];
                int o = k * area + y * size;
                if (meanImage is not null)
                {
                    for (int x = 0; x < size; x++)
                        dest[o + x] = (row[3 * x + s] * scale - meanImage[o + x]) * inv[k];
                }
                else
                {
                    float mean = norm.Mean[k];
                    for (int x = 0; x < size; x++)
                        dest[o + x] = (row[3 * x + s] * scale - mean) * inv[k];
                }
            }
        }
    }
}
