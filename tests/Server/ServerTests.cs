using System.Net;
using System.Text.Json;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Numerics;
using LabelAssignment.Service;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Tests.Server;

/// <summary>
/// The service over real HTTP (Kestrel on a free loopback port): answers against the in-process embedder, every limit
/// and bad request, 429 with Retry-After, timeouts, a failing model, /health, /metrics, graceful shutdown.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ServerTests
{
    static async Task<(EmbeddingServer Server, HttpClient Http)> Start(EmbeddingServiceOptions? options = null, IEmbeddingModel? model = null)
    {
        options ??= ServiceTestData.Options();
        var server = await EmbeddingServer.StartAsync(options, model: model ?? ServiceTestData.SharedModel(options));
        return (server, new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) });
    }

    static async Task<(HttpStatusCode Status, string Detail, JsonDocument Json)> Post(HttpClient http, string json, string path = "embeddings/")
    {
        // Large bodies ask first (Expect: 100-continue): a refused upload then reads its 413 instead of a broken pipe.
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ServiceTestData.Body(json) };
        request.Headers.ExpectContinue = json.Length > 100_000;
        using var response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        var doc = JsonDocument.Parse(text);
        string detail = doc.RootElement.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        return (response.StatusCode, detail, doc);
    }

    static EmbeddingMatrix Vectors(JsonDocument doc) =>
        EmbeddingMatrix.FromRows(doc.RootElement.GetProperty("embeddings").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray());

    [Fact]
    public async Task Answers_the_in_process_vectors_in_request_order_normalised_by_default_and_raw_on_request()
    {
        var (server, http) = await Start();
        await using var _ = server;
        using var __ = http;
        int[] order = [5, 0, 3, 9, 1];
        var (status, _, doc) = await Post(http, ServiceTestData.RequestJson(order.Select(ServiceTestData.Png)));
        Assert.Equal(HttpStatusCode.OK, status);
        var got = Vectors(doc);
        Assert.Equal((5, 512), (got.Count, got.Dimension));
        var expected = ServiceTestData.Reference.SelectRows(order);
        Assert.True(ServiceTestData.MaxAbsDiff(got, expected) < 1e-5, $"max |diff| {ServiceTestData.MaxAbsDiff(got, expected)}");
        for (int i = 0; i < got.Count; i++)
            Assert.Equal(1.0, Math.Sqrt(got.Row(i).ToArray().Sum(v => (double)v * v)), 5);

        // normalize=false: the raw model output; also on the route without the slash and as a data: URI.
        string uri = "data:image/png;base64," + Convert.ToBase64String(ServiceTestData.Png(7));
        var (rawStatus, _, rawDoc) = await Post(http, $"{{\"base64_images\": [\"{uri}\"], \"normalize\": false}}", "embeddings");
        Assert.Equal(HttpStatusCode.OK, rawStatus);
        var raw = Vectors(rawDoc);
        var inProcess = ServiceTestData.Embedder.Embed(ServiceTestData.Images.Select([7]));
        Assert.True(ServiceTestData.MaxAbsDiff(raw, inProcess) < 1e-4);
        Assert.True(Math.Sqrt(raw.Row(0).ToArray().Sum(v => (double)v * v)) > 2, "the raw vector must not be normalised");
    }

    [Fact]
    public async Task Accepts_jpeg_as_the_articles_demo_client_sends_it()
    {
        var (server, http) = await Start();
        await using var _ = server;
        using var __ = http;
        byte[] jpeg;
        using (var image = ServiceTestData.Images.ToImage(2))
        using (var stream = new MemoryStream())
        {
            image.Save(stream, new JpegEncoder { Quality = 90 });
            jpeg = stream.ToArray();
        }
        var (status, _, doc) = await Post(http, ServiceTestData.RequestJson([jpeg, jpeg], normalize: true));
        Assert.Equal(HttpStatusCode.OK, status);
        // Reference: the embedder on the same JPEG decoded in-process.
        var expected = ServiceTestData.Normalized(ServiceTestData.Embedder.EmbedEncoded([jpeg]));
        var got = Vectors(doc);
        Assert.Equal(2, got.Count);
        for (int i = 0; i < 2; i++)
            Assert.True(ServiceTestData.MaxAbsDiff(got.SelectRows([i]), expected) < 1e-5);
    }

    static byte[] Png(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(40, 90, 200));
        return EmbeddingClient.EncodePng(image);
    }

    [Fact]
    public async Task Refuses_each_bad_request_with_its_status_and_a_detail_naming_the_image()
    {
        var options = ServiceTestData.Options(o => o with
        {
            MaxImagesPerRequest = 4,
            MaxQueuedImages = 16,
            MaxRequestBytes = 200_000,
            Decoding = new LabelAssignment.Embedding.ImageDecodingLimits { MaxPixelsPerFrame = 100_000, MaxTotalPixels = 100_000 },
        });
        var (server, http) = await Start(options);
        await using var _ = server;
        using var __ = http;
        byte[] good = ServiceTestData.Png(0);
        string b64 = Convert.ToBase64String(good);

        var cases = new (string Name, string Body, HttpStatusCode Status, string DetailPart)[]
        {
            ("empty list", "{\"base64_images\": []}", HttpStatusCode.BadRequest, "empty"),
            ("too many images", ServiceTestData.RequestJson(Enumerable.Repeat(good, 5)), HttpStatusCode.RequestEntityTooLarge, "MaxImagesPerRequest = 4"),
            ("bad base64", $"{{\"base64_images\": [\"{b64}\", \"not base64!\"]}}", HttpStatusCode.BadRequest, "Error processing image 1: not valid base64"),
            ("not an image", ServiceTestData.RequestJson([good, good, "plain text, not a picture"u8.ToArray()]), HttpStatusCode.BadRequest, "Error processing image 2: not an image"),
            ("truncated png", ServiceTestData.RequestJson([good[..(good.Length / 2)]]), HttpStatusCode.BadRequest, "Error processing image 0:"),
            ("too many pixels", ServiceTestData.RequestJson([good, Png(400, 300)]), HttpStatusCode.BadRequest, "Error processing image 1: the image is 400x300 = 120000 pixels; at most MaxPixelsPerFrame = 100000"),
            ("too small", ServiceTestData.RequestJson([Png(4, 4)]), HttpStatusCode.BadRequest, "Error processing image 0: the image is 4x4"),
            ("null image", $"{{\"base64_images\": [\"{b64}\", null]}}", HttpStatusCode.BadRequest, "Error processing image 1: null"),
            ("malformed json", "{\"base64_images\": [", (HttpStatusCode)422, "not the JSON object"),
            ("missing field", "{\"images\": []}", (HttpStatusCode)422, "field required: base64_images"),
            ("wrong type", $"{{\"base64_images\": [\"{b64}\"], \"normalize\": \"yes\"}}", (HttpStatusCode)422, "not the JSON object"),
            ("not an object", "[1, 2]", (HttpStatusCode)422, "not the JSON object"),
            ("body too large", ServiceTestData.RequestJson([new byte[160_000]]), HttpStatusCode.RequestEntityTooLarge, "MaxRequestBytes = 200000"),
        };
        foreach (var (name, body, status, part) in cases)
        {
            var (got, detail, _) = await Post(http, body);
            Assert.True(status == got, $"{name}: expected {(int)status}, got {(int)got} ({detail})");
            Assert.True(detail.Contains(part, StringComparison.Ordinal), $"{name}: detail '{detail}' lacks '{part}'");
        }

        // A chunked body (no Content-Length) over the limit is cut off at the limit, also with 413.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "embeddings/")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(ServiceTestData.RequestJson([new byte[300_000]])))),
        };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Headers.ExpectContinue = true;
        using (var response = await http.SendAsync(chunked))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);

        // Nothing of the refused requests stays queued, and the server still answers correctly.
        Assert.Equal(0, server.Metrics.QueueDepth.Value);
        var (okStatus, _, doc) = await Post(http, ServiceTestData.RequestJson([good]));
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.True(ServiceTestData.MaxAbsDiff(Vectors(doc), ServiceTestData.Reference) < 1e-5);
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_Retry_After_and_the_queued_request_still_succeeds()
    {
        var model = new ControlledModel();
        var options = ServiceTestData.Options(o => o with { MaxImagesPerRequest = 4, MaxQueuedImages = 6, RetryAfterSeconds = 3, MaxBatchWaitMilliseconds = 0 });
        var (server, http) = await Start(options, model);
        await using var _ = server;
        using var __ = http;
        model.Close(); // the model call waits: the 4 images of the first request stay queued
        var first = Post(http, ServiceTestData.RequestJson(Enumerable.Range(0, 4).Select(ServiceTestData.Png)));
        await WaitUntil(() => server.Metrics.QueueDepth.Value == 4);
        using (var response = await http.PostAsync("embeddings/", ServiceTestData.Body(ServiceTestData.RequestJson(Enumerable.Range(4, 3).Select(ServiceTestData.Png)))))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(3), response.Headers.RetryAfter?.Delta);
            Assert.Contains("queue is full", EmbeddingProtocol.ReadDetail(await response.Content.ReadAsByteArrayAsync()));
        }
        model.Open();
        var (status, _, doc) = await first;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(ServiceTestData.MaxAbsDiff(Vectors(doc), ServiceTestData.Reference) < 1e-5);
    }

    [Fact]
    public async Task A_request_waiting_past_its_timeout_gets_503_and_a_model_failure_500_without_harming_later_requests()
    {
        var model = new ControlledModel();
        var (server, http) = await Start(ServiceTestData.Options(o => o with { RequestTimeoutSeconds = 0.5 }), model);
        await using var _ = server;
        using var __ = http;
        string one = ServiceTestData.RequestJson([ServiceTestData.Png(0)]);

        model.Close();
        var (timedOut, detail, _) = await Post(http, one);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, timedOut);
        Assert.Contains("RequestTimeoutSeconds = 0.5", detail);
        model.Open();

        model.Fail = true;
        var (failed, failDetail, _) = await Post(http, one);
        Assert.Equal(HttpStatusCode.InternalServerError, failed);
        Assert.Contains("simulated model failure", failDetail);
        model.Fail = false;

        var (ok, _, doc) = await Post(http, one);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.True(ServiceTestData.MaxAbsDiff(Vectors(doc), ServiceTestData.Reference) < 1e-5);
    }

    [Fact]
    public async Task Health_runs_the_model_and_turns_unhealthy_when_the_model_fails()
    {
        var model = new ControlledModel();
        var (server, http) = await Start(model: model);
        await using var _ = server;
        using var __ = http;
        using var client = new EmbeddingClient(server.BaseAddress!);
        int callsBefore = model.Calls;
        var health = await client.GetHealthAsync();
        Assert.Equal(("ok", ServiceTestData.Model, 512), (health.Status, health.Model, health.Dimension));
        Assert.StartsWith("0.1.0", health.Version);
        Assert.Equal(callsBefore + 1, model.Calls); // the check ran the model

        model.Fail = true;
        using (var response = await http.GetAsync("health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("simulated model failure", await response.Content.ReadAsStringAsync());
        }
        var bad = await client.GetHealthAsync();
        Assert.Equal("unhealthy", bad.Status);
        model.Fail = false;
        Assert.Equal("ok", (await client.GetHealthAsync()).Status);
    }

    [Fact]
    public async Task Metrics_count_what_was_sent()
    {
        var (server, http) = await Start(ServiceTestData.Options(o => o with { MaxBatchWaitMilliseconds = 0 }));
        await using var _ = server;
        using var __ = http;
        // 3 good requests of 2, 3 and 4 images (9 images), 2 bad images, 1 empty list.
        foreach (int n in new[] { 2, 3, 4 })
            Assert.Equal(HttpStatusCode.OK, (await Post(http, ServiceTestData.RequestJson(Enumerable.Range(0, n).Select(ServiceTestData.Png)))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, ServiceTestData.RequestJson(["xx"u8.ToArray()]))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, ServiceTestData.RequestJson([ServiceTestData.Png(0), "yy"u8.ToArray()]))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, "{\"base64_images\": []}")).Status);
        string text = await http.GetStringAsync("metrics");
        double Value(string series) => double.Parse(text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..],
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(3, Value("embedding_http_requests_total{route=\"/embeddings/\",status=\"200\"}"));
        Assert.Equal(3, Value("embedding_http_requests_total{route=\"/embeddings/\",status=\"400\"}"));
        Assert.Equal(9, Value("embedding_images_embedded_total"));
        Assert.Equal(2, Value("embedding_images_rejected_total"));
        Assert.Equal(0, Value("embedding_queue_images"));
        Assert.Equal(9, Value("embedding_batch_size_sum"));
        Assert.Equal(3, Value("embedding_batch_size_count")); // sequential requests: one model call each
        Assert.Equal(6, Value("embedding_http_request_duration_seconds_count{route=\"/embeddings/\"}"));
        Assert.Contains("# TYPE embedding_batch_duration_seconds histogram", text);
    }

    [Fact]
    public async Task Concurrent_small_requests_share_model_calls()
    {
        var model = new ControlledModel();
        var (server, http) = await Start(ServiceTestData.Options(o => o with { MaxBatchSize = 32, MaxBatchWaitMilliseconds = 50 }), model);
        await using var _ = server;
        using var __ = http;
        model.Close();
        // 8 requests of 2 images arrive while the model is held: at most two model calls serve all 16 images.
        var requests = Enumerable.Range(0, 8).Select(r => Post(http, ServiceTestData.RequestJson([ServiceTestData.Png(2 * r), ServiceTestData.Png(2 * r + 1)]))).ToArray();
        await WaitUntil(() => server.Metrics.QueueDepth.Value == 16);
        model.Open();
        var answers = await Task.WhenAll(requests);
        for (int r = 0; r < 8; r++)
        {
            Assert.Equal(HttpStatusCode.OK, answers[r].Status);
            Assert.True(ServiceTestData.MaxAbsDiff(Vectors(answers[r].Json), ServiceTestData.Reference, 2 * r) < 1e-5, $"request {r}");
        }
        Assert.True(model.Calls <= 2, $"{model.Calls} model calls for 8 concurrent requests");
    }

    [Fact]
    public async Task Shutdown_lets_the_in_flight_request_finish()
    {
        var model = new ControlledModel { Delay = TimeSpan.FromMilliseconds(700) };
        var (server, http) = await Start(model: model);
        using var __ = http;
        var inFlight = Post(http, ServiceTestData.RequestJson([ServiceTestData.Png(3)]));
        await WaitUntil(() => model.Calls == 1);
        await server.DisposeAsync(); // stops Kestrel (drains), then the batcher
        var (status, _, doc) = await inFlight;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(ServiceTestData.MaxAbsDiff(Vectors(doc), ServiceTestData.Reference, 3) < 1e-5);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("health"));
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException("condition not reached in 20 s");
            await Task.Delay(10);
        }
    }
}

/// <summary>The service tests run one at a time (each starts servers that use both cores).</summary>
[CollectionDefinition(Name)]
public sealed class ServiceCollection
{
    public const string Name = "embedding service";
}
