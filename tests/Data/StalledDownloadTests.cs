using System.Security.Cryptography;
using LabelAssignment.Data;

namespace LabelAssignment.Tests.Data;

/// <summary>
/// Issue 9, finding 5: a server that sends the headers (Content-Length 8339) and 1,000 bytes, then nothing. The
/// download must notice within its idle timeout, resume with a Range request, and, when it gives up, say what was
/// received and where to put the file by hand. Each call is bounded by a generous guard so that a hang fails the
/// test instead of hanging the run (a guard, not a timing assertion).
/// </summary>
public class StalledDownloadTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static byte[] Content()
    {
        var bytes = new byte[8339];
        new Random(5).NextBytes(bytes);
        return bytes;
    }

    private static string Md5(byte[] b) => Convert.ToHexStringLower(MD5.HashData(b));

    // 3 s, not 1: on a loaded 2-core machine the loopback server's first 1,000 bytes once took over a second to arrive,
    // and the attempt was abandoned with nothing received (1,000 bytes in all where 2,000 were expected).
    private static readonly DownloadOptions Quick = new() { MaxAttempts = 3, IdleTimeout = TimeSpan.FromSeconds(3), RetryDelay = TimeSpan.Zero };

    [Fact]
    public async Task Stalled_body_is_abandoned_after_the_idle_timeout_and_resumed_with_a_range_request()
    {
        byte[] content = Content();
        using var server = new LoopbackServer(content) { StallFirst = 1, StallAt = 1000 };
        string dir = TestPaths.NewTempFolder();
        try
        {
            string dest = Path.Combine(dir, "file.bin");
            using var http = new HttpClient();
            await Download.FileAsync(http, server.Uri, dest, Md5(content), Quick).WaitAsync(Guard);
            Assert.Equal(content, File.ReadAllBytes(dest));
            Assert.False(File.Exists(dest + Download.PartialSuffix));
            Assert.Equal([null, "bytes=1000-"], server.RangeHeaders);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Download_that_keeps_stalling_gives_up_naming_the_url_what_arrived_and_where_to_put_the_file()
    {
        byte[] content = Content();
        using var server = new LoopbackServer(content) { StallFirst = int.MaxValue, StallAt = 1000 };
        string dir = TestPaths.NewTempFolder();
        try
        {
            string dest = Path.Combine(dir, "file.bin");
            using var http = new HttpClient();
            var e = await Assert.ThrowsAsync<DownloadFailedException>(() =>
                Download.FileAsync(http, server.Uri, dest, Md5(content), Quick with { MaxAttempts = 2 }).WaitAsync(Guard));
            // Each attempt resumed where the last stopped: 1,000 bytes each.
            Assert.Equal(2000, e.BytesReceived);
            Assert.Equal(8339, e.TotalBytes);
            Assert.Equal(2, e.Attempts);
            Assert.Contains(server.Uri.ToString(), e.Message);
            Assert.Contains("2000 of 8339 bytes", e.Message);
            Assert.Contains("IdleTimeout", e.Message);
            Assert.Contains(dest, e.Message); // the manual alternative: where to put the file
            Assert.Contains(Md5(content), e.Message);
            Assert.False(File.Exists(dest)); // nothing half-written under the final name
            Assert.Equal(2000, new FileInfo(dest + Download.PartialSuffix).Length);

            // The overall timeout ends a download that trickles: here it is shorter than the idle timeout.
            var overall = await Assert.ThrowsAsync<DownloadFailedException>(() =>
                Download.FileAsync(http, server.Uri, Path.Combine(dir, "other.bin"), Md5(content),
                    new DownloadOptions { IdleTimeout = TimeSpan.FromSeconds(30), Timeout = TimeSpan.FromSeconds(3) }).WaitAsync(Guard));
            Assert.Contains("Timeout", overall.Message);
            Assert.Contains("1000 of 8339 bytes", overall.Message);

            // Through Cifar100Source the same stall ends in its advice (where to put the archive).
            var options = new Cifar100Options
            {
                DataFolder = Path.Combine(dir, "data"), ArchiveUri = server.Uri, ArchiveMd5 = Md5(content), Http = http,
                MaxAttempts = 1, IdleTimeout = TimeSpan.FromSeconds(3),
            };
            var located = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                Cifar100Source.LocateAsync(Cifar100Split.Test, options, dir, null, null, default).WaitAsync(Guard));
            Assert.Contains("1000 of 8339 bytes", located.Message);
            Assert.Contains(Path.Combine(dir, "data"), located.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Download_options_validate_naming_the_property()
    {
        new DownloadOptions().Validate();
        foreach (var (name, bad) in new (string, DownloadOptions)[]
        {
            ("MaxAttempts", new() { MaxAttempts = 0 }),
            ("IdleTimeout", new() { IdleTimeout = TimeSpan.Zero }),
            ("Timeout", new() { Timeout = TimeSpan.FromSeconds(-5) }),
            ("RetryDelay", new() { RetryDelay = TimeSpan.FromSeconds(-1) }),
        })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(bad.Validate);
            Assert.Equal(name, e.ParamName);
            Assert.Contains(name, e.Message);
        }
        new DownloadOptions { Timeout = Timeout.InfiniteTimeSpan }.Validate();
        Assert.Equal("IdleTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new Cifar100Options { IdleTimeout = TimeSpan.Zero }.Validate()).ParamName);
        Assert.Equal("DownloadTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new Cifar100Options { DownloadTimeout = TimeSpan.Zero }.Validate()).ParamName);
        var o = new Cifar100Options { MaxAttempts = 2, IdleTimeout = TimeSpan.FromSeconds(7), DownloadTimeout = TimeSpan.FromMinutes(3) };
        Assert.Equal(new DownloadOptions { MaxAttempts = 2, IdleTimeout = TimeSpan.FromSeconds(7), Timeout = TimeSpan.FromMinutes(3) }, o.DownloadOptions);
    }
}
