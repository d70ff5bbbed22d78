using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace LabelAssignment.Reporting;

/// <summary>
/// A small 8-bit RGB image held as interleaved bytes (R, G, B per pixel, rows top to bottom), e.g. a 32x32
/// CIFAR image for an image grid. Not for large images: it is encoded to PNG in memory.
/// </summary>
public sealed class RgbImage
{
    /// <summary>Largest accepted width or height: the grid shows thumbnails, not photographs.</summary>
    public const int MaxSide = 4096;

    /// <summary>Interleaved RGB bytes, <c>Width * Height * 3</c> of them.</summary>
    public byte[] Pixels { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Wraps interleaved RGB bytes (not copied).</summary>
    public RgbImage(byte[] pixels, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 1 || width > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be in 1..{MaxSide}.");
        if (height < 1 || height > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be in 1..{MaxSide}.");
        if (pixels.Length != width * height * 3)
            throw new ArgumentException(
                $"pixels has {pixels.Length} bytes but {width}x{height} RGB needs {width * height * 3}.", nameof(pixels));
        Pixels = pixels;
        Width = width;
        Height = height;
    }

    /// <summary>
    /// From planar bytes: all R values, then all G, then all B (the CIFAR binary layout, 3 x 1024 bytes for 32x32).
    /// </summary>
    public static RgbImage FromPlanar(ReadOnlySpan<byte> planes, int width, int height)
    {
        if (width < 1 || width > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(width), width, $"width must be in 1..{MaxSide}.");
        if (height < 1 || height > MaxSide)
            throw new ArgumentOutOfRangeException(nameof(height), height, $"height must be in 1..{MaxSide}.");
        int n = width * height;
        if (planes.Length != 3 * n)
            throw new ArgumentException(
                $"planes has {planes.Length} bytes but {width}x{height} planar RGB needs {3 * n}.", nameof(planes));
        var pixels = new byte[3 * n];
        for (int i = 0; i < n; i++)
        {
            pixels[3 * i] = planes[i];
            pixels[3 * i + 1] = planes[n + i];
            pixels[3 * i + 2] = planes[2 * n + i];
        }
        return new RgbImage(pixels, width, height);
    }

    /// <summary>The image as a PNG file (8-bit RGB, no interlace).</summary>
    public byte[] ToPng()
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour
        WriteChunk(png, "IHDR", header);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                for (int y = 0; y < Height; y++)
                {
                    z.WriteByte(0); // filter: none
                    z.Write(Pixels, y * Width * 3, Width * 3);
                }
            WriteChunk(png, "IDAT", raw.ToArray());
        }
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    static void WriteChunk(Stream s, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        s.Write(word);
    }

    /// <summary>CRC-32 as PNG defines it (ISO-HDLC polynomial, reflected).</summary>
    internal static class Crc32
    {
        static readonly uint[] Table = Build();

        static uint[] Build()
        {
            var t = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                t[n] = c;
            }
            return t;
        }

        internal static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }
    }
}

/// <summary>Grids of small images with captions, as HTML (PNG data URIs) that notebooks and reports show as is.</summary>
public static class ImageGrid
{
    /// <summary>
    /// A grid of <paramref name="images"/>, <paramref name="columns"/> per row, each drawn <paramref name="scale"/>
    /// times its size with crisp pixels, with the caption of the same index under it.
    /// </summary>
    public static HtmlFragment ToHtml(IReadOnlyList<RgbImage> images, IReadOnlyList<string>? captions = null,
        int columns = 10, int scale = 3)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (columns < 1)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "columns must be >= 1.");
        if (scale < 1 || scale > 16)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be in 1..16.");
        if (captions is not null && captions.Count != images.Count)
            throw new ArgumentException(
                $"captions has {captions.Count} entries but images has {images.Count}.", nameof(captions));
        var html = new StringBuilder();
        html.Append("<div class=\"la-image-grid\" style=\"display:grid;grid-template-columns:repeat(")
            .Append(columns).Append(",max-content);gap:6px 10px;font:11px sans-serif\">");
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i] ?? throw new ArgumentException($"images[{i}] is null.", nameof(images));
            string caption = WebUtility.HtmlEncode(captions?[i] ?? "");
            html.Append("<figure style=\"margin:0;text-align:center;max-width:").Append(image.Width * scale).Append("px\">")
                .Append("<img alt=\"").Append(caption).Append("\" width=\"").Append(image.Width * scale)
                .Append("\" height=\"").Append(image.Height * scale)
                .Append("\" style=\"image-rendering:pixelated\" src=\"data:image/png;base64,")
                .Append(Convert.ToBase64String(image.ToPng())).Append("\"/>")
                .Append("<figcaption style=\"overflow-wrap:anywhere\">").Append(caption).Append("</figcaption></figure>");
        }
        html.Append("</div>");
        return new HtmlFragment(html.ToString());
    }
}
