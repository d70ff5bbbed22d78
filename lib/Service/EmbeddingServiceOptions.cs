using LabelAssignment.Embedding;

namespace LabelAssignment.Service;

/// <summary>
/// What the embedding service serves and what it accepts, each limit with its default. Read from the configuration
/// section <see cref="Section"/>: command line <c>--Embedding:MaxBatchSize=16</c>, environment
/// <c>Embedding__MaxBatchSize=16</c>, or appsettings.json.
/// </summary>
public sealed record EmbeddingServiceOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string Section = "Embedding";

    /// <summary>The model, as <see cref="ModelPreset.ByName"/> reads it: "resnet18" (224), "resnet18-N", "blip2".</summary>
    public string Model { get; init; } = "resnet18";

    /// <summary>The BLIP-2 vision ONNX file when <see cref="Model"/> is "blip2" (see models/README.md).</summary>
    public string Blip2Path { get; init; } = "models/blip2-vision.onnx";

    /// <summary>ONNX Runtime intra-op threads; 0 means one per core.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Largest request body in bytes (413 above): 64 MiB.</summary>
    public long MaxRequestBytes { get; init; } = 64L << 20;

    /// <summary>Most images in one request (413 above).</summary>
    public int MaxImagesPerRequest { get; init; } = 256;

    /// <summary>Images with a smaller width or height are refused with 400.</summary>
    public int MinImageSide { get; init; } = 8;

    /// <summary>
    /// What decoding one untrusted image may cost, checked from its headers before any pixel is allocated (400 naming the
    /// image above a limit): 16.7 megapixels per image (4096 x 4096), 100 frames, 1 MiB of metadata.
    /// </summary>
    public ImageDecodingLimits Decoding { get; init; } = new()
    {
        MaxPixelsPerFrame = 4096 * 4096,
        MaxTotalPixels = 4L * 4096 * 4096,
        MaxFrames = 100,
        MaxAncillaryBytes = 1 << 20,
    };

    /// <summary>Most images in one model call; images of concurrent requests share calls up to this.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long the batcher waits for more images when a call is not full, in milliseconds.</summary>
    public double MaxBatchWaitMilliseconds { get; init; } = 2;

    /// <summary>
    /// Images accepted but not yet embedded, over all requests; a request that would exceed it is answered 429 with
    /// Retry-After. Queued images are already resized to the model's input, so the queue holds at most this many
    /// input-size images (256 x 224 x 224 x 3 bytes = 38 MB for ResNet18 at 224).
    /// </summary>
    public int MaxQueuedImages { get; init; } = 256;

    /// <summary>The Retry-After of a 429, in seconds.</summary>
    public int RetryAfterSeconds { get; init; } = 1;

    /// <summary>Images decoded at once, over all requests (bounds the memory of full-size decoded images); 0 means one per core.</summary>
    public int MaxConcurrentDecodes { get; init; }

    /// <summary>Longest time one request may wait for its vectors (503 after), in seconds.</summary>
    public double RequestTimeoutSeconds { get; init; } = 120;

    /// <summary>On shutdown, how long in-flight requests may take to finish, in seconds.</summary>
    public double ShutdownTimeoutSeconds { get; init; } = 30;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> whose message and ParamName name the first bad option.</summary>
    public EmbeddingServiceOptions Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
            throw new ArgumentOutOfRangeException(nameof(Model), Model, "Model must name a model (resnet18, resnet18-N, blip2).");
        Check(MaxRequestBytes >= 1024, nameof(MaxRequestBytes), MaxRequestBytes, ">= 1024");
        Check(MaxImagesPerRequest >= 1, nameof(MaxImagesPerRequest), MaxImagesPerRequest, ">= 1");
        Check(MinImageSide >= 1, nameof(MinImageSide), MinImageSide, ">= 1");
        Check(MaxBatchSize is >= 1 and <= 4096, nameof(MaxBatchSize), MaxBatchSize, "in [1, 4096]");
        Check(MaxBatchWaitMilliseconds is >= 0 and <= 10_000, nameof(MaxBatchWaitMilliseconds), MaxBatchWaitMilliseconds, "in [0, 10000]");
        Check(MaxQueuedImages >= MaxImagesPerRequest, nameof(MaxQueuedImages), MaxQueuedImages, $">= MaxImagesPerRequest ({MaxImagesPerRequest}), or a full request could never be queued");
        Check(RetryAfterSeconds >= 1, nameof(RetryAfterSeconds), RetryAfterSeconds, ">= 1");
        Check(MaxConcurrentDecodes >= 0, nameof(MaxConcurrentDecodes), MaxConcurrentDecodes, ">= 0");
        Check(RequestTimeoutSeconds > 0, nameof(RequestTimeoutSeconds), RequestTimeoutSeconds, "> 0");
        Check(ShutdownTimeoutSeconds >= 0, nameof(ShutdownTimeoutSeconds), ShutdownTimeoutSeconds, ">= 0");
        ArgumentNullException.ThrowIfNull(Decoding, nameof(Decoding));
        Decoding.Validate();
        return this;
    }

    private static void Check(bool ok, string name, object value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{Section}:{name} must be {rule}; got {value}.");
    }

    /// <summary>The embedder these options describe (the model's batch is <see cref="MaxBatchSize"/>).</summary>
    public OnnxImageEmbedder CreateEmbedder() => new(
        ModelPreset.ByName(Model, Blip2Path),
        new EmbedderOptions { BatchSize = MaxBatchSize, IntraOpThreads = IntraOpThreads, MinImageSide = MinImageSide, Decoding = Decoding });
}
