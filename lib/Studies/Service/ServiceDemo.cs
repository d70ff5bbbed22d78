using System.Diagnostics;
using System.Globalization;
using LabelAssignment.Data;
using LabelAssignment.Embedding;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Numerics;
using LabelAssignment.Reporting;
using LabelAssignment.Service;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;

namespace LabelAssignment.Studies;

/// <summary>
/// Notebook 1's service section: start the embedding service in-process on a free loopback port (or use a running one),
/// the article's demo client (two JPEGs, normalize=true, norms 1) and bulk client (the sample through
/// <see cref="EmbeddingClient"/>, compared with the in-process vectors).
/// </summary>
public static class ServiceDemo
{
    /// <summary>
    /// Starts the service in this process over <paramref name="embedder"/> (its session is shared, nothing is loaded
    /// twice) on 127.0.0.1 and a free port, or, when <paramref name="serviceUrl"/> is given, connects to that service.
    /// The client asks for normalised vectors when <paramref name="normalize"/> is true, raw ones otherwise.
    /// </summary>
    public static async Task<ServiceSession> StartAsync(string serviceUrl, OnnxImageEmbedder embedder, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        EmbeddingServer? server = null;
        Uri address;
        if (string.IsNullOrWhiteSpace(serviceUrl))
        {
            var options = new EmbeddingServiceOptions { Model = embedder.Preset.Name, MaxBatchSize = embedder.Options.BatchSize, MinImageSide = embedder.Options.MinImageSide, Decoding = embedder.Options.Decoding };
            server = await EmbeddingServer.StartAsync(options, model: new OnnxEmbeddingModel(embedder, ownsEmbedder: false)).ConfigureAwait(false);
            address = server.BaseAddress!;
        }
        else if (!Uri.TryCreate(serviceUrl, UriKind.Absolute, out address!))
        {
            throw new ArgumentException($"serviceUrl '{serviceUrl}' is not an absolute http address (e.g. http://gpu-box:8210/).", nameof(serviceUrl));
        }
        var client = new EmbeddingClient(address, new EmbeddingClientOptions { Normalize = normalize, ExpectedDimension = embedder.Dimension });
        var health = await client.GetHealthAsync().ConfigureAwait(false);
        return new ServiceSession(server, client, health);
    }
}

/// <summary>A running (or connected) embedding service and a client of it; disposing stops an in-process service.</summary>
public sealed class ServiceSession : IAsyncDisposable
{
    private readonly EmbeddingServer? _server;

    internal ServiceSession(EmbeddingServer? server, EmbeddingClient client, ServiceHealth health)
    {
        _server = server;
        Client = client;
        Health = health;
    }

    /// <summary>The service root.</summary>
    public Uri BaseAddress => Client.BaseAddress;

    /// <summary>Whether this session started the service in this process.</summary>
    public bool InProcess => _server is not null;

    /// <summary>The client (the article's defaults: 8 PNGs per request, 2 in flight).</summary>
    public EmbeddingClient Client { get; }

    /// <summary>The service's /health answer when the session started.</summary>
    public ServiceHealth Health { get; }

    /// <summary>Where the service runs and what it serves.</summary>
    public HtmlFragment Describe() => HtmlFragment.FromMarkdown(
        $"The embedding service {(InProcess ? "runs in this process" : "is the one given by `serviceUrl`")} at **{BaseAddress}**: " +
        $"`GET /health` answered status **{Health.Status}**, model **{Health.Model}**, dimension **{Health.Dimension}**, version `{Health.Version}`" +
        (Health.Detail is null ? "." : $" ({Health.Detail})."));

    /// <summary>The article's demo client: two images of <paramref name="sample"/> as JPEG with normalize=true; their norms.</summary>
    public async Task<HtmlFragment> DemoAsync(Cifar100Dataset sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count < 2) throw new ArgumentException("the demo needs two images.", nameof(sample));
        var jpegs = new byte[2][];
        for (int i = 0; i < 2; i++)
        {
            using var image = sample.ToImage(i);
            using var stream = new MemoryStream();
            image.Save(stream, new JpegEncoder { Quality = 95 });
            jpegs[i] = stream.ToArray();
        }
        using var demo = new EmbeddingClient(BaseAddress, Client.Options with { Normalize = true });
        var vectors = await demo.EmbedEncodedAsync(jpegs).ConfigureAwait(false);
        var rows = Enumerable.Range(0, 2).Select(i =>
        {
            double norm = Math.Sqrt(vectors.Row(i).ToArray().Sum(v => (double)v * v));
            return $"| #{sample.ItemIds[i]} {sample.FineLabelNames[sample.FineLabels[i]]} | {jpegs[i].Length:N0} | {vectors.Dimension} | {norm.ToString("0.000000", CultureInfo.InvariantCulture)} |";
        });
        return HtmlFragment.FromMarkdown(
            "Two JPEGs in one request with `normalize: true`, as the article's demo client sends them:\n\n" +
            "| image | JPEG bytes | dimension | L2 norm |\n|---|---|---|---|\n" + string.Join("\n", rows));
    }

    /// <summary>
    /// Embeds <paramref name="sample"/> through the client (progress to <paramref name="progress"/>) and compares the
    /// vectors with <paramref name="reference"/> (the in-process ones). The in-process throughput is
    /// <paramref name="inProcessTime"/> (how long <paramref name="embedder"/> took on the sample earlier) when given,
    /// else the sample is embedded in-process again and timed.
    /// </summary>
    public async Task<ServiceComparison> CompareAsync(Cifar100Dataset sample, EmbeddingMatrix reference, OnnxImageEmbedder embedder,
        IProgress<WorkProgress>? progress = null, TimeSpan? inProcessTime = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(embedder);
        var clock = Stopwatch.StartNew();
        var viaService = await Client.EmbedAsync(sample, progress).ConfigureAwait(false);
        double serviceSeconds = clock.Elapsed.TotalSeconds;
        double inProcessSeconds;
        if (inProcessTime is { } given && given > TimeSpan.Zero)
        {
            inProcessSeconds = given.TotalSeconds;
        }
        else
        {
            clock.Restart();
            embedder.Embed(sample);
            inProcessSeconds = clock.Elapsed.TotalSeconds;
        }
        return new ServiceComparison(sample.Count, viaService.Dimension, MaxAbsDiff(viaService, reference),
            sample.Count / serviceSeconds, sample.Count / inProcessSeconds, Client.Options.BatchSize, Client.Options.MaxParallelism);
    }

    private static double MaxAbsDiff(EmbeddingMatrix a, EmbeddingMatrix b)
    {
        if (a.Count != b.Count || a.Dimension != b.Dimension)
            throw new ArgumentException($"the vectors are {a.Count} x {a.Dimension} and {b.Count} x {b.Dimension}; they cannot be compared.");
        double max = 0;
        for (long i = 0; i < a.Data.Length; i++) max = Math.Max(max, Math.Abs(a.Data[i] - b.Data[i]));
        return max;
    }

    /// <summary>Stops the in-process service (in-flight requests finish) and closes the client.</summary>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The bulk client's result next to the in-process path.</summary>
/// <param name="Images">Images embedded by each path.</param>
/// <param name="Dimension">Vector length.</param>
/// <param name="ServiceMaxAbsDiff">Largest |service - in-process| over all values.</param>
/// <param name="ServiceImagesPerSecond">Throughput through HTTP.</param>
/// <param name="InProcessImagesPerSecond">Throughput of the embedder called directly.</param>
/// <param name="BatchSize">Images per request.</param>
/// <param name="Parallelism">Requests in flight.</param>
public sealed record ServiceComparison(int Images, int Dimension, double ServiceMaxAbsDiff,
    double ServiceImagesPerSecond, double InProcessImagesPerSecond, int BatchSize, int Parallelism)
{
    /// <summary>The comparison as a short table.</summary>
    public HtmlFragment ToHtml() => HtmlFragment.FromMarkdown(string.Create(CultureInfo.InvariantCulture,
        $"| path | images | images/s |\n|---|---|---|\n" +
        $"| service (HTTP, {BatchSize} PNGs per request, {Parallelism} in flight) | {Images:N0} | {ServiceImagesPerSecond:0.0} |\n" +
        $"| in-process `OnnxImageEmbedder` | {Images:N0} | {InProcessImagesPerSecond:0.0} |\n\n" +
        $"The service path runs at **{ServiceImagesPerSecond / InProcessImagesPerSecond:P0}** of the in-process throughput; " +
        $"its vectors differ from the in-process ones by at most **{ServiceMaxAbsDiff:0.###e+0}** (largest absolute difference over all {Images:N0} x {Dimension} values)."));
}
