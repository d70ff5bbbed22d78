using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace LabelAssignment.Embedding;

/// <summary>
/// Reads the container structure of PNG, GIF, JPEG and WebP files (chunks, blocks, segments; never pixels) and
/// enforces <see cref="ImageDecodingLimits"/> before the decoder runs: frame and total pixels, frame count, metadata
/// size (compressed PNG chunks inflated with a cap, so a bomb costs at most the limit), and completeness (a
/// truncated file, or PNG pixel data that inflates to fewer bytes than the image needs, is an error: ImageSharp
/// would decode it as a partly black image without a word). Other formats get the decoder's own header check.
/// </summary>
internal static class ImageContainerCheck
{
    public static void Check(byte[] b, string name, ImageDecodingLimits limits)
    {
        if (b.AsSpan().StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            Png(b, name, limits);
        else if (b.AsSpan().StartsWith("GIF87a"u8) || b.AsSpan().StartsWith("GIF89a"u8))
            Gif(b, name, limits);
        else if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
            Jpeg(b, name, limits);
        else if (b.Length >= 12 && b.AsSpan(0, 4).SequenceEqual("RIFF"u8) && b.AsSpan(8, 4).SequenceEqual("WEBP"u8))
            Webp(b, name, limits);
    }

    private static ArgumentException Limit(string limit, string message) => new(message, limit);

    private static InvalidDataException Truncated(string name, string what) =>
        new($"{name}: truncated or corrupt image file: {what}.");

    private static void Frame(string name, long width, long height, ImageDecodingLimits limits, string what = "the image")
    {
        if (width * height > limits.MaxPixelsPerFrame)
            throw Limit(nameof(ImageDecodingLimits.MaxPixelsPerFrame),
                $"{name}: {what} is {width}x{height} = {width * height} pixels; at most MaxPixelsPerFrame = {limits.MaxPixelsPerFrame} are accepted (raise it in ImageDecodingLimits to allow it).");
    }

    /// <summary>Checks the frames a walk counted (walking costs one pass over the file's bytes, no pixels).</summary>
    private static void Frames(string name, long frames, long canvasPixels, ImageDecodingLimits limits)
    {
        if (frames > limits.MaxFrames)
            throw Limit(nameof(ImageDecodingLimits.MaxFrames),
                $"{name}: the file declares {frames} frames; at most MaxFrames = {limits.MaxFrames} are accepted.");
        if (frames * canvasPixels > limits.MaxTotalPixels)
            throw Limit(nameof(ImageDecodingLimits.MaxTotalPixels),
                $"{name}: {frames} frames on a {canvasPixels}-pixel canvas are {frames * canvasPixels} pixels to decode; at most MaxTotalPixels = {limits.MaxTotalPixels} are accepted.");
    }

    private static void Ancillary(string name, long total, ImageDecodingLimits limits, string what)
    {
        if (total > limits.MaxAncillaryBytes)
            throw Limit(nameof(ImageDecodingLimits.MaxAncillaryBytes),
                $"{name}: its metadata is more than MaxAncillaryBytes = {limits.MaxAncillaryBytes} bytes ({what}).");
    }

    /// <summary>Bytes a zlib stream inflates to, reading at most <paramref name="cap"/> + 1 of them; null when it is corrupt.</summary>
    private static long? Inflated(Stream compressed, long cap)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        try
        {
            using var z = new ZLibStream(compressed, CompressionMode.Decompress);
            int read;
            while (total <= cap && (read = z.Read(buffer, 0, (int)Math.Min(buffer.Length, cap + 1 - total))) > 0)
                total += read;
        }
        catch (InvalidDataException)
        {
            return null;
        }
        return total;
    }

    private static void Png(byte[] b, string name, ImageDecodingLimits limits)
    {
        int pos = 8;
        long width = 0, height = 0;
        int bitDepth = 0, colourType = 0, interlace = 0;
        long ancillary = 0;
        var idat = new List<(int Offset, int Length)>();
        bool end = false;
        while (!end)
        {
            if (b.Length - pos < 12)
                throw Truncated(name, $"the PNG ends at offset {b.Length} inside a chunk header, before IEND");
            long length = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(pos));
            string type = Encoding.ASCII.GetString(b, pos + 4, 4);
            if (length > b.Length - pos - 12)
                throw Truncated(name, $"the PNG chunk {type} at offset {pos} claims {length} bytes; only {Math.Max(0, b.Length - pos - 12)} remain");
            int data = pos + 8, n = (int)length;
            if (pos == 8 && type != "IHDR")
                throw new InvalidDataException($"{name}: corrupt PNG: the first chunk is {type}, not IHDR.");
            switch (type)
            {
                case "IHDR" when n >= 13:
                    width = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(data));
                    height = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(data + 4));
                    bitDepth = b[data + 8];
                    colourType = b[data + 9];
                    interlace = b[data + 12];
                    Frame(name, width, height, limits);
                    break;
                case "IDAT":
                    idat.Add((data, n));
                    break;
                case "IEND":
                    end = true;
                    break;
                case "zTXt" or "iCCP":
                {
                    // keyword or profile name, NUL, compression method, zlib stream
                    int nul = Array.IndexOf(b, (byte)0, data, n);
                    if (nul < 0 || nul + 2 > data + n)
                        break; // malformed metadata: the decoder skips it
                    long cap = limits.MaxAncillaryBytes - ancillary;
                    long inflated = Inflated(new MemoryStream(b, nul + 2, data + n - nul - 2, writable: false), cap) ?? 0;
                    ancillary += nul - data + inflated;
                    Ancillary(name, ancillary, limits, $"the {type} chunk at offset {pos} inflates to more than {inflated} bytes");
                    break;
                }
                case "iTXt":
                {
                    // keyword NUL, compression flag, method, language NUL, translated keyword NUL, text
                    int nul = Array.IndexOf(b, (byte)0, data, n);
                    if (nul < 0 || nul + 3 > data + n)
                        break;
                    bool compressed = b[nul + 1] == 1;
                    int lang = Array.IndexOf(b, (byte)0, nul + 3, data + n - nul - 3);
                    int translated = lang < 0 ? -1 : Array.IndexOf(b, (byte)0, lang + 1, data + n - lang - 1);
                    if (!compressed || translated < 0)
                    {
                        ancillary += n;
                    }
                    else
                    {
                        long cap = limits.MaxAncillaryBytes - ancillary;
                        long inflated = Inflated(new MemoryStream(b, translated + 1, data + n - translated - 1, writable: false), cap) ?? 0;
                        ancillary += translated + 1 - data + inflated;
                    }
                    Ancillary(name, ancillary, limits, $"the iTXt chunk at offset {pos} brings it to more than {ancillary} bytes");
                    break;
                }
                default:
                    if (char.IsLower(type[0])) // ancillary chunk (tEXt, eXIf, private chunks, ...)
                    {
                        ancillary += n;
                        Ancillary(name, ancillary, limits, $"the {type} chunk at offset {pos} brings it to {ancillary} bytes");
                    }
                    break;
            }
            pos = data + n + 4;
        }
        if (width == 0 || height == 0)
            return; // the decoder reports the bad header
        if (idat.Count == 0)
            throw Truncated(name, "the PNG has no IDAT chunk: no pixel data");
        long need = PngRawBytes(width, height, bitDepth, colourType, interlace);
        if (need <= 0)
            return; // an invalid colour type or depth: the decoder reports it
        var stream = new MemoryStream(idat.Sum(c => c.Length));
        foreach (var (offset, length) in idat)
            stream.Write(b, offset, length);
        stream.Position = 0;
        long? got = Inflated(stream, need);
        if (got is null)
            throw new InvalidDataException($"{name}: corrupt PNG: the pixel data (IDAT) is not a valid zlib stream.");
        if (got < need)
            throw Truncated(name,
                $"the PNG's pixel data is truncated: IDAT inflates to {got} of {need} bytes the {width}x{height} image needs (the rest would decode as black)");
    }

    /// <summary>Filtered scanline bytes of a PNG: rows x (filter byte + packed row), per Adam7 pass when interlaced.</summary>
    private static long PngRawBytes(long width, long height, int bitDepth, int colourType, int interlace)
    {
        int channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 0 };
        if (channels == 0 || bitDepth is not (1 or 2 or 4 or 8 or 16))
            return 0;
        long bits = (long)bitDepth * channels;
        long Rows(long w, long h) => w > 0 && h > 0 ? h * (1 + (w * bits + 7) / 8) : 0;
        if (interlace == 0)
            return Rows(width, height);
        ReadOnlySpan<int> x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        long total = 0;
        for (int p = 0; p < 7; p++)
            total += Rows((width - x0[p] + dx[p] - 1) / dx[p], (height - y0[p] + dy[p] - 1) / dy[p]);
        return total;
    }

    private static void Gif(byte[] b, string name, ImageDecodingLimits limits)
    {
        if (b.Length < 13)
            throw Truncated(name, $"the GIF is {b.Length} bytes, shorter than its header");
        long width = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)), height = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8));
        Frame(name, width, height, limits, "the canvas");
        long pos = 13 + ((b[10] & 0x80) != 0 ? 3 << ((b[10] & 7) + 1) : 0);
        long frames = 0, ancillary = 0;
        while (true)
        {
            if (pos >= b.Length)
            {
                if (frames > 0)
                    break; // a missing trailer after complete frames is common and harmless
                throw Truncated(name, $"the GIF ends at offset {b.Length} before its first frame");
            }
            byte block = b[pos];
            if (block == 0x3B)
                break;
            if (block == 0x21)
            {
                if (pos + 2 > b.Length)
                    throw Truncated(name, $"the GIF extension at offset {pos} is cut off");
                byte label = b[pos + 1];
                long size = SubBlocks(b, pos + 2, name, out long next);
                if (label is 0xFE or 0xFF or 0x01) // comment, application, plain text
                {
                    ancillary += size;
                    Ancillary(name, ancillary, limits, $"the extension block at offset {pos} brings it to {ancillary} bytes");
                }
                pos = next;
            }
            else if (block == 0x2C)
            {
                if (pos + 11 > b.Length)
                    throw Truncated(name, $"the GIF image descriptor at offset {pos} is cut off");
                long w = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)pos + 5)), h = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)pos + 7));
                Frame(name, w, h, limits, $"frame {frames}");
                byte flags = b[pos + 9];
                pos += 10 + ((flags & 0x80) != 0 ? 3 << ((flags & 7) + 1) : 0) + 1; // descriptor, local table, LZW code size
                SubBlocks(b, pos, name, out pos);
                frames++;
            }
            else
            {
                throw new InvalidDataException($"{name}: corrupt GIF: unknown block 0x{block:x2} at offset {pos}.");
            }
        }
        Frames(name, frames, width * height, limits);
    }

    /// <summary>Walks GIF data sub-blocks from <paramref name="pos"/> to the terminator; returns their payload size.</summary>
    private static long SubBlocks(byte[] b, long pos, string name, out long next)
    {
        long size = 0;
        while (true)
        {
            if (pos >= b.Length)
                throw Truncated(name, $"the GIF's data sub-blocks end at offset {b.Length} without their terminator");
            int n = b[pos];
            if (n == 0)
            {
                next = pos + 1;
                return size;
            }
            if (pos + 1 + n > b.Length)
                throw Truncated(name, $"the GIF data sub-block at offset {pos} claims {n} bytes; only {b.Length - pos - 1} remain");
            size += n;
            pos += 1 + n;
        }
    }

    private static void Jpeg(byte[] b, string name, ImageDecodingLimits limits)
    {
        long pos = 2, ancillary = 0;
        while (true)
        {
            while (pos < b.Length && b[pos] == 0xFF && pos + 1 < b.Length && b[pos + 1] == 0xFF)
                pos++; // fill bytes
            if (pos + 2 > b.Length)
                throw Truncated(name, $"the JPEG ends at offset {b.Length} without its end-of-image marker");
            if (b[pos] != 0xFF)
                throw new InvalidDataException($"{name}: corrupt JPEG: expected a marker at offset {pos}, found 0x{b[pos]:x2}.");
            byte marker = b[pos + 1];
            if (marker == 0xD9)
                return; // EOI
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                pos += 2;
                continue;
            }
            if (pos + 4 > b.Length)
                throw Truncated(name, $"the JPEG segment at offset {pos} is cut off");
            int length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan((int)pos + 2));
            if (length < 2 || pos + 2 + length > b.Length)
                throw Truncated(name, $"the JPEG segment 0x{marker:x2} at offset {pos} claims {length} bytes; {b.Length - pos - 2} remain");
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC) && length >= 8)
                Frame(name, BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan((int)pos + 7)), BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan((int)pos + 5)), limits);
            if (marker is (>= 0xE0 and <= 0xEF) or 0xFE)
            {
                ancillary += length - 2;
                Ancillary(name, ancillary, limits, $"the APPn/COM segment at offset {pos} brings it to {ancillary} bytes");
            }
            pos += 2 + length;
            if (marker == 0xDA)
            {
                // Entropy-coded data runs to the next marker that is neither stuffing (FF 00) nor a restart (FF D0-D7).
                while (pos + 1 < b.Length && !(b[pos] == 0xFF && b[pos + 1] != 0 && b[pos + 1] is not (>= 0xD0 and <= 0xD7)))
                    pos++;
                if (pos + 1 >= b.Length)
                    throw Truncated(name, $"the JPEG's scan data runs to the end of the file (offset {b.Length}) without an end-of-image marker: the pixel data is cut off");
            }
        }
    }

    private static void Webp(byte[] b, string name, ImageDecodingLimits limits)
    {
        long riff = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4));
        if (riff + 8 > b.Length)
            throw Truncated(name, $"the WebP's RIFF header claims {riff + 8} bytes; the file has {b.Length}");
        long pos = 12, end = riff + 8, frames = 0, canvas = 0, ancillary = 0;
        while (pos + 8 <= end)
        {
            string type = Encoding.ASCII.GetString(b, (int)pos, 4);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)pos + 4));
            if (pos + 8 + size > end)
                throw Truncated(name, $"the WebP chunk {type} at offset {pos} claims {size} bytes; only {end - pos - 8} remain");
            if (type == "VP8X" && size >= 10)
            {
                long w = 1 + (b[pos + 12] | (b[pos + 13] << 8) | (b[pos + 14] << 16)), h = 1 + (b[pos + 15] | (b[pos + 16] << 8) | (b[pos + 17] << 16));
                Frame(name, w, h, limits, "the canvas");
                canvas = w * h;
            }
            else if (type == "ANMF")
            {
                frames++;
            }
            else if (type is "ICCP" or "EXIF" or "XMP ")
            {
                ancillary += size;
                Ancillary(name, ancillary, limits, $"the {type.Trim()} chunk at offset {pos} brings it to {ancillary} bytes");
            }
            pos += 8 + size + (size & 1);
        }
        Frames(name, frames, canvas, limits);
    }
}
