using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using LabelAssignment.Embedding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Tests.Embedding;

/// <summary>
/// Issue 9, finding 6: decoder limits that looked only at the first frame's size. The hostile files are built here
/// byte by byte from the container specifications (GIF89a, PNG), so what they claim is known exactly.
/// </summary>
public class DecodingLimitsTests
{
    private static ImagePreprocessor Preprocessor(ImageDecodingLimits? limits = null) => new(ModelPreset.Blip2Vision(), limits: limits);

    /// <summary>The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320), computed bit by bit.</summary>
    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++)
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    private static void Chunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        var typed = new byte[4 + data.Length];
        Encoding.ASCII.GetBytes(type).CopyTo(typed, 0);
        data.CopyTo(typed.AsSpan(4));
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32(typed));
        png.Write(four);
    }

    private static byte[] Zlib(Action<Stream> write)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true))
            write(z);
        return ms.ToArray();
    }

    /// <summary>
    /// An 8-bit RGB PNG of <paramref name="width"/> x <paramref name="height"/> whose IDAT holds only the first
    /// <paramref name="rows"/> rows (filter byte 0, then grey 200 pixels), with optional extra chunks before IDAT.
    /// </summary>
    private static byte[] Png(int width, int height, int rows, params (string Type, byte[] Data)[] extra)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB
        Chunk(png, "IHDR", ihdr);
        foreach (var (type, data) in extra)
            Chunk(png, type, data);
        var row = new byte[1 + 3 * width];
        row.AsSpan(1).Fill(200);
        Chunk(png, "IDAT", Zlib(z => { for (int y = 0; y < rows; y++) z.Write(row); }));
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// A GIF89a with a <paramref name="canvas"/> x <paramref name="canvas"/> logical screen and
    /// <paramref name="frames"/> 1x1 frames (2-colour table; LZW codes clear, 0, end in 3 bits each).
    /// </summary>
    private static byte[] Gif(int canvas, int frames)
    {
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        Span<byte> s = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)canvas); gif.Write(s);
        BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)canvas); gif.Write(s);
        gif.Write([0x80, 0, 0]);            // global colour table of 2 entries, background 0, aspect 0
        gif.Write([0, 0, 0, 255, 255, 255]); // black, white
        for (int f = 0; f < frames; f++)
        {
            gif.Write([0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control: 0.1 s delay
            gif.Write([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]); // image descriptor: at (0, 0), 1x1, no local table
            gif.Write([2, 2, 0x44, 0x01, 0]);            // min code size 2; codes 4, 0, 5 = 0b101_000_100
        }
        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    [Fact]
    public void Gif_with_a_huge_canvas_and_many_frames_is_refused_by_its_total_pixels_before_decoding()
    {
        byte[] gif = Gif(7000, 10);
        Assert.True(gif.Length <= 250, $"{gif.Length} bytes");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArgumentException>(() => Preprocessor().Decode(gif, "bomb.gif"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("bomb.gif", e.Message);
        Assert.Contains("MaxTotalPixels", e.Message);
        Assert.Contains("490000000", e.Message); // 10 frames x 7000 x 7000, each decoded onto the full canvas
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated before refusing");

        var frames = Assert.Throws<ArgumentException>(() => Preprocessor(new ImageDecodingLimits { MaxFrames = 5 }).Decode(Gif(16, 10), "many.gif"));
        Assert.Contains("MaxFrames", frames.Message);
        Assert.Contains("10 frames", frames.Message);

        // The same structure at a small size decodes (so the refusal above is the limit, not a malformed file).
        using var small = Preprocessor().Decode(Gif(16, 10), "small.gif");
        Assert.Equal(16, small.Width);
    }

    [Fact]
    public void Png_whose_ztxt_chunk_inflates_to_200_mb_is_refused_by_its_ancillary_size()
    {
        const int inflated = 200_000_000;
        byte[] text = Zlib(z =>
        {
            var zeros = new byte[1 << 20];
            for (int done = 0; done < inflated; done += zeros.Length)
                z.Write(zeros, 0, Math.Min(zeros.Length, inflated - done));
        });
        byte[] ztxt = [.. "Comment"u8, 0, 0, .. text]; // keyword, NUL, compression method 0, zlib data
        byte[] png = Png(8, 8, 8, ("zTXt", ztxt));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArgumentException>(() => Preprocessor().Decode(png, "text.png"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("text.png", e.Message);
        Assert.Contains("MaxAncillaryBytes", e.Message);
        Assert.Contains("zTXt", e.Message);
        Assert.True(allocated < 64 << 20, $"{allocated} bytes allocated before refusing");

        // A small zTXt is fine: the image decodes with the pixels IDAT holds.
        byte[] note = [.. "Comment"u8, 0, 0, .. Zlib(z => z.Write("hello"u8))];
        using var ok = Preprocessor().Decode(Png(8, 8, 8, ("zTXt", note)), "note.png");
        Assert.Equal(200, ok[3, 5].R);
    }

    [Fact]
    public void Png_with_truncated_pixel_data_is_an_error_not_a_black_image()
    {
        // 7000 x 7000 (49 MP, under the per-frame limit) whose zlib stream ends after 10 of 7000 rows, then IEND.
        byte[] png = Png(7000, 7000, 10);
        var e = Assert.Throws<InvalidDataException>(() => Preprocessor().Decode(png, "cut.png"));
        Assert.Contains("cut.png", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains($"{10 * (1 + 3 * 7000)} of {7000 * (1 + 3 * 7000)}", e.Message);

        // The file cut inside IDAT (no IEND) is refused the same way.
        byte[] whole = Png(64, 64, 64);
        var cut = Assert.Throws<InvalidDataException>(() => Preprocessor().Decode(whole[..(whole.Length - 40)], "short.png"));
        Assert.Contains("short.png", cut.Message);
        Assert.Contains("truncated", cut.Message);
        using var full = Preprocessor().Decode(whole, "whole.png");
        Assert.Equal(200, full[63, 63].B);
    }

    [Fact]
    public void Jpeg_cut_inside_its_scan_data_is_an_error()
    {
        using var image = new Image<Rgb24>(64, 64);
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                image[x, y] = new Rgb24((byte)(4 * x), (byte)(4 * y), 99);
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        byte[] jpeg = ms.ToArray();
        using (var whole = Preprocessor().Decode(jpeg, "whole.jpg"))
            Assert.Equal(64, whole.Width);
        var e = Assert.Throws<InvalidDataException>(() => Preprocessor().Decode(jpeg[..(jpeg.Length * 2 / 3)], "cut.jpg"));
        Assert.Contains("cut.jpg", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Limits_validate_naming_the_property()
    {
        new ImageDecodingLimits().Validate();
        foreach (var (name, bad) in new (string, ImageDecodingLimits)[]
        {
            ("MaxPixelsPerFrame", new() { MaxPixelsPerFrame = 0 }),
            ("MaxTotalPixels", new() { MaxTotalPixels = 10, MaxPixelsPerFrame = 100 }),
            ("MaxFrames", new() { MaxFrames = 0 }),
            ("MaxAncillaryBytes", new() { MaxAncillaryBytes = -1 }),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
            Assert.Equal(name, e.ParamName);
            Assert.Contains(name, e.Message);
        }
        Assert.Equal("MaxFrames", Assert.Throws<ArgumentOutOfRangeException>(() => new EmbedderOptions { Decoding = new() { MaxFrames = 0 } }.Validate()).ParamName);
    }
}
