using LabelAssignment.Embedding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Tests.Embedding;

/// <summary>A generated model with BLIP-2's vision-tower signature, written once for the class.</summary>
public sealed class FakeBlip2Fixture : IDisposable
{
    public FakeBlip2Fixture()
    {
        Folder = TestPaths.NewTempFolder();
        ModelPath = Path.Combine(Folder, "blip2-vision.onnx");
        FakeOnnxModels.WriteBlip2Like(ModelPath);
        Embedder = new OnnxImageEmbedder(ModelPreset.Blip2Vision(ModelPath), new EmbedderOptions { BatchSize = 2 });
    }

    public string Folder { get; }
    public string ModelPath { get; }
    public OnnxImageEmbedder Embedder { get; }

    public void Dispose()
    {
        Embedder.Dispose();
        Directory.Delete(Folder, true);
    }
}

public class Blip2AndBadInputTests(FakeBlip2Fixture f) : IClassFixture<FakeBlip2Fixture>
{
    private static byte[] Png(int width, int height, Rgb24 colour)
    {
        using var image = new Image<Rgb24>(width, height, colour);
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }

    /// <summary>pooler_output of the fake model for a flat colour, computed by hand: CLIP-normalise each channel, then W·x + B.</summary>
    private static float[] Expected(Rgb24 c)
    {
        float[] rgb = [c.R, c.G, c.B];
        var x = new double[3];
        for (int k = 0; k < 3; k++)
            x[k] = (rgb[k] / 255.0 - ImageNormalization.ClipMean[k]) / ImageNormalization.ClipStd[k];
        var y = new float[1408];
        for (int j = 0; j < 1408; j++)
            y[j] = (float)(x[0] * FakeOnnxModels.W(0, j) + x[1] * FakeOnnxModels.W(1, j) + x[2] * FakeOnnxModels.W(2, j) + FakeOnnxModels.B(j));
        return y;
    }

    [Fact]
    public void Blip2_preset_feeds_clip_normalised_rgb_and_reads_pooler_output()
    {
        Assert.Equal(1408, f.Embedder.Dimension);
        var colours = new[] { new Rgb24(250, 10, 60), new Rgb24(0, 128, 255), new Rgb24(90, 90, 90) };
        // Different sizes, so the resize runs; a flat colour stays flat under bicubic resampling.
        var e = f.Embedder.EmbedEncoded([Png(32, 32, colours[0]), Png(300, 170, colours[1]), Png(224, 224, colours[2])]);
        Assert.Equal((3, 1408), (e.Count, e.Dimension));
        for (int i = 0; i < 3; i++)
        {
            var want = Expected(colours[i]); // tolerance: float32 averaging of 50,176 values; one pixel level moves x by 0.015
            for (int j = 0; j < 1408; j++)
                Assert.True(Math.Abs(want[j] - e.Row(i)[j]) < 1e-3f, $"image {i}, value {j}: {e.Row(i)[j]} vs {want[j]}");
        }
    }

    [Fact]
    public void L2_normalised_rows_are_the_raw_rows_scaled_to_unit_length()
    {
        byte[][] images = [Png(32, 32, new Rgb24(250, 10, 60)), Png(50, 40, new Rgb24(3, 200, 100))];
        var raw = f.Embedder.EmbedEncoded(images);
        using var unit = new OnnxImageEmbedder(ModelPreset.Blip2Vision(f.ModelPath), new EmbedderOptions { L2Normalize = true, BatchSize = 1 });
        var n = unit.EmbedEncoded(images);
        for (int i = 0; i < 2; i++)
        {
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(raw.Row(i));
            Assert.True(norm > 1);
            Assert.Equal(1f, System.Numerics.Tensors.TensorPrimitives.Norm(n.Row(i)), 1e-5f);
            for (int j = 0; j < 1408; j += 37)
                Assert.Equal(raw.Row(i)[j] / norm, n.Row(i)[j], 1e-5f);
        }
    }

    [Fact]
    public void Missing_model_file_names_the_path_and_the_readme()
    {
        var e = Assert.Throws<FileNotFoundException>(() => new OnnxImageEmbedder(ModelPreset.Blip2Vision(Path.Combine(f.Folder, "absent.onnx"))));
        Assert.Contains("absent.onnx", e.Message);
        Assert.Contains("models/README.md", e.Message);
        var r = Assert.Throws<FileNotFoundException>(() => ModelPreset.ResNet18(224, Path.Combine(f.Folder, "nothing")));
        Assert.Contains("ResNetPreprocess.onnx", r.Message);
    }

    [Fact]
    public void Model_whose_input_or_output_does_not_match_the_preset_is_refused()
    {
        string small = Path.Combine(f.Folder, "input64.onnx");
        FakeOnnxModels.WriteBlip2Like(small, inputSize: 64);
        var e1 = Assert.Throws<ArgumentException>(() => new OnnxImageEmbedder(ModelPreset.Blip2Vision(small)));
        Assert.Contains("[-1, 3, 64, 64]", e1.Message);
        Assert.Contains("224", e1.Message);

        string renamed = Path.Combine(f.Folder, "renamed.onnx");
        FakeOnnxModels.WriteBlip2Like(renamed, outputName: "image_embeds");
        var e2 = Assert.Throws<ArgumentException>(() => new OnnxImageEmbedder(ModelPreset.Blip2Vision(renamed)));
        Assert.Contains("no output 'pooler_output'", e2.Message);
        Assert.Contains("image_embeds", e2.Message);

        string wide = Path.Combine(f.Folder, "dim768.onnx");
        FakeOnnxModels.WriteBlip2Like(wide, dim: 768);
        var e3 = Assert.Throws<ArgumentException>(() => new OnnxImageEmbedder(ModelPreset.Blip2Vision(wide)));
        Assert.Contains("768", e3.Message);
        Assert.Contains("1408", e3.Message);

        string garbage = Path.Combine(f.Folder, "garbage.onnx");
        File.WriteAllText(garbage, "this is not a protobuf");
        var e4 = Assert.Throws<InvalidDataException>(() => new OnnxImageEmbedder(ModelPreset.Blip2Vision(garbage)));
        Assert.Contains(garbage, e4.Message);
    }

    [Fact]
    public void Not_an_image_is_InvalidDataException_naming_it()
    {
        var e = Assert.Throws<InvalidDataException>(() => f.Embedder.EmbedEncoded([System.Text.Encoding.UTF8.GetBytes("hello, not a picture")], ["notes.txt"]));
        Assert.Contains("notes.txt", e.Message);
        Assert.Contains("not an image", e.Message);
    }

    [Fact]
    public void One_by_one_image_is_refused_with_its_size()
    {
        var e = Assert.Throws<ArgumentException>(() => f.Embedder.EmbedEncoded([Png(1, 1, new Rgb24(1, 2, 3))], ["dot.png"]));
        Assert.Contains("dot.png", e.Message);
        Assert.Contains("1x1", e.Message);
        using var tiny = new Image<Rgb24>(1, 1);
        Assert.Contains("1x1", Assert.Throws<ArgumentException>(() => f.Embedder.Embed(tiny)).Message);
    }

    [Fact]
    public void Enormous_image_is_refused_from_its_header_before_decoding()
    {
        // A 54-byte BMP header claiming 60000 x 60000 (3.6 gigapixels, ~10 GB as RGB) and no pixel data:
        // refusing it without an OutOfMemoryException shows the limit is checked before allocation.
        var bmp = new byte[54];
        "BM"u8.CopyTo(bmp);
        BitConverter.GetBytes(54).CopyTo(bmp, 10);   // pixel data offset
        BitConverter.GetBytes(40).CopyTo(bmp, 14);   // BITMAPINFOHEADER
        BitConverter.GetBytes(60000).CopyTo(bmp, 18);
        BitConverter.GetBytes(60000).CopyTo(bmp, 22);
        BitConverter.GetBytes((short)1).CopyTo(bmp, 26);
        BitConverter.GetBytes((short)24).CopyTo(bmp, 28);
        var e = Assert.Throws<ArgumentException>(() => f.Embedder.EmbedEncoded([bmp], ["huge.bmp"]));
        Assert.Contains("huge.bmp", e.Message);
        Assert.Contains("60000x60000", e.Message);
        Assert.Contains("MaxPixelsPerFrame", e.Message);

        using var strict = new OnnxImageEmbedder(ModelPreset.Blip2Vision(f.ModelPath), new EmbedderOptions { Decoding = new ImageDecodingLimits { MaxPixelsPerFrame = 1000 } });
        Assert.Throws<ArgumentException>(() => strict.EmbedEncoded([Png(40, 40, new Rgb24(5, 5, 5))]));
    }

    [Fact]
    public void Batch_with_one_bad_image_names_that_image()
    {
        string dir = TestPaths.NewTempFolder();
        try
        {
            string good = Path.Combine(dir, "good.png"), bad = Path.Combine(dir, "broken.png");
            File.WriteAllBytes(good, Png(40, 40, new Rgb24(10, 20, 30)));
            byte[] broken = Png(40, 40, new Rgb24(10, 20, 30));
            File.WriteAllBytes(bad, broken[..20]); // PNG signature and part of IHDR
            var e = Assert.ThrowsAny<Exception>(() => f.Embedder.EmbedFiles([good, good, bad, good]));
            Assert.True(e is InvalidDataException, e.GetType().Name + ": " + e.Message);
            Assert.Contains("item 2", e.Message);
            Assert.Contains("broken.png", e.Message);
            var missing = Assert.Throws<FileNotFoundException>(() => f.Embedder.EmbedFiles([good, Path.Combine(dir, "gone.png")]));
            Assert.Contains("gone.png", missing.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Cmyk_jpeg_is_converted_to_rgb_like_pillow_does()
    {
        string folder = Path.Combine(TestPaths.Fixtures, "images");
        using var decoded = f.Embedder.Preprocessor.Load(Path.Combine(folder, "cmyk.jpg"));
        using var reference = Image.Load<Rgb24>(Path.Combine(folder, "cmyk_as_rgb.png"));
        double diff = 0;
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
            {
                var a = decoded[x, y];
                var b = reference[x, y];
                diff += Math.Abs(a.R - b.R) + Math.Abs(a.G - b.G) + Math.Abs(a.B - b.B);
            }
        Assert.True(diff / (40 * 40 * 3) < 3, $"mean absolute difference {diff / (40 * 40 * 3)} per channel");
        var e = f.Embedder.EmbedFiles([Path.Combine(folder, "cmyk.jpg")]);
        Assert.Equal(1408, e.Dimension);
    }

    [Fact]
    public void Options_and_presets_validate_naming_the_parameter()
    {
        Assert.Contains("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new EmbedderOptions { BatchSize = 0 }.Validate()).Message);
        Assert.Contains("MaxPixelsPerFrame", Assert.Throws<ArgumentOutOfRangeException>(() => new EmbedderOptions { Decoding = new ImageDecodingLimits { MaxPixelsPerFrame = 0 } }.Validate()).Message);
        Assert.Contains("inputSize", Assert.Throws<ArgumentOutOfRangeException>(() => ModelPreset.ResNet18(100)).Message);
        Assert.Contains("'vgg'", Assert.Throws<ArgumentException>(() => ModelPreset.ByName("vgg")).Message);
        Assert.Equal(128, ModelPreset.ByName("ResNet18-128").InputSize);
        Assert.Equal(224, ModelPreset.ByName("resnet18").InputSize);
        Assert.Equal(f.ModelPath, ModelPreset.ByName("blip2", f.ModelPath).ModelPath);
        var p = ModelPreset.Blip2Vision(f.ModelPath);
        Assert.Contains("Std", Assert.Throws<ArgumentException>(() => (p with { Normalization = p.Normalization with { Std = [1, 0, 1] } }).Validate()).Message);
        Assert.Contains("OutputDimension", Assert.Throws<ArgumentOutOfRangeException>(() => (p with { OutputDimension = 0 }).Validate()).Message);
    }
}
