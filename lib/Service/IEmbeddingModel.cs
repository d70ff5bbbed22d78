using LabelAssignment.Embedding;
using LabelAssignment.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace LabelAssignment.Service;

/// <summary>What the service needs of a model: decode an untrusted image to the model's input size, and embed a batch.</summary>
public interface IEmbeddingModel : IDisposable
{
    /// <summary>The model's name (its preset's), reported by /health.</summary>
    string Name { get; }

    /// <summary>Length of one embedding.</summary>
    int Dimension { get; }

    /// <summary>
    /// Decodes encoded image bytes under the decoding limits and resizes the image to the model's input size.
    /// </summary>
    /// <exception cref="InvalidDataException">Not an image, or a corrupt one.</exception>
    /// <exception cref="ArgumentException">Too small, or over a decoding limit.</exception>
    Image<Rgb24> DecodeToInput(byte[] encoded, string name);

    /// <summary>Embeds images (raw model output, not normalised); count x <see cref="Dimension"/>.</summary>
    EmbeddingMatrix Embed(IReadOnlyList<Image<Rgb24>> images);

    /// <summary>An image of the model's input size for the health check.</summary>
    Image<Rgb24> ProbeImage();
}

/// <summary>
/// <see cref="IEmbeddingModel"/> over <see cref="OnnxImageEmbedder"/>. Decoded images are resized to the input size
/// with the preset's resampler at once (so the queue holds input-size images only); the embedder then uses them as they
/// are, so the vectors equal the embedder's own on the same pixels.
/// </summary>
public sealed class OnnxEmbeddingModel : IEmbeddingModel
{
    private readonly OnnxImageEmbedder _embedder;
    private readonly ImagePreprocessor _decoder;
    private readonly bool _owns;

    /// <summary>Serves <paramref name="embedder"/>; <paramref name="ownsEmbedder"/> disposes it with this model.</summary>
    /// <param name="embedder">The embedder.</param>
    /// <param name="ownsEmbedder">Dispose the embedder with this model.</param>
    /// <param name="limits">Decoding limits for untrusted images (default: the embedder's own).</param>
    /// <param name="minImageSide">Smallest width or height accepted (default: the embedder's own).</param>
    public OnnxEmbeddingModel(OnnxImageEmbedder embedder, bool ownsEmbedder = true, ImageDecodingLimits? limits = null, int? minImageSide = null)
    {
        _embedder = embedder ?? throw new ArgumentNullException(nameof(embedder));
        _owns = ownsEmbedder;
        _decoder = limits is null && minImageSide is null
            ? embedder.Preprocessor
            : new ImagePreprocessor(embedder.Preset, minImageSide ?? embedder.Options.MinImageSide, limits ?? embedder.Options.Decoding);
    }

    /// <summary>The embedder served.</summary>
    public OnnxImageEmbedder Embedder => _embedder;

    /// <inheritdoc />
    public string Name => _embedder.Preset.Name;

    /// <inheritdoc />
    public int Dimension => _embedder.Dimension;

    /// <inheritdoc />
    public Image<Rgb24> DecodeToInput(byte[] encoded, string name)
    {
        var image = _decoder.Decode(encoded, name);
        int size = _embedder.Preset.InputSize;
        if (image.Width == size && image.Height == size) return image;
        try
        {
            // Exactly the resize ImagePreprocessor.Fill does, done here so that a queued image costs size x size pixels.
            image.Mutate(c => c.Resize(new ResizeOptions { Size = new Size(size, size), Mode = ResizeMode.Stretch, Sampler = _embedder.Preset.ImageSharpResampler }));
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public EmbeddingMatrix Embed(IReadOnlyList<Image<Rgb24>> images) => _embedder.Embed(images);

    /// <inheritdoc />
    public Image<Rgb24> ProbeImage()
    {
        int size = _embedder.Preset.InputSize;
        var image = new Image<Rgb24>(size, size);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < size; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < size; x++) row[x] = new Rgb24((byte)(x * 255 / size), (byte)(y * 255 / size), 128);
            }
        });
        return image;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_owns) _embedder.Dispose();
    }
}
