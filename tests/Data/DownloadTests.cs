using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using LabelAssignment.Data;

namespace LabelAssignment.Tests.Data;

/// <summary>
/// A loopback HTTP server serving one byte array, honouring Range requests, and able to cut the first
/// responses short (it promises the full length, sends part, then aborts the connection) or to stall them
/// (it promises the full length, sends part, then sends nothing until it is disposed). Requests are served
/// concurrently, so a stalled response does not hold up the next request.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly byte[] _content;
    private readonly Task _loop;
    public readonly List<string?> RangeHeaders = [];
    public int TruncateFirst;
    public int TruncateAt;
    public int StallFirst;
    public int StallAt;
    private readonly CancellationTokenSource _stop = new();

    public LoopbackServer(byte[] content)
    {
        _content = content;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }
        Uri = new Uri($"http://127.0.0.1:{port}/cifar-100-binary.tar.gz");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public Uri Uri { get; }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(ctx));
        }
    }

    private async Task Handle(HttpListenerContext ctx)
    {
        string? range = ctx.Request.Headers["Range"];
        lock (RangeHeaders) RangeHeaders.Add(range);
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
            from = long.Parse(range[6..].TrimEnd('-'));
        var res = ctx.Response;
        if (from >= _content.Length)
        {
            res.StatusCode = 416;
            res.Close();
            return;
        }
        if (from > 0)
        {
            res.StatusCode = 206;
            res.Headers["Content-Range"] = $"bytes {from}-{_content.Length - 1}/{_content.Length}";
        }
        res.ContentLength64 = _content.Length - from;
        bool cut = Interlocked.Decrement(ref TruncateFirst) >= 0;
        bool stall = !cut && Interlocked.Decrement(ref StallFirst) >= 0;
        try
        {
            if (cut || stall)
            {
                int n = (int)Math.Min(cut ? TruncateAt : StallAt, _content.Length - from);
                await res.OutputStream.WriteAsync(_content.AsMemory((int)from, n));
                await res.OutputStream.FlushAsync();
                if (stall)
                    try { await Task.Delay(Timeout.Infinite, _stop.Token); } catch (OperationCanceledException) { }
                res.Abort(); // the client sees the connection close before Content-Length bytes
            }
            else
            {
                await res.OutputStream.WriteAsync(_content.AsMemory((int)from));
                res.Close();
            }
        }
        catch (HttpListenerException) { }
        catch (IOException) { }
        catch (ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try { _loop.Wait(2000); } catch (AggregateException) { }
    }
}

public class DownloadTests
{
    /// <summary>A tar.gz holding cifar-100-binary/ with the binary fixture, plus <paramref name="noiseBytes"/> of random padding to make it larger.</summary>
    internal static byte[] MakeArchive(int noiseBytes = 200_000)
    {
        string src = Path.Combine(TestPaths.Fixtures, "cifar100", "cifar-100-binary");
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "cifar-100-binary/"));
            foreach (string f in Directory.GetFiles(src).Order())
                tar.WriteEntry(f, "cifar-100-binary/" + Path.GetFileName(f));
            if (noiseBytes > 0)
            {
                var noise = new byte[noiseBytes];
                new Random(1).NextBytes(noise); // incompressible, so the archive spans several reads
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "cifar-100-binary/noise.dat") { DataStream = new MemoryStream(noise) });
            }
        }
        return ms.ToArray();
    }

    private static string Md5(byte[] b) => Convert.ToHexStringLower(MD5.HashData(b));

    [Fact]
    public async Task Truncated_transfer_keeps_partial_and_the_next_call_resumes_with_range()
    {
        byte[] archive = MakeArchive();
        using var server = new LoopbackServer(archive) { TruncateFirst = 1, TruncateAt = 50_000 };
        string dir = TestPaths.NewTempFolder();
        try
        {
            string dest = Path.Combine(dir, "a.tar.gz");
            using var http = new HttpClient();
            await Assert.ThrowsAnyAsync<Exception>(() => Download.FileAsync(http, server.Uri, dest, Md5(archive), new DownloadOptions { MaxAttempts = 1 }));
            Assert.False(File.Exists(dest)); // never a half file under the final name
            long kept = new FileInfo(dest + Download.PartialSuffix).Length;
            Assert.InRange(kept, 1, archive.Length - 1);

            await Download.FileAsync(http, server.Uri, dest, Md5(archive), new DownloadOptions { MaxAttempts = 1 });
            Assert.Equal(archive, File.ReadAllBytes(dest));
            Assert.False(File.Exists(dest + Download.PartialSuffix));
            Assert.Equal([null, $"bytes={kept}-"], server.RangeHeaders);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Retries_resume_within_one_call_and_report_progress()
    {
        byte[] archive = MakeArchive();
        using var server = new LoopbackServer(archive) { TruncateFirst = 2, TruncateAt = 40_000 };
        string dir = TestPaths.NewTempFolder();
        try
        {
            string dest = Path.Combine(dir, "a.tar.gz");
            var reports = new List<WorkProgress>();
            var progress = new SyncProgress<WorkProgress>(reports.Add);
            using var http = new HttpClient();
            await Download.FileAsync(http, server.Uri, dest, Md5(archive), new DownloadOptions { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(200) }, progress);
            Assert.Equal(archive, File.ReadAllBytes(dest));
            Assert.Equal(3, server.RangeHeaders.Count);
            Assert.All(server.RangeHeaders.Skip(1), h => Assert.StartsWith("bytes=", h));
            var last = reports.Last(r => r.Stage == "download");
            Assert.Equal(archive.Length, last.Done);
            Assert.Equal(archive.Length, last.Total);
            var verify = reports.Where(r => r.Stage == "verify").ToArray();
            Assert.NotEmpty(verify);
            Assert.Equal((archive.Length, archive.Length), (verify[^1].Done, verify[^1].Total));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Md5_mismatch_throws_and_leaves_nothing()
    {
        byte[] archive = MakeArchive();
        using var server = new LoopbackServer(archive);
        string dir = TestPaths.NewTempFolder();
        try
        {
            string dest = Path.Combine(dir, "a.tar.gz");
            using var http = new HttpClient();
            string wrong = new('0', 32);
            var e = await Assert.ThrowsAsync<InvalidDataException>(() => Download.FileAsync(http, server.Uri, dest, wrong));
            Assert.Contains(Md5(archive), e.Message);
            Assert.Contains(wrong, e.Message);
            Assert.Contains(dest, e.Message);
            Assert.False(File.Exists(dest));
            Assert.False(File.Exists(dest + Download.PartialSuffix));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task LocateAsync_downloads_extracts_and_then_reuses_and_honours_the_environment_variable()
    {
        byte[] archive = MakeArchive();
        using var server = new LoopbackServer(archive) { TruncateFirst = 1, TruncateAt = 30_000 };
        string dir = TestPaths.NewTempFolder();
        try
        {
            using var http = new HttpClient();
            var options = new Cifar100Options { DataFolder = dir, ArchiveUri = server.Uri, ArchiveMd5 = Md5(archive), Http = http };
            string folder = await Cifar100.LocateAsync(options);
            Assert.Equal(Path.Combine(dir, Cifar100.BinaryFolderName), folder);
            var d = Cifar100.Load(folder, Cifar100Split.Test, expectedRecords: 5);
            Assert.Equal(5, d.Count);
            Assert.Equal(200_000, new FileInfo(Path.Combine(folder, "noise.dat")).Length);
            Assert.Empty(Directory.GetDirectories(dir, ".*")); // no temporary extraction folder left
            int requests = server.RangeHeaders.Count;
            Assert.Equal(folder, await Cifar100.LocateAsync(options)); // already there: no request
            Assert.Equal(requests, server.RangeHeaders.Count);

            string local = Path.Combine(TestPaths.Fixtures, "cifar100", "cifar-100-python");
            Environment.SetEnvironmentVariable(Cifar100.FolderEnvironmentVariable, local);
            try
            {
                Assert.Equal(local, await Cifar100.LocateAsync(options));
                var fromEnv = await Cifar100.LoadAsync(Cifar100Split.Train, options, expectedRecords: 8);
                Assert.Equal(8, fromEnv.Count);
                Environment.SetEnvironmentVariable(Cifar100.FolderEnvironmentVariable, Path.Combine(dir, "missing"));
                var e = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => Cifar100.LocateAsync(options));
                Assert.Contains(Cifar100.FolderEnvironmentVariable, e.Message);
            }
            finally { Environment.SetEnvironmentVariable(Cifar100.FolderEnvironmentVariable, null); }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Truncated_archive_extraction_throws_naming_the_archive_and_leaves_no_folder()
    {
        byte[] archive = MakeArchive();
        string dir = TestPaths.NewTempFolder();
        try
        {
            string path = Path.Combine(dir, "cut.tar.gz");
            File.WriteAllBytes(path, archive[..(archive.Length / 2)]);
            var e = Assert.ThrowsAny<Exception>(() => Download.ExtractTarGz(path, dir, Cifar100.BinaryFolderName));
            Assert.True(e is InvalidDataException or EndOfStreamException, e.GetType().Name + ": " + e.Message);
            Assert.Contains(path, e.Message);
            Assert.False(Directory.Exists(Path.Combine(dir, Cifar100.BinaryFolderName)));
            Assert.Empty(Directory.GetDirectories(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}

/// <summary>IProgress that calls back synchronously (Progress&lt;T&gt; posts to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
