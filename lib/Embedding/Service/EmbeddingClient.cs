using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LabelAssignment.Data;
using LabelAssignment.Numerics;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Embedding.Service;

/// <summary>Options of <see cref="EmbeddingClient"/>; the defaults are the article's bulk client's.</summary>
public sealed record EmbeddingClientOptions
{
    /// <summary>Images per request (the article sends 8).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Requests in flight at once (the article uses 2 worker threads).</summary>
    public int MaxParallelism { get; init; } = 2;

    /// <summary>Ask the server for unit-norm vectors (the protocol's default).</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Time one attempt of one request may take, answer included (the article's 500 s).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(500);

    /// <summary>Retries of a request after a 5xx, a 429, a network failure or a timeout (never after another 4xx).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First backoff delay; it doubles per retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between two attempts, a server's Retry-After included.</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The vector length the answers must have; null takes the first answer's and holds the rest to it.</summary>
    public int? ExpectedDimension { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first bad option.</summary>
    public EmbeddingClientOptions Validate()
    {
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"BatchSize must be >= 1; got {BatchSize}.");
        if (MaxParallelism < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxParallelism), MaxParallelism, $"MaxParallelism must be >= 1; got {MaxParallelism}.");
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, $"RequestTimeout must be positive; got {RequestTimeout}.");
        if (MaxRetries < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, $"MaxRetries must be >= 0; got {MaxRetries}.");
        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
            throw new ArgumentOutOfRangeException(nameof(RetryMaxDelay), RetryMaxDelay, $"need 0 <= RetryBaseDelay ({RetryBaseDelay}) <= RetryMaxDelay ({RetryMaxDelay}).");
        if (ExpectedDimension is < 1)
            throw new ArgumentOutOfRangeException(nameof(ExpectedDimension), ExpectedDimension, $"ExpectedDimension must be >= 1; got {ExpectedDimension}.");
        return this;
    }
}

/// <summary>A batch the service did not embed: after the retries, or at once for a 4xx or a malformed answer.</summary>
public sealed class EmbeddingServiceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EmbeddingServiceException(string message, int batch, HttpStatusCode? status, Exception? inner = null) : base(message, inner)
    {
        Batch = batch;
        StatusCode = status;
    }

    /// <summary>0-based index of the failed batch (images <c>Batch * BatchSize</c> onwards).</summary>
    public int Batch { get; }

    /// <summary>The last HTTP status, or null when no answer came (network failure, timeout, malformed answer to a 200).</summary>
    public HttpStatusCode? StatusCode { get; }
}

/// <summary>
/// Client of the embedding service (<see cref="EmbeddingProtocol"/>): splits images into batches (PNG-encoded, as the
/// article's client does), sends up to <see cref="EmbeddingClientOptions.MaxParallelism"/> at once, retries 5xx, 429
/// and network failures with exponential backoff and jitter honouring Retry-After (a Polly pipeline), never a 4xx,
/// and returns the vectors in input order. Thread-safe; one instance can serve many calls.
/// </summary>
public sealed class EmbeddingClient : IDisposable
{
    /// <summary>Stage name of the progress reports (images done out of the call; Detail: the service address).</summary>
    public const string ProgressStage = "embedding service";

    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    /// <summary>A client of the service at <paramref name="baseAddress"/> (e.g. http://127.0.0.1:8210/).</summary>
    /// <param name="baseAddress">The service root; <see cref="EmbeddingProtocol.EmbeddingsPath"/> is appended.</param>
    /// <param name="options">Batching, parallelism, timeout and retry options (the article's by default).</param>
    /// <param name="handler">The HTTP handler (tests pass their own); disposed with the client.</param>
    public EmbeddingClient(Uri baseAddress, EmbeddingClientOptions? options = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri || baseAddress.Scheme is not ("http" or "https"))
            throw new ArgumentException($"baseAddress '{baseAddress}' must be an absolute http or https address.", nameof(baseAddress));
        BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        Options = (options ?? new EmbeddingClientOptions()).Validate();
        // Timeouts are the pipeline's, per attempt; HttpClient's own would end the whole retried call.
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            BaseAddress = BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _pipeline = BuildPipeline(Options);
    }

    /// <summary>The service root.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The options in use.</summary>
    public EmbeddingClientOptions Options { get; }

    private static ResiliencePipeline<HttpResponseMessage> BuildPipeline(EmbeddingClientOptions o)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        if (o.MaxRetries > 0)
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => IsTransient(r.StatusCode)),
                MaxRetryAttempts = o.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = o.RetryBaseDelay,
                MaxDelay = o.RetryMaxDelay,
                // A server that says when to come back is believed (up to RetryMaxDelay); otherwise the backoff applies.
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, o.RetryMaxDelay)),
            });
        builder.AddTimeout(o.RequestTimeout); // inner: each attempt has its own timeout
        return builder.Build();
    }

    private static bool IsTransient(HttpStatusCode status) => (int)status >= 500 || status == HttpStatusCode.TooManyRequests;

    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max)
    {
        RetryConditionHeaderValue? header = response?.Headers.RetryAfter;
        TimeSpan? wait = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (wait is null) return null;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > max ? max : wait;
    }

    /// <summary>Embeds encoded image files (PNG, JPEG, ... as the server accepts); row i is image i.</summary>
    public Task<EmbeddingMatrix> EmbedEncodedAsync(IReadOnlyList<byte[]> encoded, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        for (int i = 0; i < encoded.Count; i++)
            if (encoded[i] is null) throw new ArgumentNullException(nameof(encoded), $"image {i} is null.");
        return RunAsync(encoded.Count, i => encoded[i], progress, cancellationToken);
    }

    /// <summary>Embeds images, each sent as PNG (lossless: the server sees exactly these pixels).</summary>
    public Task<EmbeddingMatrix> EmbedAsync(IReadOnlyList<Image<Rgb24>> images, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (int i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentNullException(nameof(images), $"image {i} is null.");
        return RunAsync(images.Count, i => EncodePng(images[i]), progress, cancellationToken);
    }

    /// <summary>Embeds every image of a CIFAR-100 data set in order (row i = item i), each sent as PNG.</summary>
    public Task<EmbeddingMatrix> EmbedAsync(Cifar100Dataset data, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return RunAsync(data.Count, i =>
        {
            using var image = data.ToImage(i);
            return EncodePng(image);
        }, progress, cancellationToken);
    }

    /// <summary>The service's <c>GET /health</c> answer (a 503 is returned too, with Status "unhealthy" and its detail).</summary>
    public async Task<ServiceHealth> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Options.RequestTimeout);
        using var response = await _http.GetAsync(EmbeddingProtocol.HealthPath.TrimStart('/'), cts.Token).ConfigureAwait(false);
        byte[] body = await response.Content.ReadAsByteArrayAsync(cts.Token).ConfigureAwait(false);
        try
        {
            var health = JsonSerializer.Deserialize<ServiceHealth>(body, EmbeddingProtocol.Json);
            if (health is not null) return health;
        }
        catch (JsonException)
        {
        }
        return new ServiceHealth { Status = "unhealthy", Detail = $"HTTP {(int)response.StatusCode}: {EmbeddingProtocol.ReadDetail(body) ?? Abbreviate(body)}" };
    }

    /// <summary>PNG bytes of an image, as the client sends it.</summary>
    public static byte[] EncodePng(Image<Rgb24> image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        image.Save(stream, PngEncoder);
        return stream.ToArray();
    }

    private static readonly PngEncoder PngEncoder = new() { CompressionLevel = PngCompressionLevel.BestSpeed };

    private async Task<EmbeddingMatrix> RunAsync(int count, Func<int, byte[]> encode, IProgress<WorkProgress>? progress, CancellationToken ct)
    {
        if (count == 0)
        {
            // No request to send; the shape still needs the service's dimension.
            int d = Options.ExpectedDimension ?? (await GetHealthAsync(ct).ConfigureAwait(false)).Dimension;
            if (d < 1) throw new EmbeddingServiceException($"no images to embed, and {BaseAddress} reported no dimension on /health.", 0, null);
            progress?.Report(new WorkProgress(ProgressStage, 0, 0, BaseAddress.ToString()));
            return new EmbeddingMatrix([], 0, d);
        }
        int size = Options.BatchSize;
        int batches = (count + size - 1) / size;
        var rows = new float[batches][][];
        int dimension = Options.ExpectedDimension ?? 0;
        long done = 0;
        var gate = new object();
        string detail = BaseAddress.ToString();
        progress?.Report(new WorkProgress(ProgressStage, 0, count, detail));
        await Parallel.ForEachAsync(Enumerable.Range(0, batches), new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelism, CancellationToken = ct },
            async (b, token) =>
            {
                int start = b * size, n = Math.Min(size, count - start);
                byte[] body = RequestBody(start, n, encode);
                float[][] vectors = await SendAsync(b, start, n, body, token).ConfigureAwait(false);
                lock (gate)
                {
                    if (dimension == 0) dimension = vectors[0].Length;
                    for (int i = 0; i < n; i++)
                        if (vectors[i].Length != dimension)
                            throw new EmbeddingServiceException(
                                $"batch {b} (images {start}-{start + n - 1}): the service answered a vector of length {vectors[i].Length} for image {start + i}; {(Options.ExpectedDimension is null ? "earlier answers had" : "expected")} {dimension}.",
                                b, HttpStatusCode.OK);
                    rows[b] = vectors;
                    done += n;
                    // Under the lock so that Done never goes back, whichever batch finishes first.
                    progress?.Report(new WorkProgress(ProgressStage, done, count, detail));
                }
            }).ConfigureAwait(false);
        var result = new float[(long)count * dimension];
        for (int b = 0; b < batches; b++)
            for (int i = 0; i < rows[b].Length; i++)
                rows[b][i].CopyTo(result, ((long)b * size + i) * dimension);
        return new EmbeddingMatrix(result, count, dimension);
    }

    private byte[] RequestBody(int start, int n, Func<int, byte[]> encode)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("base64_images");
            for (int i = start; i < start + n; i++)
                writer.WriteBase64StringValue(encode(i));
            writer.WriteEndArray();
            writer.WriteBoolean("normalize", Options.Normalize);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private async Task<float[][]> SendAsync(int batch, int start, int n, byte[] body, CancellationToken ct)
    {
        string which = $"batch {batch} (images {start}-{start + n - 1})";
        HttpResponseMessage response;
        try
        {
            response = await _pipeline.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, EmbeddingProtocol.EmbeddingsPath.TrimStart('/'))
                {
                    Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                };
                // ResponseContentRead (the default): the body is read inside the attempt, so its timeout covers it.
                return await _http.SendAsync(request, token).ConfigureAwait(false);
            }, ct).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e)
        {
            throw new EmbeddingServiceException($"{which}: no answer within {Options.RequestTimeout.TotalSeconds:0.###} s, {Options.MaxRetries + 1} attempt(s) at {BaseAddress}.", batch, null, e);
        }
        catch (HttpRequestException e)
        {
            throw new EmbeddingServiceException($"{which}: {e.Message} ({Options.MaxRetries + 1} attempt(s) at {BaseAddress}).", batch, e.StatusCode, e);
        }
        using (response)
        {
            byte[] answer = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string attempts = IsTransient(response.StatusCode) ? $" after {Options.MaxRetries + 1} attempt(s)" : "";
                throw new EmbeddingServiceException(
                    $"{which}: the service answered {(int)response.StatusCode} {response.ReasonPhrase}{attempts}: {EmbeddingProtocol.ReadDetail(answer) ?? Abbreviate(answer)}",
                    batch, response.StatusCode);
            }
            EmbeddingResponse? parsed;
            try
            {
                parsed = JsonSerializer.Deserialize<EmbeddingResponse>(answer, EmbeddingProtocol.Json);
            }
            catch (JsonException e)
            {
                throw new EmbeddingServiceException($"{which}: the 200 answer is not the protocol's JSON: {e.Message}", batch, response.StatusCode, e);
            }
            float[][]? vectors = parsed?.Embeddings;
            if (vectors is null || vectors.Length != n)
                throw new EmbeddingServiceException(
                    $"{which}: the service answered {(vectors is null ? "no \"embeddings\"" : $"{vectors.Length} vectors")} for {n} images.", batch, response.StatusCode);
            for (int i = 0; i < n; i++)
                if (vectors[i] is null || vectors[i].Length == 0)
                    throw new EmbeddingServiceException($"{which}: the vector of image {start + i} is empty.", batch, response.StatusCode);
            return vectors;
        }
    }

    private static string Abbreviate(byte[] body)
    {
        string text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300));
        return body.Length == 0 ? "(empty body)" : body.Length > 300 ? text + " ..." : text;
    }

    /// <summary>Releases the HTTP connections.</summary>
    public void Dispose() => _http.Dispose();
}
