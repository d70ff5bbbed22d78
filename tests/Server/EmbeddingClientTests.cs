using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LabelAssignment.Tests.Server;

/// <summary>
/// EmbeddingClient against scripted servers on loopback (Kestrel, port 0) that fail the first try, answer 429 with
/// Retry-After, stall past the timeout, refuse with 400, or answer the wrong number or length of vectors; and against
/// the real service (vectors equal to the in-process embedder's, in input order).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class EmbeddingClientTests
{
    /// <summary>A server whose POST /embeddings/ runs <c>script(attempt of this batch, images, context)</c>.</summary>
    sealed class ScriptedServer : IAsyncDisposable
    {
        readonly WebApplication _app;
        public readonly ConcurrentDictionary<int, int> AttemptsByBatch = new();

        public ScriptedServer(Func<int, byte[][], HttpContext, Task> script)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            _app = builder.Build();
            _app.MapPost("/embeddings", async context =>
            {
                using var doc = await JsonDocument.ParseAsync(context.Request.Body);
                var images = doc.RootElement.GetProperty("base64_images").EnumerateArray().Select(e => Convert.FromBase64String(e.GetString()!)).ToArray();
                int attempt = AttemptsByBatch.AddOrUpdate(images[0][0], 1, (_, n) => n + 1); // byte 0 of an image is its index
                await script(attempt, images, context);
            });
            _app.StartAsync().GetAwaiter().GetResult();
            Address = new Uri(_app.Urls.First() + "/");
        }

        public Uri Address { get; }
        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    /// <summary>Image i is the bytes [i, 2i mod 256, 7]; the scripted answer for it is the vector [i, 2i, 7].</summary>
    static byte[][] Inputs(int n) => Enumerable.Range(0, n).Select(i => new[] { (byte)i, (byte)(2 * i % 256), (byte)7 }).ToArray();

    static Task Answer(HttpContext context, byte[][] images, int dimension = 3)
    {
        context.Response.ContentType = "application/json";
        var rows = images.Select(b => Enumerable.Range(0, dimension).Select(j => j < 3 ? (float)b[j] : 0f).ToArray()).ToArray();
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { embeddings = rows }));
    }

    static Task Fail(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { detail }));
    }

    static EmbeddingClientOptions Quick => new() { RetryBaseDelay = TimeSpan.FromMilliseconds(10), RetryMaxDelay = TimeSpan.FromSeconds(5), MaxRetries = 3 };

    static void AssertRows(LabelAssignment.Numerics.EmbeddingMatrix m, int n)
    {
        Assert.Equal((n, 3), (m.Count, m.Dimension));
        for (int i = 0; i < n; i++)
            Assert.Equal(new float[] { i, 2 * i % 256, 7 }, m.Row(i).ToArray());
    }

    [Fact]
    public async Task Retries_a_5xx_and_returns_every_batch_in_input_order()
    {
        var rng = new Random(3);
        await using var server = new ScriptedServer(async (attempt, images, context) =>
        {
            await Task.Delay(rng.Next(0, 30)); // batches finish out of order
            if (attempt == 1) await Fail(context, 500, "worker restarting");
            else await Answer(context, images);
        });
        var reports = new ConcurrentQueue<WorkProgress>();
        using var client = new EmbeddingClient(server.Address, Quick with { BatchSize = 8, MaxParallelism = 2 });
        var m = await client.EmbedEncodedAsync(Inputs(45), new SyncProgress(reports.Enqueue));
        AssertRows(m, 45);
        Assert.Equal(6, server.AttemptsByBatch.Count);                 // 45 images in batches of 8
        Assert.All(server.AttemptsByBatch.Values, a => Assert.Equal(2, a)); // each failed once, then succeeded
        var done = reports.Select(r => r.Done).ToArray();
        Assert.Equal(done.Order(), done);                               // never goes back
        Assert.Equal((45L, 45L), (reports.Last().Done, reports.Last().Total));
        Assert.All(reports, r => Assert.Equal(EmbeddingClient.ProgressStage, r.Stage));
    }

    [Fact]
    public async Task Honours_Retry_After_of_a_429()
    {
        await using var server = new ScriptedServer(async (attempt, images, context) =>
        {
            if (attempt == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                await Fail(context, 429, "queue full");
            }
            else await Answer(context, images);
        });
        using var client = new EmbeddingClient(server.Address, Quick);
        var clock = Stopwatch.StartNew();
        AssertRows(await client.EmbedEncodedAsync(Inputs(3)), 3);
        // The backoff alone would have waited about 10 ms; the server asked for 1 s.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"retried after {clock.Elapsed.TotalSeconds:0.000} s");
        Assert.Equal(2, server.AttemptsByBatch[0]);
    }

    [Fact]
    public async Task Never_retries_a_4xx_and_names_the_batch_and_the_servers_message()
    {
        await using var server = new ScriptedServer((attempt, images, context) =>
            images[0][0] == 8 ? Fail(context, 400, "Error processing image 1: not an image") : Answer(context, images));
        using var client = new EmbeddingClient(server.Address, Quick with { MaxParallelism = 1 });
        var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => client.EmbedEncodedAsync(Inputs(20)));
        Assert.Equal(1, e.Batch);
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Contains("batch 1 (images 8-15)", e.Message);
        Assert.Contains("Error processing image 1: not an image", e.Message);
        Assert.Equal(1, server.AttemptsByBatch[8]);
    }

    [Fact]
    public async Task A_batch_that_keeps_failing_raises_after_the_retries()
    {
        await using var server = new ScriptedServer((attempt, images, context) => Fail(context, 503, "model not loaded"));
        using var client = new EmbeddingClient(server.Address, Quick with { MaxRetries = 2 });
        var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => client.EmbedEncodedAsync(Inputs(4)));
        Assert.Contains("batch 0 (images 0-3): the service answered 503", e.Message);
        Assert.Contains("after 3 attempt(s): model not loaded", e.Message);
        Assert.Equal(3, server.AttemptsByBatch[0]);
    }

    [Fact]
    public async Task A_stalled_attempt_times_out_and_is_retried_and_a_server_that_always_stalls_fails()
    {
        await using var server = new ScriptedServer(async (attempt, images, context) =>
        {
            if (attempt == 1 || images[0][0] == 0 && images.Length == 2)
                await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted).ContinueWith(_ => { });
            if (!context.RequestAborted.IsCancellationRequested) await Answer(context, images);
        });
        using var client = new EmbeddingClient(server.Address, Quick with { RequestTimeout = TimeSpan.FromMilliseconds(400) });
        AssertRows(await client.EmbedEncodedAsync(Inputs(3)), 3);
        Assert.Equal(2, server.AttemptsByBatch[0]);

        using var stubborn = new EmbeddingClient(server.Address, Quick with { RequestTimeout = TimeSpan.FromMilliseconds(300), MaxRetries = 1 });
        var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => stubborn.EmbedEncodedAsync(Inputs(2)));
        Assert.Contains("no answer within 0.3 s, 2 attempt(s)", e.Message);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task The_wrong_number_or_length_of_vectors_is_an_error()
    {
        await using var tooFew = new ScriptedServer((attempt, images, context) => Answer(context, images[..^1]));
        using (var client = new EmbeddingClient(tooFew.Address, Quick))
        {
            var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => client.EmbedEncodedAsync(Inputs(5)));
            Assert.Contains("answered 4 vectors for 5 images", e.Message);
            Assert.Equal(1, tooFew.AttemptsByBatch[0]); // a wrong answer is not retried
        }
        await using var mixed = new ScriptedServer((attempt, images, context) => Answer(context, images, images[0][0] == 0 ? 3 : 4));
        using (var client = new EmbeddingClient(mixed.Address, Quick with { BatchSize = 2, MaxParallelism = 1 }))
        {
            var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => client.EmbedEncodedAsync(Inputs(4)));
            Assert.Contains("vector of length 4 for image 2; earlier answers had 3", e.Message);
        }
        using (var client = new EmbeddingClient(mixed.Address, Quick with { ExpectedDimension = 512 }))
        {
            var e = await Assert.ThrowsAsync<EmbeddingServiceException>(() => client.EmbedEncodedAsync(Inputs(2)));
            Assert.Contains("vector of length 3 for image 0; expected 512", e.Message);
        }
    }

    [Fact]
    public async Task Cancellation_stops_the_call()
    {
        await using var server = new ScriptedServer(async (attempt, images, context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(_ => { });
        });
        using var client = new EmbeddingClient(server.Address, Quick);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.EmbedEncodedAsync(Inputs(3), cancellationToken: cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Against_the_service_the_vectors_equal_the_in_process_embedders_in_input_order()
    {
        var options = ServiceTestData.Options();
        await using var server = await EmbeddingServer.StartAsync(options, model: ServiceTestData.SharedModel(options));
        using var client = new EmbeddingClient(server.BaseAddress!); // the article's defaults: 8 per request, 2 in flight
        var m = await client.EmbedAsync(ServiceTestData.Images.Take(30));
        Assert.Equal((30, 512), (m.Count, m.Dimension));
        Assert.True(ServiceTestData.MaxAbsDiff(m, ServiceTestData.Reference) < 1e-5, $"max |diff| {ServiceTestData.MaxAbsDiff(m, ServiceTestData.Reference)}");
    }

    /// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    sealed class SyncProgress(Action<WorkProgress> report) : IProgress<WorkProgress>
    {
        public void Report(WorkProgress value) => report(value);
    }
}
