using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using LabelAssignment.Embedding.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Prometheus;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Service;

/// <summary>
/// The routes: <c>POST /embeddings/</c> (the article's protocol, see <see cref="EmbeddingProtocol"/>), <c>GET /health</c>
/// and <c>GET /metrics</c>. Every error is <c>{"detail": "..."}</c>: 400 a bad image (named by its index) or an empty
/// list, 413 a body or image count over the limit, 422 a malformed body, 429 a full queue (with Retry-After),
/// 500 a model failure, 503 a request that waited past its timeout or an unhealthy model.
/// </summary>
public sealed class EmbeddingEndpoints
{
    private readonly IEmbeddingModel _model;
    private readonly EmbeddingBatcher _batcher;
    private readonly EmbeddingServiceOptions _options;
    private readonly ServiceMetrics _metrics;
    private readonly SemaphoreSlim _decodes;

    /// <summary>The library version /health reports.</summary>
    public static string Version { get; } =
        typeof(EmbeddingEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Creates the handlers over a model and its batcher.</summary>
    public EmbeddingEndpoints(IEmbeddingModel model, EmbeddingBatcher batcher, EmbeddingServiceOptions options, ServiceMetrics metrics)
    {
        _model = model;
        _batcher = batcher;
        _options = options;
        _metrics = metrics;
        _decodes = new SemaphoreSlim(options.MaxConcurrentDecodes == 0 ? Environment.ProcessorCount : options.MaxConcurrentDecodes);
    }

    /// <summary>Adds the request metrics and the three routes to <paramref name="app"/>.</summary>
    public void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                string route = ServiceMetrics.RouteOf(context.Request.Path.Value);
                _metrics.Requests.WithLabels(route, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
                _metrics.RequestSeconds.WithLabels(route).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        });
        // Routing matches "/embeddings" and "/embeddings/" alike.
        app.MapPost("/embeddings", EmbedAsync);
        app.MapGet(EmbeddingProtocol.HealthPath, HealthAsync);
        app.MapMetrics(EmbeddingProtocol.MetricsPath, _metrics.Registry);
    }

    private static Task Error(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { detail }), context.RequestAborted);
    }

    /// <summary>POST /embeddings/.</summary>
    public async Task EmbedAsync(HttpContext context)
    {
        if (context.Request.ContentLength > _options.MaxRequestBytes)
        {
            await Error(context, 413, $"the request body is {context.Request.ContentLength} bytes; at most {EmbeddingServiceOptions.Section}:MaxRequestBytes = {_options.MaxRequestBytes} are accepted.");
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = _options.MaxRequestBytes; // a chunked body is cut off here too
        EmbeddingRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<EmbeddingRequest>(context.Request.Body, EmbeddingProtocol.Json, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await Error(context, 422, $"the body is not the JSON object {{\"base64_images\": [string, ...], \"normalize\": bool}}: {e.Message}");
            return;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            await Error(context, 413, $"the request body is over {EmbeddingServiceOptions.Section}:MaxRequestBytes = {_options.MaxRequestBytes} bytes.");
            return;
        }
        string?[]? items = request?.Base64Images;
        if (items is null)
        {
            await Error(context, 422, "field required: base64_images (a list of base64-encoded image files).");
            return;
        }
        if (items.Length == 0)
        {
            await Error(context, 400, "base64_images is empty: at least one image expected.");
            return;
        }
        if (items.Length > _options.MaxImagesPerRequest)
        {
            await Error(context, 413, $"{items.Length} images in one request; at most {EmbeddingServiceOptions.Section}:MaxImagesPerRequest = {_options.MaxImagesPerRequest} are accepted.");
            return;
        }
        if (!_batcher.TryReserve(items.Length))
        {
            context.Response.Headers.RetryAfter = _options.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await Error(context, 429, $"the queue is full ({_batcher.QueuedImages} of {_options.MaxQueuedImages} images); retry after {_options.RetryAfterSeconds} s.");
            return;
        }
        var images = new Image<Rgb24>[items.Length];
        int decoded = 0;
        try
        {
            for (; decoded < items.Length; decoded++)
            {
                var (image, error) = await DecodeAsync(items[decoded], decoded, context.RequestAborted);
                if (error is not null)
                {
                    _metrics.ImagesRejected.Inc();
                    await Error(context, 400, $"Error processing image {decoded}: {error}");
                    return;
                }
                images[decoded] = image!;
            }
        }
        finally
        {
            if (decoded < items.Length)
            {
                for (int i = 0; i < decoded; i++) images[i].Dispose();
                _batcher.Release(items.Length);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
        float[] rows;
        try
        {
            rows = await _batcher.EmbedAsync(images, timeout.Token);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            await Error(context, 503, $"no model call took the request within {EmbeddingServiceOptions.Section}:RequestTimeoutSeconds = {_options.RequestTimeoutSeconds} s.");
            return;
        }
        catch (ModelFailedException e)
        {
            await Error(context, 500, e.Message);
            return;
        }
        catch (InvalidOperationException e)
        {
            await Error(context, 503, e.Message);
            return;
        }
        int dim = _model.Dimension;
        if (request!.Normalize) EmbeddingProtocol.Normalize(rows, dim);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("embeddings");
            for (int i = 0; i < items.Length; i++)
            {
                writer.WriteStartArray();
                foreach (float v in rows.AsSpan(i * dim, dim)) writer.WriteNumberValue(v);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private async Task<(Image<Rgb24>? Image, string? Error)> DecodeAsync(string? item, int index, CancellationToken ct)
    {
        if (item is null) return (null, "null instead of a base64 string.");
        ReadOnlySpan<char> text = item.AsSpan().Trim();
        if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            int comma = text.IndexOf(',');
            if (comma < 0 || !text[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                return (null, "a data: URI must have the form data:image/...;base64,<data>.");
            text = text[(comma + 1)..];
        }
        byte[] bytes = new byte[text.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(text, bytes, out int length))
            return (null, $"not valid base64 ({item.Length} characters starting \"{Abbreviate(item)}\").");
        Array.Resize(ref bytes, length);
        await _decodes.WaitAsync(ct);
        try
        {
            string name = $"image {index}";
            return (_model.DecodeToInput(bytes, name), null);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or NotSupportedException or ImageFormatException
                                  or IndexOutOfRangeException or InvalidOperationException or OverflowException)
        {
            // The decoder's messages start with the name given ("image 3: ..."); the detail names the index already.
            string reason = e.Message.StartsWith($"image {index}: ", StringComparison.Ordinal) ? e.Message[$"image {index}: ".Length..] : e.Message;
            return (null, reason);
        }
        finally
        {
            _decodes.Release();
        }
    }

    private static string Abbreviate(string s) => s.Length <= 16 ? s : s[..16] + "...";

    /// <summary>GET /health: runs the model on a tiny image; 503 when it fails or answers a wrong vector.</summary>
    public async Task HealthAsync(HttpContext context)
    {
        string? problem = null;
        try
        {
            using var probe = _model.ProbeImage();
            var m = await Task.Run(() => _model.Embed([probe]), context.RequestAborted);
            if (m.Count != 1 || m.Dimension != _model.Dimension)
                problem = $"the model answered {m.Count} x {m.Dimension} for 1 image; 1 x {_model.Dimension} expected.";
            else if (!m.Data.All(float.IsFinite))
                problem = "the model's vector is not finite.";
            else if (m.Data.All(v => v == 0))
                problem = "the model's vector is all zeros.";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            problem = $"the model failed on a probe image: {e.GetType().Name}: {e.Message}";
        }
        var health = new ServiceHealth
        {
            Status = problem is null ? "ok" : "unhealthy",
            Model = _model.Name,
            Dimension = _model.Dimension,
            Version = Version,
            Detail = problem,
        };
        context.Response.StatusCode = problem is null ? 200 : 503;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(health, EmbeddingProtocol.Json), context.RequestAborted);
    }
}
