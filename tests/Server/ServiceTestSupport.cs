using System.Diagnostics;
using System.Text;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Numerics;
using LabelAssignment.Service;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Tests.Server;

/// <summary>
/// What the service tests share: one ResNet18 embedder at input size 64 (the smallest the preset allows, so the model
/// costs little on 2 cores), the first CIFAR-100 test images (the real ones when ../shared/cifar-100 is present) and
/// their in-process embeddings, the independent reference every answer is checked against.
/// </summary>
public static class ServiceTestData
{
    public const string Model = "resnet18-64";

    static readonly Lazy<OnnxImageEmbedder> SharedEmbedder = new(() =>
        new OnnxImageEmbedder(ModelPreset.ResNet18(64), new EmbedderOptions { BatchSize = 32 }));

    static readonly Lazy<Cifar100Dataset> SharedImages = new(() => Cifar100.Load(TestPaths.Cifar100, Cifar100Split.Test).Take(40));

    static readonly Lazy<EmbeddingMatrix> SharedReference = new(() => Normalized(Embedder.Embed(Images)));

    /// <summary>The embedder every server in the tests uses (not owned by them) and the reference is computed with.</summary>
    public static OnnxImageEmbedder Embedder => SharedEmbedder.Value;

    /// <summary>40 CIFAR-100 test images.</summary>
    public static Cifar100Dataset Images => SharedImages.Value;

    /// <summary>The in-process embeddings of <see cref="Images"/>, L2-normalised (the protocol's default).</summary>
    public static EmbeddingMatrix Reference => SharedReference.Value;

    /// <summary>Image i as PNG bytes.</summary>
    public static byte[] Png(int i)
    {
        using var image = Images.ToImage(i);
        return EmbeddingClient.EncodePng(image);
    }

    /// <summary>Rows scaled to unit norm, computed here (not with the service's helper).</summary>
    public static EmbeddingMatrix Normalized(EmbeddingMatrix m)
    {
        var data = (float[])m.Data.Clone();
        for (int i = 0; i < m.Count; i++)
        {
            double sum = 0;
            for (int j = 0; j < m.Dimension; j++) sum += (double)data[i * m.Dimension + j] * data[i * m.Dimension + j];
            float norm = (float)Math.Sqrt(sum);
            for (int j = 0; j < m.Dimension; j++) data[i * m.Dimension + j] /= norm;
        }
        return new EmbeddingMatrix(data, m.Count, m.Dimension);
    }

    /// <summary>Largest absolute difference between rows of <paramref name="actual"/> and rows <paramref name="firstRow"/>... of <paramref name="expected"/>.</summary>
    public static double MaxAbsDiff(EmbeddingMatrix actual, EmbeddingMatrix expected, int firstRow = 0)
    {
        Assert.Equal(expected.Dimension, actual.Dimension);
        double max = 0;
        for (int i = 0; i < actual.Count; i++)
            for (int j = 0; j < actual.Dimension; j++)
                max = Math.Max(max, Math.Abs(actual.Row(i)[j] - expected.Row(firstRow + i)[j]));
        return max;
    }

    /// <summary>A model over the shared embedder, with the decoding limits of <paramref name="options"/> when given.</summary>
    public static OnnxEmbeddingModel SharedModel(EmbeddingServiceOptions? options = null) =>
        new(Embedder, ownsEmbedder: false, options?.Decoding, options?.MinImageSide);

    /// <summary>Options for a test server (the shared model's name; limits as given).</summary>
    public static EmbeddingServiceOptions Options(Func<EmbeddingServiceOptions, EmbeddingServiceOptions>? change = null)
    {
        var options = new EmbeddingServiceOptions { Model = Model };
        return change is null ? options : change(options);
    }

    /// <summary>The JSON body of a request.</summary>
    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A request body with these images as base64.</summary>
    public static string RequestJson(IEnumerable<byte[]> images, bool? normalize = null) =>
        "{\"base64_images\": [" + string.Join(", ", images.Select(b => $"\"{Convert.ToBase64String(b)}\"")) + "]"
        + (normalize is null ? "" : $", \"normalize\": {(normalize.Value ? "true" : "false")}") + "}";
}

/// <summary>
/// The shared model with hooks: a gate every model call waits on (to fill the queue or stall a request), a switch that
/// makes the model throw (a broken model), and a count of calls.
/// </summary>
public sealed class ControlledModel : IEmbeddingModel
{
    private readonly OnnxEmbeddingModel _inner;

    public ControlledModel(EmbeddingServiceOptions? options = null) => _inner = ServiceTestData.SharedModel(options);

    /// <summary>When set, each model call waits for it (call <see cref="Open"/>).</summary>
    public ManualResetEventSlim Gate { get; } = new(true);

    /// <summary>When true, each model call throws.</summary>
    public volatile bool Fail;

    /// <summary>Delay added to each model call.</summary>
    public TimeSpan Delay { get; set; }

    public int Calls;

    public void Close() => Gate.Reset();
    public void Open() => Gate.Set();

    public string Name => _inner.Name;
    public int Dimension => _inner.Dimension;
    public Image<Rgb24> DecodeToInput(byte[] encoded, string name) => _inner.DecodeToInput(encoded, name);
    public Image<Rgb24> ProbeImage() => _inner.ProbeImage();

    public EmbeddingMatrix Embed(IReadOnlyList<Image<Rgb24>> images)
    {
        Interlocked.Increment(ref Calls);
        Gate.Wait(TimeSpan.FromSeconds(30));
        if (Delay > TimeSpan.Zero) Thread.Sleep(Delay);
        if (Fail) throw new InvalidOperationException("simulated model failure (the ONNX session is broken)");
        return _inner.Embed(images);
    }

    public void Dispose() => Gate.Dispose();
}

/// <summary>
/// A fact that needs Debian's Python with requests, PIL and numpy (.ci/run installs python3-requests, python3-pil,
/// python3-numpy): skipped, naming what is missing, when /usr/bin/python3 or a module is absent.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PythonClientFactAttribute : FactAttribute
{
    public const string Python = "/usr/bin/python3";

    static readonly Lazy<string?> Missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} is absent";
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import importlib.util as u; print(' '.join(m for m in ('requests', 'PIL', 'numpy') if u.find_spec(m) is None))");
        using var p = Process.Start(info)!;
        string missing = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode != 0 ? $"{Python} failed to start" : missing.Length == 0 ? null
            : $"{Python} lacks {missing} (apt-get install python3-requests python3-pil python3-numpy)";
    });

    public PythonClientFactAttribute()
    {
        if (Missing.Value is string reason) Skip = $"the Python client test needs requests, PIL and numpy: {reason}";
    }
}
