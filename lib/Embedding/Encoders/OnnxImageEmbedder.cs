using System.Numerics.Tensors;
using LabelAssignment.Data;
using LabelAssignment.Numerics;
using Microsoft.ML.OnnxRuntime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Embedding;

/// <summary>Options of <see cref="OnnxImageEmbedder"/>.</summary>
public sealed record EmbedderOptions
{
    /// <summary>Images per ONNX Runtime call.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Scale every embedding to unit L2 norm (what cosine-based clustering wants).</summary>
    public bool L2Normalize { get; init; }

    /// <summary>ONNX Runtime intra-op threads; 0 means one per core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Images with a smaller width or height are refused (a 1x1 image has no content to embed).</summary>
    public int MinImageSide { get; init; } = 8;

    /// <summary>What decoding one encoded image may cost (pixels per frame and in all, frames, metadata), checked before decoding.</summary>
    public ImageDecodingLimits Decoding { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> whose message and ParamName name the first bad option.</summary>
    public void Validate()
    {
        if (BatchSize is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be in [1, 4096]; got {BatchSize}.");
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"IntraOpThreads must be >= 0 (0 = one per core); got {IntraOpThreads}.");
        if (MinImageSide < 1)
            throw new ArgumentOutOfRangeException(nameof(MinImageSide), MinImageSide, $"MinImageSide must be >= 1; got {MinImageSide}.");
        if (Decoding is null)
            throw new ArgumentNullException(nameof(Decoding), "Decoding must not be null.");
        Decoding.Validate();
    }
}

/// <summary>
/// Embeds images with an ONNX image encoder: preprocessing in C# exactly as the <see cref="ModelPreset"/> says,
/// batched inference through one ONNX Runtime session, optional L2 normalisation. Results are rows of an
/// <see cref="EmbeddingMatrix"/> (count x <see cref="Dimension"/>) in input order. Thread-safe for concurrent calls.
/// </summary>
public sealed class OnnxImageEmbedder : IDisposable
{
    /// <summary>Stage name of the embedders' progress reports (images done out of the run, Detail: the model).</summary>
    public const string ProgressStage = "embedding";

    private readonly InferenceSession _session;
    private readonly ImagePreprocessor _pre;

    /// <summary>Loads the model (applying the preset's graph edits) and checks its input and output against the preset.</summary>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a loadable ONNX model.</exception>
    /// <exception cref="ArgumentException">The model's input or output does not match the preset.</exception>
    public OnnxImageEmbedder(ModelPreset preset, EmbedderOptions? options = null)
    {
        Preset = (preset ?? throw new ArgumentNullException(nameof(preset))).Validate();
        options ??= new EmbedderOptions();
        options.Validate();
        Options = options;
        if (!File.Exists(preset.ModelPath))
            throw new FileNotFoundException(
                $"{preset.ModelPath}: model file of preset '{preset.Name}' not found{(preset.GraphEdit == GraphEdit.None ? " (see models/README.md for exporting BLIP-2's vision tower)" : "")}.", preset.ModelPath);
        _pre = new ImagePreprocessor(preset, Options.MinImageSide, Options.Decoding);
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Options.IntraOpThreads == 0 ? Environment.ProcessorCount : Options.IntraOpThreads,
        };
        try
        {
            _session = preset.GraphEdit == GraphEdit.ResNet18
                ? new InferenceSession(ResNet18Model.Prepare(preset.ModelPath, preset.InputSize != ResNet18Model.NativeSize), so)
                : new InferenceSession(preset.ModelPath, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{preset.ModelPath}: ONNX Runtime cannot load the model: {e.Message}", e);
        }
        try
        {
            CheckSignature();
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The model description in use.</summary>
    public ModelPreset Preset { get; }

    /// <summary>The options in use.</summary>
    public EmbedderOptions Options { get; }

    /// <summary>Length of one embedding.</summary>
    public int Dimension => Preset.OutputDimension;

    /// <summary>The preprocessor (decoding, limits, resizing, normalisation) this embedder uses.</summary>
    public ImagePreprocessor Preprocessor => _pre;

    private void CheckSignature()
    {
        string path = Preset.ModelPath;
        if (!_session.InputMetadata.TryGetValue(Preset.InputName, out var input))
            throw new ArgumentException($"{path}: the model has no input '{Preset.InputName}' (preset '{Preset.Name}'); its inputs are [{string.Join(", ", _session.InputMetadata.Keys)}].", nameof(ModelPreset.InputName));
        if (!_session.OutputMetadata.TryGetValue(Preset.OutputName, out var output))
            throw new ArgumentException($"{path}: the model has no output '{Preset.OutputName}' (preset '{Preset.Name}'); its outputs are [{string.Join(", ", _session.OutputMetadata.Keys)}].", nameof(ModelPreset.OutputName));
        int s = Preset.InputSize;
        var d = input.Dimensions;
        bool ok = input.ElementType == typeof(float) && d.Length == 4 && d[1] is 3 or -1
            && d[2] == s | d[2] == -1 && d[3] == s | d[3] == -1;
        if (!ok)
            throw new ArgumentException(
                $"{path}: input '{Preset.InputName}' is {input.ElementType.Name} [{string.Join(", ", d)}]; preset '{Preset.Name}' needs float [batch, 3, {s}, {s}] (-1 = dynamic).", nameof(ModelPreset.InputSize));
        var o = output.Dimensions;
        bool outOk = output.ElementType == typeof(float) && o.Length is 2 or 4 && (o[1] == Preset.OutputDimension || o[1] == -1)
            && (o.Length == 2 || (o[2] is 1 or -1 && o[3] is 1 or -1));
        if (!outOk)
            throw new ArgumentException(
                $"{path}: output '{Preset.OutputName}' is {output.ElementType.Name} [{string.Join(", ", o)}]; preset '{Preset.Name}' needs float [batch, {Preset.OutputDimension}] or [batch, {Preset.OutputDimension}, 1, 1].", nameof(ModelPreset.OutputDimension));
    }

    /// <summary>Embeds one image.</summary>
    public float[] Embed(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Run(1, (_, dest) => _pre.Fill(image, dest), null, default).Data;
    }

    /// <summary>Embeds images in order; returns count x <see cref="Dimension"/>. An image that cannot be used is named by its index.</summary>
    public EmbeddingMatrix Embed(IReadOnlyList<Image<Rgb24>> images, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Run(images.Count, (i, dest) => _pre.Fill(images[i] ?? throw new ArgumentNullException(nameof(images), $"image {i} is null."), dest, $"image {i}"), progress, cancellationToken);
    }

    /// <summary>Embeds encoded images (file bytes); <paramref name="names"/> (e.g. file names) are used in error messages.</summary>
    public EmbeddingMatrix EmbedEncoded(IReadOnlyList<byte[]> encoded, IReadOnlyList<string>? names = null, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (names is not null && names.Count != encoded.Count)
            throw new ArgumentException($"names has {names.Count} entries; encoded has {encoded.Count}.", nameof(names));
        return Run(encoded.Count, (i, dest) =>
        {
            string name = names?[i] ?? $"image {i}";
            using var image = _pre.Decode(encoded[i] ?? throw new ArgumentNullException(nameof(encoded), $"{name} is null."), name);
            _pre.Fill(image, dest, name);
        }, progress, cancellationToken);
    }

    /// <summary>Embeds image files, decoding one batch at a time; a file that is not a usable image is named in the exception.</summary>
    public EmbeddingMatrix EmbedFiles(IReadOnlyList<string> paths, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        return Run(paths.Count, (i, dest) =>
        {
            using var image = _pre.Load(paths[i]);
            _pre.Fill(image, dest, paths[i]);
        }, progress, cancellationToken);
    }

    /// <summary>Embeds every image of a CIFAR-100 data set in order (row i = item i).</summary>
    public EmbeddingMatrix Embed(Cifar100Dataset data, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Run(data.Count, (i, dest) => _pre.FillFromPlanes(data.ImagePlanes(i), Cifar100.ImageSize, Cifar100.ImageSize, dest), progress, cancellationToken);
    }

    /// <summary>
    /// The engine: preprocesses each batch in parallel (each image is independent, so results do not depend on the
    /// thread count), runs the session, copies and optionally normalises the rows.
    /// </summary>
    private EmbeddingMatrix Run(int count, Action<int, Span<float>> fill, IProgress<WorkProgress>? progress, CancellationToken ct)
    {
        int dim = Dimension;
        int size = Preset.InputSize;
        int per = _pre.TensorLength;
        var result = new float[(long)count * dim];
        int batch = Math.Min(Options.BatchSize, Math.Max(1, count));
        var buffer = new float[(long)batch * per];
        using var runOptions = new RunOptions();
        using var registration = ct.Register(() => runOptions.Terminate = true);
        progress?.Report(new WorkProgress(ProgressStage, 0, count, Preset.Name));
        for (int start = 0; start < count; start += batch)
        {
            ct.ThrowIfCancellationRequested();
            int n = Math.Min(batch, count - start);
            var errors = new Exception?[n];
            Parallel.For(0, n, new ParallelOptions { CancellationToken = ct }, i =>
            {
                try
                {
                    fill(start + i, buffer.AsSpan(i * per, per));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    errors[i] = e;
                }
            });
            for (int i = 0; i < n; i++)
                if (errors[i] is Exception e)
                    throw Named(e, start + i);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffer.AsMemory(0, n * per), [n, 3, size, size]);
            IDisposableReadOnlyCollection<OrtValue> outputs;
            try
            {
                outputs = _session.Run(runOptions, [Preset.InputName], [input], [Preset.OutputName]);
            }
            catch (OnnxRuntimeException) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException(ct);
            }
            using (outputs)
            {
                var values = outputs[0].GetTensorDataAsSpan<float>();
                if (values.Length != n * dim)
                    throw new InvalidDataException($"{Preset.ModelPath}: output '{Preset.OutputName}' holds {values.Length} values for {n} images; expected {n} x {dim}.");
                var rows = result.AsSpan(start * dim, n * dim);
                values.CopyTo(rows);
                if (Options.L2Normalize)
                    for (int i = 0; i < n; i++)
                    {
                        var row = rows.Slice(i * dim, dim);
                        float norm = TensorPrimitives.Norm(row);
                        if (norm > 0) TensorPrimitives.Divide(row, norm, row);
                    }
            }
            progress?.Report(new WorkProgress(ProgressStage, start + n, count, Preset.Name));
        }
        return new EmbeddingMatrix(result, count, dim);
    }

    // Say which item of the call failed; the inner message already names the file when there is one.
    private static Exception Named(Exception e, int index) => e switch
    {
        FileNotFoundException f => new FileNotFoundException($"item {index}: {f.Message}", f.FileName, f),
        InvalidDataException => new InvalidDataException($"item {index}: {e.Message}", e),
        ArgumentException => new ArgumentException($"item {index}: {e.Message}", "images", e),
        _ => new InvalidOperationException($"item {index}: {e.Message}", e),
    };

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();
}
