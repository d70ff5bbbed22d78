using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LabelAssignment.Embedding.Service;
using LabelAssignment.Numerics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace LabelAssignment.Tests.Server;

/// <summary>
/// Load on the service's own program (server/, in a process of its own so that its memory is its own): 8 concurrent
/// clients send 200 requests, good ones mixed with every kind of bad one. Every good answer must equal the in-process
/// embedder's vectors, every bad one must be its 4xx, no 5xx, the server's peak resident memory (VmHWM) must stay
/// under <see cref="PeakMemoryBoundBytes"/>, and /health must answer ok afterwards.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class LoadTests
{
    /// <summary>
    /// The bound on the server's peak resident memory during the load: 500 MB. After start-up the process holds about
    /// 340 MB with ResNet18-64 loaded (measured 342 MB; loading itself peaks near 500 MB and is excluded by resetting
    /// VmHWM); the queue holds at most 64 images of 64 x 64, each body is at most 1 MiB and each decode at most
    /// 1 megapixel, so serving should add tens of MB (measured: peak 391 MB). Buffering the 200 requests' bodies
    /// (about 120 MB of them) or a leak per request would cross it.
    /// </summary>
    public const long PeakMemoryBoundBytes = 500L << 20;

    static string ServerDll
    {
        get
        {
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            string path = Path.Combine(TestPaths.RepoRoot, "server", "bin", configuration, "net10.0", "LabelAssignment.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path}: build server/ first (the test project builds it).", path);
        }
    }

    sealed record Kind(string Name, HttpStatusCode Status, Func<int, (string Body, int[]? Images)> Make);

    [Fact]
    public async Task Eight_clients_200_requests_good_and_bad_all_answered_right_in_bounded_memory()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { ServerDll, "--urls", "http://127.0.0.1:0", $"--Embedding:Model={ServiceTestData.Model}",
                     "--Embedding:MaxImagesPerRequest=16", "--Embedding:MaxQueuedImages=64", "--Embedding:MaxRequestBytes=1048576",
                     "--Embedding:Decoding:MaxPixelsPerFrame=1000000", "--Embedding:Decoding:MaxTotalPixels=4000000",
                     "--Logging:LogLevel:Default=Warning" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            string? line;
            Uri? address = null;
            while ((line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) is not null)
                if (line.Contains("listening on ", StringComparison.Ordinal))
                {
                    address = new Uri(line[(line.IndexOf("listening on ", StringComparison.Ordinal) + 13)..].Split(',')[0].Trim() + "/");
                    break;
                }
            Assert.True(address is not null, $"the server printed no address; stderr:\n{(process.HasExited ? await stderr : "")}");
            _ = process.StandardOutput.ReadToEndAsync();
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            using (var ready = await http.GetAsync("health"))
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            // Loading the model peaks higher than serving ever should (the graph is edited in managed memory, then
            // collected); reset the peak so that VmHWM measures the load alone.
            long idle = ResetPeak(process.Id);

            byte[] Png(int w, int h)
            {
                using var image = new Image<Rgb24>(w, h, new Rgb24(10, 200, 30));
                return EmbeddingClient.EncodePng(image);
            }
            byte[] huge = Png(1100, 1000), tiny = Png(4, 4);
            string B64(byte[] b) => Convert.ToBase64String(b);
            var kinds = new Kind[]
            {
                new("good", HttpStatusCode.OK, r => { int n = 1 + r % 3; var idx = Enumerable.Range(0, n).Select(k => (r * 7 + k) % 40).ToArray(); return (ServiceTestData.RequestJson(idx.Select(ServiceTestData.Png)), idx); }),
                new("empty list", HttpStatusCode.BadRequest, _ => ("{\"base64_images\": []}", null)),
                new("bad base64", HttpStatusCode.BadRequest, r => ($"{{\"base64_images\": [\"{B64(ServiceTestData.Png(r % 40))}\", \"%%%\"]}}", null)),
                new("not an image", HttpStatusCode.BadRequest, _ => (ServiceTestData.RequestJson(["GIF89a but not really"u8.ToArray()]), null)),
                new("truncated", HttpStatusCode.BadRequest, r => (ServiceTestData.RequestJson([ServiceTestData.Png(r % 40)[..100]]), null)),
                new("too many pixels", HttpStatusCode.BadRequest, _ => (ServiceTestData.RequestJson([huge]), null)),
                new("too small", HttpStatusCode.BadRequest, _ => (ServiceTestData.RequestJson([tiny]), null)),
                new("too many images", HttpStatusCode.RequestEntityTooLarge, _ => (ServiceTestData.RequestJson(Enumerable.Repeat(tiny, 17)), null)),
                new("body too large", HttpStatusCode.RequestEntityTooLarge, _ => (ServiceTestData.RequestJson([new byte[900_000]]), null)),
                new("malformed json", (HttpStatusCode)422, _ => ("{\"base64_images\": [\"abc\"", null)),
                new("missing field", (HttpStatusCode)422, _ => ("{\"normalize\": true}", null)),
                new("wrong type", (HttpStatusCode)422, _ => ("{\"base64_images\": \"not a list\"}", null)),
            };
            // Half the requests good, the other half cycling through every bad kind.
            var plan = Enumerable.Range(0, 200).Select(r => r % 2 == 0 ? kinds[0] : kinds[1 + r / 2 % (kinds.Length - 1)]).ToArray();
            var statuses = new ConcurrentDictionary<string, ConcurrentBag<int>>();
            var failures = new ConcurrentQueue<string>();
            int next = -1, retried429 = 0;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                int r;
                while ((r = Interlocked.Increment(ref next)) < plan.Length)
                {
                    var kind = plan[r];
                    var (body, images) = kind.Make(r);
                    HttpResponseMessage response;
                    while (true)
                    {
                        // A client uploading a body the server may refuse asks first (Expect: 100-continue), so that it
                        // reads the 413 instead of writing into a connection the server has closed.
                        using var request = new HttpRequestMessage(HttpMethod.Post, "embeddings/") { Content = ServiceTestData.Body(body) };
                        request.Headers.ExpectContinue = body.Length > 1 << 20;
                        response = await http.SendAsync(request);
                        if (response.StatusCode != HttpStatusCode.TooManyRequests) break;
                        Interlocked.Increment(ref retried429); // the queue was full: a client waits as told
                        await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                        response.Dispose();
                    }
                    using (response)
                    {
                        string text = await response.Content.ReadAsStringAsync();
                        statuses.GetOrAdd(kind.Name, _ => []).Add((int)response.StatusCode);
                        if (response.StatusCode != kind.Status)
                        {
                            failures.Enqueue($"request {r} ({kind.Name}): {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}");
                            continue;
                        }
                        using var doc = JsonDocument.Parse(text);
                        if (images is null)
                        {
                            if (doc.RootElement.GetProperty("detail").GetString() is not { Length: > 0 })
                                failures.Enqueue($"request {r} ({kind.Name}): no detail");
                            continue;
                        }
                        var got = EmbeddingMatrix.FromRows(doc.RootElement.GetProperty("embeddings").EnumerateArray()
                            .Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray());
                        double diff = ServiceTestData.MaxAbsDiff(got, ServiceTestData.Reference.SelectRows(images));
                        if (got.Count != images.Length || diff >= 1e-5)
                            failures.Enqueue($"request {r}: {got.Count} vectors for {images.Length} images, max |diff| {diff}");
                    }
                }
            }))).WaitAsync(TimeSpan.FromMinutes(2));
            clock.Stop();

            using (var health = await http.GetAsync("health"))
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            long peak = PeakResidentBytes(process.Id);
            string table = string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {string.Join("/", s.Value.GroupBy(v => v).Select(g => $"{g.Count()}x{g.Key}"))}"));
            Console.WriteLine($"load: 200 requests from 8 clients in {clock.Elapsed.TotalSeconds:0.0} s; {table}; 429 retries {retried429}; server RSS idle {idle / (1 << 20)} MB, peak under load {peak / (1 << 20)} MB");
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(20)));
            Assert.Equal(200, statuses.Values.Sum(b => b.Count));
            Assert.DoesNotContain(statuses.Values.SelectMany(b => b), s => s >= 500);
            Assert.True(peak > 0 && peak < PeakMemoryBoundBytes, $"server peak RSS {peak / (1 << 20)} MB; bound {PeakMemoryBoundBytes / (1 << 20)} MB");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
    }

    /// <summary>Resets a process's VmHWM to its current resident set (Linux: "5" to /proc/PID/clear_refs); returns VmRSS in bytes.</summary>
    static long ResetPeak(int pid)
    {
        string clear = $"/proc/{pid}/clear_refs";
        if (File.Exists(clear)) File.WriteAllText(clear, "5");
        return Status(pid, "VmRSS:");
    }

    static long Status(int pid, string field)
    {
        string path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return 0;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>VmHWM (peak resident set) of a process from /proc, in bytes; 0 where /proc is absent.</summary>
    static long PeakResidentBytes(int pid)
    {
        string path = $"/proc/{pid}/status";
        if (!File.Exists(path)) return 0;
        string? line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
