using LabelAssignment.Data;
using LabelAssignment.Embedding;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace LabelAssignment.Tests.Embedding;

/// <summary>One 224 embedder and a few CIFAR-100 test images (the real ones when ../shared/cifar-100 is present),
/// shared by the ResNet18 tests (sessions are slow to create).</summary>
public sealed class ResNet18Fixture : IDisposable
{
    public ResNet18Fixture()
    {
        Preset = ModelPreset.ResNet18();
        Embedder = new OnnxImageEmbedder(Preset, new EmbedderOptions { BatchSize = 4 });
        Images = Cifar100.Load(TestPaths.Cifar100, Cifar100Split.Test).Take(5);
        Shipped = new InferenceSession(Path.Combine(ResNet18Model.DefaultFolder, ResNet18Model.ModelRelativePath));
    }

    /// <summary>The packaged network as shipped (batch 1, fixed 224).</summary>
    public InferenceSession Shipped { get; }

    public ModelPreset Preset { get; }
    public OnnxImageEmbedder Embedder { get; }
    public Cifar100Dataset Images { get; }

    public void Dispose()
    {
        Embedder.Dispose();
        Shipped.Dispose();
    }
}

public class ResNet18Tests(ResNet18Fixture f) : IClassFixture<ResNet18Fixture>
{
    private static string Folder => ResNet18Model.DefaultFolder;

    /// <summary>The package's own input: RGB planar floats 0-255 at 224x224 after the same bicubic resize.</summary>
    private static float[] ShippedInput(Cifar100Dataset d, int i)
    {
        using var image = d.ToImage(i);
        image.Mutate(c => c.Resize(new ResizeOptions { Size = new Size(224, 224), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Bicubic }));
        var planes = new float[3 * 224 * 224];
        for (int y = 0; y < 224; y++)
            for (int x = 0; x < 224; x++)
            {
                var p = image[x, y];
                planes[y * 224 + x] = p.R;
                planes[224 * 224 + y * 224 + x] = p.G;
                planes[2 * 224 * 224 + y * 224 + x] = p.B;
            }
        return planes;
    }

    private static float[] RunSingle(InferenceSession session, string input, string output, float[] data, int size = 224)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(data, [1, 3, size, size]);
        using var results = session.Run(new RunOptions(), [input], [value], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    [Fact]
    public void Folded_preprocessing_equals_the_package_preprocessing_graph()
    {
        using var prep = new InferenceSession(Path.Combine(Folder, ResNet18Model.PreprocessRelativePath));
        var pre = new ImagePreprocessor(f.Preset);
        for (int i = 0; i < 2; i++)
        {
            float[] graphOut = RunSingle(prep, "OriginalInput", "PreprocessedInput", ShippedInput(f.Images, i));
            var ours = new float[pre.TensorLength];
            pre.FillFromPlanes(f.Images.ImagePlanes(i), 32, 32, ours);
            Assert.Equal(0f, MaxAbsDiff(graphOut, ours)); // the same float subtraction, in BGR order
        }
    }

    [Fact]
    public void Dynamic_batch_gives_the_shipped_pipeline_outputs()
    {
        using var prep = new InferenceSession(Path.Combine(Folder, ResNet18Model.PreprocessRelativePath));
        var net = f.Shipped;
        var batch = f.Embedder.Embed(f.Images.Take(3));
        Assert.Equal((3, 512), (batch.Count, batch.Dimension));
        for (int i = 0; i < 3; i++)
        {
            float[] x = RunSingle(prep, "OriginalInput", "PreprocessedInput", ShippedInput(f.Images, i));
            float[] shipped = RunSingle(net, ResNet18Model.InputName, ResNet18Model.OutputName, x);
            Assert.True(shipped.Max() > 0.5f); // a real activation, not zeros
            Assert.True(MaxAbsDiff(shipped, batch.Row(i)) < 1e-4f * shipped.Max(), $"image {i}: {MaxAbsDiff(shipped, batch.Row(i))}");
        }
    }

    [Fact]
    public void Spatial_edits_keep_the_224_output_identical()
    {
        var original = f.Shipped;
        using var edited = new InferenceSession(ResNet18Model.Prepare(Path.Combine(Folder, ResNet18Model.ModelRelativePath), dynamicSpatial: true));
        Assert.Equal([-1, 3, -1, -1], edited.InputMetadata[ResNet18Model.InputName].Dimensions);
        var pre = new ImagePreprocessor(f.Preset);
        var x = new float[pre.TensorLength];
        pre.FillFromPlanes(f.Images.ImagePlanes(4), 32, 32, x);
        float[] a = RunSingle(original, ResNet18Model.InputName, ResNet18Model.OutputName, x);
        float[] b = RunSingle(edited, ResNet18Model.InputName, ResNet18Model.OutputName, x);
        Assert.True(MaxAbsDiff(a, b) < 1e-5f * a.Max(), $"max diff {MaxAbsDiff(a, b)}");

        // The same edited graph takes 112x112 (a 7x7 map before the last stage: odd).
        foreach (int size in new[] { 112 })
        {
            float[] y = RunSingle(edited, ResNet18Model.InputName, ResNet18Model.OutputName, new float[3 * size * size], size);
            Assert.Equal(512, y.Length);
            Assert.All(y, v => Assert.True(float.IsFinite(v) && v >= 0)); // after ReLU and averaging
        }
    }

    [Fact]
    public void Odd_feature_maps_fail_without_symmetric_padding_and_work_with_it()
    {
        // At 112 the last stage sees a 7x7 map: CNTK's one-sided padding gives 3x3 against the shortcut's 4x4.
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Folder, ResNet18Model.ModelRelativePath)));
        model.Graph.SetDim();
        var dims = model.Graph.Input[0].Type.TensorType.Shape.Dim;
        dims[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
        dims[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };
        model.Graph.ValueInfo.Clear();
        var pool = model.Graph.Node.Single(n => n.OpType == "AveragePool");
        pool.OpType = "GlobalAveragePool";
        pool.Attribute.Clear();
        using var padsUnchanged = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        var x = new float[3 * 112 * 112];
        Assert.ThrowsAny<OnnxRuntimeException>(() => RunSingle(padsUnchanged, ResNet18Model.InputName, ResNet18Model.OutputName, x, 112));
        // With symmetric padding the same input runs: see Spatial_edits_keep_the_224_output_identical.
    }

    [Fact]
    public void Smaller_input_uses_the_resized_mean_image_and_agrees_with_224()
    {
        float[] m224 = ResNet18Model.MeanImage(Path.Combine(Folder, ResNet18Model.PreprocessRelativePath), 224);
        float[] m128 = ResNet18Model.MeanImage(Path.Combine(Folder, ResNet18Model.PreprocessRelativePath), 128);
        Assert.Equal(3 * 128 * 128, m128.Length);
        for (int c = 0; c < 3; c++)
            Assert.Equal(m224.Skip(c * 224 * 224).Take(224 * 224).Average(), m128.Skip(c * 128 * 128).Take(128 * 128).Average(), 0.5);
        Assert.True(m224[0] < m224[2 * 224 * 224]); // B plane first: ImageNet's blue mean is below its red mean

        using var small = new OnnxImageEmbedder(ModelPreset.ResNet18(128), new EmbedderOptions { L2Normalize = true });
        var a = small.Embed(f.Images.Take(3));
        var b = f.Embedder.Embed(f.Images.Take(3));
        for (int i = 0; i < 3; i++)
            System.Numerics.Tensors.TensorPrimitives.Divide(b.Row(i), System.Numerics.Tensors.TensorPrimitives.Norm(b.Row(i)), b.Row(i));
        // The same image at two sizes is closer than two different images at one size.
        float same = System.Numerics.Tensors.TensorPrimitives.Dot(a.Row(0), b.Row(0));
        float other = System.Numerics.Tensors.TensorPrimitives.Dot(b.Row(0), b.Row(1));
        Assert.True(same > other, $"same image across sizes {same}, different images {other}");
    }

    [Fact]
    public void Single_image_list_files_and_planes_agree()
    {
        using var image = f.Images.ToImage(1);
        float[] one = f.Embedder.Embed(image);
        var fromList = f.Embedder.Embed([image]);
        string dir = TestPaths.NewTempFolder();
        try
        {
            string png = Path.Combine(dir, "img1.png");
            image.SaveAsPng(png);
            var fromFile = f.Embedder.EmbedFiles([png]);
            var fromPlanes = f.Embedder.Embed(f.Images.Select([1]));
            Assert.Equal(0f, MaxAbsDiff(one, fromList.Row(0)), 1e-5f);
            Assert.Equal(0f, MaxAbsDiff(one, fromFile.Row(0)), 1e-5f);
            Assert.Equal(0f, MaxAbsDiff(one, fromPlanes.Row(0)), 1e-5f);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Progress_reaches_the_total_and_cancellation_stops()
    {
        var reports = new List<WorkProgress>();
        f.Embedder.Embed(f.Images, new Data.SyncProgress<WorkProgress>(reports.Add));
        Assert.Equal([(0L, 5L), (4L, 5L), (5L, 5L)], reports.Select(p => (p.Done, p.Total))); // batch size 4
        Assert.All(reports, p => Assert.Equal(OnnxImageEmbedder.ProgressStage, p.Stage));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => f.Embedder.Embed(f.Images, null, cts.Token));
    }

    [Fact]
    public void Greyscale_and_16_bit_images_are_converted_to_the_same_rgb()
    {
        using var rgb = f.Images.ToImage(2);
        // Grey version: R = G = B = luminance-like value; the L8 and Rgb24 encodings must embed identically.
        using var grey = new Image<L8>(32, 32);
        using var greyRgb = new Image<Rgb24>(32, 32);
        using var deep = new Image<Rgb48>(32, 32);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                var p = rgb[x, y];
                byte v = (byte)((p.R + p.G + p.B) / 3);
                grey[x, y] = new L8(v);
                greyRgb[x, y] = new Rgb24(v, v, v);
                deep[x, y] = new Rgb48((ushort)(p.R * 257), (ushort)(p.G * 257), (ushort)(p.B * 257));
            }
        byte[] Png<T>(Image<T> im) where T : unmanaged, IPixel<T>
        {
            using var ms = new MemoryStream();
            im.SaveAsPng(ms, new SixLabors.ImageSharp.Formats.Png.PngEncoder
            {
                BitDepth = typeof(T) == typeof(Rgb48) ? SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit16 : SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit8,
                ColorType = typeof(T) == typeof(L8) ? SixLabors.ImageSharp.Formats.Png.PngColorType.Grayscale : SixLabors.ImageSharp.Formats.Png.PngColorType.Rgb,
            });
            return ms.ToArray();
        }
        var e = f.Embedder.EmbedEncoded([Png(grey), Png(greyRgb), Png(deep), Png(rgb)]);
        Assert.Equal(0f, MaxAbsDiff(e.Row(0), e.Row(1)));
        Assert.Equal(0f, MaxAbsDiff(e.Row(2), e.Row(3)));
        Assert.True(MaxAbsDiff(e.Row(0), e.Row(3)) > 1e-3f); // the grey image is a different image
    }
}
