using SixLabors.ImageSharp.Processing;
using SixLabors.ImageSharp.Processing.Processors.Transforms;

namespace LabelAssignment.Embedding;

/// <summary>The order of the colour planes a model expects.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (PyTorch / Hugging Face models).</summary>
    Rgb,

    /// <summary>Blue, green, red (Caffe / CNTK models such as the packaged ResNet18).</summary>
    Bgr,
}

/// <summary>How an image is resized to the model's input size.</summary>
public enum Resampler
{
    /// <summary>Bicubic (ImageSharp's Bicubic, a = -0.5): PIL's BICUBIC, what Hugging Face processors use.</summary>
    Bicubic,

    /// <summary>Bilinear (ImageSharp's Triangle).</summary>
    Bilinear,

    /// <summary>Nearest neighbour.</summary>
    NearestNeighbor,

    /// <summary>Lanczos with 3 lobes.</summary>
    Lanczos3,
}

/// <summary>Graph changes applied to a model file before its session is created.</summary>
public enum GraphEdit
{
    /// <summary>The model is used as it is.</summary>
    None,

    /// <summary>
    /// The packaged ResNet18: batch dimension made dynamic; for input sizes other than 224 also symbolic spatial
    /// dimensions, a global average pool instead of the fixed 7x7 pool, and symmetric padding on the stride-2
    /// 3x3 convolutions (see <see cref="ResNet18Model"/>).
    /// </summary>
    ResNet18,
}

/// <summary>
/// Pixel normalisation: value = (pixel · <see cref="Scale"/> − mean) / std per channel, where pixel is 0-255
/// and the channels are in the model's <see cref="ModelPreset.ChannelOrder"/>. With <see cref="MeanImage"/> the
/// mean is per pixel instead (Caffe style) and <see cref="Std"/> still divides.
/// </summary>
/// <param name="Scale">Multiplies the 0-255 pixel first (1/255 for models trained on 0-1 input).</param>
/// <param name="Mean">Per-channel mean, 3 values in model channel order (ignored when <paramref name="MeanImage"/> is set).</param>
/// <param name="Std">Per-channel standard deviation, 3 positive values in model channel order.</param>
/// <param name="MeanImage">Optional per-pixel mean, 3 x size x size floats in model channel order, planar.</param>
public sealed record ImageNormalization(float Scale, float[] Mean, float[] Std, float[]? MeanImage = null)
{
    /// <summary>OpenAI CLIP's mean (RGB), which BLIP-2's image processor uses.</summary>
    public static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];

    /// <summary>OpenAI CLIP's standard deviation (RGB).</summary>
    public static readonly float[] ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate(int inputSize)
    {
        if (!(Scale > 0) || !float.IsFinite(Scale))
            throw new ArgumentOutOfRangeException(nameof(Scale), Scale, "Scale must be a positive finite number.");
        if (Mean is null || Mean.Length != 3 || Mean.Any(v => !float.IsFinite(v)))
            throw new ArgumentException($"Mean must hold 3 finite values; got [{string.Join(", ", Mean ?? [])}].", nameof(Mean));
        if (Std is null || Std.Length != 3 || Std.Any(v => !(v > 0) || !float.IsFinite(v)))
            throw new ArgumentException($"Std must hold 3 positive values; got [{string.Join(", ", Std ?? [])}].", nameof(Std));
        if (MeanImage is not null && MeanImage.Length != 3 * inputSize * inputSize)
            throw new ArgumentException($"MeanImage has {MeanImage.Length} values; 3 x {inputSize} x {inputSize} = {3 * inputSize * inputSize} expected.", nameof(MeanImage));
    }
}

/// <summary>
/// Everything needed to feed images to an ONNX image encoder and read its embedding: the model file, the input and
/// output names, the square input size, the resampler, the normalisation, the channel order and the output size.
/// The model's input is float32 [batch, 3, size, size] (planar); its output is [batch, dimension] or
/// [batch, dimension, 1, 1].
/// </summary>
public sealed record ModelPreset
{
    /// <summary>A short name used in cache keys and reports, e.g. "resnet18-224".</summary>
    public required string Name { get; init; }

    /// <summary>The .onnx file.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Name of the image input.</summary>
    public required string InputName { get; init; }

    /// <summary>Name of the embedding output.</summary>
    public required string OutputName { get; init; }

    /// <summary>Width and height the image is resized to.</summary>
    public required int InputSize { get; init; }

    /// <summary>The resize filter.</summary>
    public Resampler Resampler { get; init; } = Resampler.Bicubic;

    /// <summary>Pixel normalisation.</summary>
    public required ImageNormalization Normalization { get; init; }

    /// <summary>Channel order of the input planes.</summary>
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    /// <summary>Length of one embedding.</summary>
    public required int OutputDimension { get; init; }

    /// <summary>Graph changes applied when the session is created.</summary>
    public GraphEdit GraphEdit { get; init; } = GraphEdit.None;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad field.</summary>
    public ModelPreset Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
            throw new ArgumentException($"Name='{Name}' must not be empty.", nameof(Name));
        if (string.IsNullOrWhiteSpace(ModelPath))
            throw new ArgumentException($"ModelPath='{ModelPath}' must name an .onnx file.", nameof(ModelPath));
        if (string.IsNullOrWhiteSpace(InputName) || string.IsNullOrWhiteSpace(OutputName))
            throw new ArgumentException($"InputName='{InputName}' and OutputName='{OutputName}' must not be empty.", nameof(InputName));
        if (InputSize is < 16 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be in [16, 4096].");
        if (OutputDimension < 1)
            throw new ArgumentOutOfRangeException(nameof(OutputDimension), OutputDimension, "OutputDimension must be >= 1.");
        ArgumentNullException.ThrowIfNull(Normalization);
        Normalization.Validate(InputSize);
        return this;
    }

    /// <summary>
    /// The pretrained ResNet18 shipped in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (512-d, the
    /// global-average-pooled last stage). Its preprocessing graph (RGB to BGR, minus a per-pixel 224x224 mean image,
    /// no scaling) is folded into this preset; for other sizes the mean image is resized bilinearly.
    /// 224 is the size the model was trained at (the default); 128 is about 2.3x faster, for about 1 point less
    /// leave-one-out 10-NN accuracy on CIFAR-100 (fine 53.3% against 54.5%, coarse 69.6% against 70.4%).
    /// </summary>
    /// <param name="inputSize">Square input size, a multiple of 16 from 64 up (224 by default).</param>
    /// <param name="modelFolder">Folder holding ResNet18Onnx/ and ResNetPrepOnnx/; by default DnnImageModels next to this library.</param>
    public static ModelPreset ResNet18(int inputSize = 224, string? modelFolder = null)
    {
        if (inputSize is < 64 or > 1024 || inputSize % 16 != 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "inputSize must be a multiple of 16 in [64, 1024].");
        string folder = modelFolder ?? ResNet18Model.DefaultFolder;
        return new ModelPreset
        {
            Name = $"resnet18-{inputSize}",
            ModelPath = Path.Combine(folder, ResNet18Model.ModelRelativePath),
            InputName = ResNet18Model.InputName,
            OutputName = ResNet18Model.OutputName,
            InputSize = inputSize,
            Resampler = Resampler.Bicubic,
            ChannelOrder = ChannelOrder.Bgr,
            Normalization = new ImageNormalization(1f, [0, 0, 0], [1, 1, 1],
                ResNet18Model.MeanImage(Path.Combine(folder, ResNet18Model.PreprocessRelativePath), inputSize)),
            OutputDimension = 512,
            GraphEdit = GraphEdit.ResNet18,
        }.Validate();
    }

    /// <summary>
    /// BLIP-2's vision tower (ViT-g/14 of Salesforce/blip2-opt-2.7b and relatives) exported to ONNX by the user
    /// (see models/README.md): input <c>pixel_values</c> [batch, 3, 224, 224] RGB, bicubic resize, rescale 1/255,
    /// CLIP mean and std; output <c>pooler_output</c> [batch, 1408].
    /// </summary>
    /// <param name="modelPath">The exported .onnx file (default models/blip2-vision.onnx).</param>
    public static ModelPreset Blip2Vision(string modelPath = "models/blip2-vision.onnx") => new ModelPreset
    {
        Name = "blip2-vision",
        ModelPath = modelPath,
        InputName = "pixel_values",
        OutputName = "pooler_output",
        InputSize = 224,
        Resampler = Resampler.Bicubic,
        ChannelOrder = ChannelOrder.Rgb,
        Normalization = new ImageNormalization(1f / 255f, ImageNormalization.ClipMean, ImageNormalization.ClipStd),
        OutputDimension = 1408,
    }.Validate();

    /// <summary>
    /// A preset by name, for notebook parameters: "resnet18" (224), "resnet18-N" (N x N input, e.g. "resnet18-128"),
    /// "blip2" (the export at <paramref name="blip2Path"/>).
    /// </summary>
    public static ModelPreset ByName(string name, string blip2Path = "models/blip2-vision.onnx")
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.Trim().ToLowerInvariant();
        if (n is "resnet18")
            return ResNet18();
        if (n.StartsWith("resnet18-", StringComparison.Ordinal) && int.TryParse(n["resnet18-".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
            return ResNet18(size);
        if (n is "blip2" or "blip2-vision")
            return Blip2Vision(blip2Path);
        throw new ArgumentException($"model '{name}' is unknown; expected 'resnet18', 'resnet18-SIZE' (e.g. 'resnet18-128') or 'blip2'.", nameof(name));
    }

    internal IResampler ImageSharpResampler => Resampler switch
    {
        Resampler.Bicubic => KnownResamplers.Bicubic,
        Resampler.Bilinear => KnownResamplers.Triangle,
        Resampler.NearestNeighbor => KnownResamplers.NearestNeighbor,
        Resampler.Lanczos3 => KnownResamplers.Lanczos3,
        _ => throw new ArgumentOutOfRangeException(nameof(Resampler), Resampler, "unknown resampler."),
    };
}
