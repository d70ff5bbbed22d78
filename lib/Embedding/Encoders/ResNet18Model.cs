using Google.Protobuf;
using Onnx;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace LabelAssignment.Embedding;

/// <summary>
/// The pretrained ResNet18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (CNTK export, opset 8):
/// where its files are, the mean image of its preprocessing graph, and the graph edits that make it take any
/// batch and input size.
/// </summary>
public static class ResNet18Model
{
    /// <summary>The network, relative to the model folder.</summary>
    public const string ModelRelativePath = "ResNet18Onnx/ResNet18.onnx";

    /// <summary>The package's preprocessing graph (Split, Concat B,G,R, Sub MeanImage), relative to the model folder.</summary>
    public const string PreprocessRelativePath = "ResNetPrepOnnx/ResNetPreprocess.onnx";

    /// <summary>The network's input name.</summary>
    public const string InputName = "Input247";

    /// <summary>The network's output name ([batch, 512, 1, 1], after the average pool).</summary>
    public const string OutputName = "Pooling395_Output_0";

    /// <summary>The size the network and its mean image were made for.</summary>
    public const int NativeSize = 224;

    /// <summary>Environment variable naming a folder with ResNet18Onnx/ and ResNetPrepOnnx/ (overrides the default).</summary>
    public const string FolderEnvironmentVariable = "LABELASSIGNMENT_RESNET18_DIR";

    /// <summary>
    /// DnnImageModels next to this library (the build copies the package's files there), else next to the
    /// application, else the folder named by <see cref="FolderEnvironmentVariable"/>.
    /// </summary>
    public static string DefaultFolder
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable(FolderEnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(env))
                return env;
            string? libraryFolder = Path.GetDirectoryName(typeof(ResNet18Model).Assembly.Location);
            foreach (string? root in new[] { libraryFolder, AppContext.BaseDirectory })
            {
                if (string.IsNullOrEmpty(root)) continue;
                string folder = Path.Combine(root, "DnnImageModels");
                if (File.Exists(Path.Combine(folder, ModelRelativePath)))
                    return folder;
            }
            return Path.Combine(libraryFolder ?? AppContext.BaseDirectory, "DnnImageModels");
        }
    }

    /// <summary>
    /// The per-pixel mean (BGR planes, 3 x size x size) read from the preprocessing graph's <c>MeanImage</c>
    /// initializer, resized bilinearly when <paramref name="size"/> is not 224.
    /// </summary>
    public static float[] MeanImage(string preprocessPath, int size)
    {
        var model = Load(preprocessPath);
        var init = model.Graph.Initializer.FirstOrDefault(t => t.Name == "MeanImage")
            ?? throw new InvalidDataException($"{preprocessPath}: no 'MeanImage' initializer; is this the package's ResNetPreprocess.onnx?");
        if (!init.Dims.SequenceEqual([1L, 3, NativeSize, NativeSize]) || init.DataType != (int)TensorProto.Types.DataType.Float)
            throw new InvalidDataException($"{preprocessPath}: MeanImage has dims [{string.Join(", ", init.Dims)}]; expected float [1, 3, 224, 224].");
        float[] mean = init.FloatData.Count > 0 ? [.. init.FloatData] : ToFloats(init.RawData);
        if (mean.Length != 3 * NativeSize * NativeSize)
            throw new InvalidDataException($"{preprocessPath}: MeanImage holds {mean.Length} values; expected {3 * NativeSize * NativeSize}.");
        return size == NativeSize ? mean : ResizePlanes(mean, NativeSize, size);
    }

    /// <summary>
    /// Reads the network and applies the edits: dynamic batch (OnnxSharp's SetDim); when
    /// <paramref name="dynamicSpatial"/>, also symbolic height and width, GlobalAveragePool for the fixed 7x7
    /// AveragePool, and symmetric padding on the stride-2 3x3 convolutions. Their CNTK padding [1, 1, 0, 0] pads
    /// only the top and left: on an even map it gives the same output as [1, 1, 1, 1] (the extra bottom row and
    /// right column are never reached), but on an odd map it yields one row fewer than the 1x1 stride-2 shortcut,
    /// and the residual Add fails. So 224 stays bit-for-bit the same computation.
    /// </summary>
    /// <returns>The edited model, serialised.</returns>
    public static byte[] Prepare(string modelPath, bool dynamicSpatial)
    {
        var model = Load(modelPath);
        var graph = model.Graph;
        if (graph.Input.All(i => i.Name != InputName) || graph.Output.All(o => o.Name != OutputName))
            throw new InvalidDataException($"{modelPath}: expected input '{InputName}' and output '{OutputName}'; found inputs [{string.Join(", ", graph.Input.Select(i => i.Name))}], outputs [{string.Join(", ", graph.Output.Select(o => o.Name))}].");
        graph.SetDim(); // dim 0 of inputs, outputs and value infos becomes the symbolic "N"
        if (dynamicSpatial)
        {
            var dims = graph.Input.Single(i => i.Name == InputName).Type.TensorType.Shape.Dim;
            dims[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
            dims[3] = new TensorShapeProto.Types.Dimension { DimParam = "W" };
            graph.ValueInfo.Clear(); // the stored intermediate shapes are for 224; ONNX Runtime infers them again
            foreach (var node in graph.Node)
            {
                if (node.OpType == "AveragePool" && node.Output.Contains(OutputName))
                {
                    node.OpType = "GlobalAveragePool";
                    node.Attribute.Clear();
                }
                else if (node.OpType == "Conv" && Ints(node, "strides").SequenceEqual([2L, 2]) && Ints(node, "kernel_shape").SequenceEqual([3L, 3])
                    && Ints(node, "pads").SequenceEqual([1L, 1, 0, 0]))
                {
                    var pads = node.Attribute.Single(a => a.Name == "pads");
                    pads.Ints.Clear();
                    pads.Ints.AddRange([1L, 1, 1, 1]);
                }
            }
        }
        return model.ToByteArray();
    }

    private static long[] Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() ?? [];

    private static ModelProto Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: ResNet18 model file not found. The build copies it from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 into DnnImageModels/ next to the library; or set {FolderEnvironmentVariable}.", path);
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not a readable ONNX model: {e.Message}", e);
        }
    }

    private static float[] ToFloats(ByteString raw)
    {
        var result = new float[raw.Length / 4];
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span).CopyTo(result);
        return result;
    }

    /// <summary>Bilinear resize of 3 planes (values 0-255) from size x size to target x target.</summary>
    private static float[] ResizePlanes(float[] planes, int size, int target)
    {
        int area = size * size;
        var pixels = new RgbaVector[area];
        for (int p = 0; p < area; p++)
            pixels[p] = new RgbaVector(planes[p] / 255f, planes[area + p] / 255f, planes[2 * area + p] / 255f, 1f);
        using var image = Image.LoadPixelData<RgbaVector>(pixels, size, size);
        image.Mutate(c => c.Resize(target, target, KnownResamplers.Triangle));
        int targetArea = target * target;
        var result = new float[3 * targetArea];
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < target; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < target; x++)
                {
                    int p = y * target + x;
                    result[p] = row[x].R * 255f;
                    result[targetArea + p] = row[x].G * 255f;
                    result[2 * targetArea + p] = row[x].B * 255f;
                }
            }
        });
        return result;
    }
}
