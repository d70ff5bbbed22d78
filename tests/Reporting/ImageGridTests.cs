using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Reporting;

public class ImageGridTests
{
    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        // The CRC-32/ISO-HDLC check value for "123456789" is 0xCBF43926.
        uint crc = RgbImage.Crc32.Update(0xFFFFFFFFu, Encoding.ASCII.GetBytes("123456789")) ^ 0xFFFFFFFFu;
        Assert.Equal(0xCBF43926u, crc);
    }

    [Fact]
    public void Png_holds_the_pixels_row_by_row_with_valid_chunk_checksums()
    {
        byte[] pixels = Enumerable.Range(0, 2 * 3 * 3).Select(i => (byte)(i * 13)).ToArray();
        byte[] png = new RgbImage(pixels, 3, 2).ToPng();
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            string type = Encoding.ASCII.GetString(png, at + 4, 4);
            byte[] data = png[(at + 8)..(at + 8 + length)];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length));
            Assert.Equal(RgbImage.Crc32.Update(0xFFFFFFFFu, png.AsSpan(at + 4, 4 + length)) ^ 0xFFFFFFFFu, crc);
            chunks.Add((type, data));
            at += 12 + length;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data.AsSpan(4)));
        Assert.Equal([8, 2, 0, 0, 0], chunks[0].Data[8..]);
        using var z = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        // Each row: filter byte 0, then the row's RGB bytes.
        byte[] expected = [0, .. pixels[..9], 0, .. pixels[9..]];
        Assert.Equal(expected, raw.ToArray());
    }

    [Fact]
    public void FromPlanar_interleaves_the_cifar_layout()
    {
        // 2 pixels: R plane [1, 2], G plane [3, 4], B plane [5, 6].
        var image = RgbImage.FromPlanar([1, 2, 3, 4, 5, 6], 2, 1);
        Assert.Equal([1, 3, 5, 2, 4, 6], image.Pixels);
        Assert.Contains("needs 6", Assert.Throws<ArgumentException>(() => RgbImage.FromPlanar([1, 2, 3], 2, 1)).Message);
    }

    [Fact]
    public void Grid_has_one_figure_per_image_with_its_encoded_caption()
    {
        var img = new RgbImage(new byte[4 * 4 * 3], 4, 4);
        string html = ImageGrid.ToHtml([img, img, img], ["apple", "b<c", "d"], columns: 2, scale: 2).Html;
        Assert.Equal(3, html.Split("<figure").Length - 1);
        Assert.Contains("repeat(2,", html);
        Assert.Contains("b&lt;c", html);
        Assert.Contains("width=\"8\"", html);
        Assert.Contains("data:image/png;base64," + Convert.ToBase64String(img.ToPng()), html);
    }

    [Fact]
    public void Bad_images_and_grids_are_rejected_with_the_parameter_named()
    {
        Assert.Equal("pixels", Assert.Throws<ArgumentException>(() => new RgbImage(new byte[5], 1, 2)).ParamName);
        Assert.Equal("width", Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage([], 0, 1)).ParamName);
        Assert.Equal("height", Assert.Throws<ArgumentOutOfRangeException>(() => new RgbImage([], 1, RgbImage.MaxSide + 1)).ParamName);
        var img = new RgbImage(new byte[3], 1, 1);
        Assert.Equal("captions", Assert.Throws<ArgumentException>(() => ImageGrid.ToHtml([img], ["a", "b"])).ParamName);
        Assert.Equal("columns", Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.ToHtml([img], columns: 0)).ParamName);
        Assert.Equal("scale", Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.ToHtml([img], scale: 0)).ParamName);
    }
}
