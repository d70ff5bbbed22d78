using System.Text.Json;
using System.Text.Json.Serialization;

namespace LabelAssignment.Embedding.Service;

/// <summary>
/// The article's embedding service protocol, which <see cref="EmbeddingClient"/> speaks and the server in
/// lib/Service answers: <c>POST /embeddings/</c> with <c>{"base64_images": ["&lt;base64 of a PNG or JPEG file&gt;", ...],
/// "normalize": true}</c> (normalize optional, default true: each vector scaled to unit L2 norm, the norm clamped at
/// 1e-9), answered 200 with <c>{"embeddings": [[float, ...], ...]}</c> in request order; every error is answered with
/// <c>{"detail": "..."}</c> as FastAPI does (400 a bad image, 413 too large, 422 a malformed body, 429 queue full).
/// </summary>
public static class EmbeddingProtocol
{
    /// <summary>The embedding route (the article's; the server answers it without the trailing slash too).</summary>
    public const string EmbeddingsPath = "/embeddings/";

    /// <summary>The health route: runs the model on a tiny image.</summary>
    public const string HealthPath = "/health";

    /// <summary>The Prometheus metrics route.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The article's port.</summary>
    public const int DefaultPort = 8210;

    /// <summary>Norms below this are clamped before dividing (an all-zero vector stays zero instead of NaN).</summary>
    public const float NormEpsilon = 1e-9f;

    /// <summary>Options for reading and writing the protocol's JSON (field names as written, no case folding).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.General)
    {
        PropertyNameCaseInsensitive = false,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The message of an error body <c>{"detail": ...}</c>: the string, or the JSON of any other value (FastAPI's 422 list); null when the body is not such an object.</summary>
    public static string? ReadDetail(ReadOnlySpan<byte> body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("detail", out var detail))
                return detail.ValueKind == JsonValueKind.String ? detail.GetString() : detail.GetRawText();
        }
        catch (JsonException)
        {
        }
        return null;
    }

    /// <summary>L2-normalises each row of <paramref name="rows"/> (count x dimension) in place, the norm clamped at <see cref="NormEpsilon"/>.</summary>
    public static void Normalize(Span<float> rows, int dimension)
    {
        for (int start = 0; start + dimension <= rows.Length; start += dimension)
        {
            var row = rows.Slice(start, dimension);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm<float>(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, Math.Max(norm, NormEpsilon), row);
        }
    }
}

/// <summary>The request body.</summary>
public sealed record EmbeddingRequest
{
    /// <summary>Base64 of each encoded image file (PNG or JPEG; a <c>data:image/...;base64,</c> URI is accepted too).</summary>
    [JsonPropertyName("base64_images")]
    public string?[]? Base64Images { get; init; }

    /// <summary>Scale each vector to unit L2 norm (default true).</summary>
    [JsonPropertyName("normalize")]
    public bool Normalize { get; init; } = true;
}

/// <summary>The 200 answer.</summary>
public sealed record EmbeddingResponse
{
    /// <summary>One vector per image, in request order.</summary>
    [JsonPropertyName("embeddings")]
    public float[][]? Embeddings { get; init; }
}

/// <summary>The answer of <c>GET /health</c>.</summary>
public sealed record ServiceHealth
{
    /// <summary>"ok", or "unhealthy" (with status 503 and <see cref="Detail"/>).</summary>
    [JsonPropertyName("status")]
    public string Status { get; init; } = "";

    /// <summary>The model's preset name, e.g. "resnet18-224".</summary>
    [JsonPropertyName("model")]
    public string Model { get; init; } = "";

    /// <summary>Length of one embedding.</summary>
    [JsonPropertyName("dimension")]
    public int Dimension { get; init; }

    /// <summary>The library version serving.</summary>
    [JsonPropertyName("version")]
    public string Version { get; init; } = "";

    /// <summary>Why the service is unhealthy (null when healthy).</summary>
    [JsonPropertyName("detail")]
    public string? Detail { get; init; }
}
