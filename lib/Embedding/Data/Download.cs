using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace LabelAssignment.Data;

/// <summary>How long a download may take and how often it is retried.</summary>
public sealed record DownloadOptions
{
    /// <summary>Attempts in all; each retry resumes the partial file with a Range request.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>
    /// An attempt that receives no byte for this long (waiting for the headers or inside the body) is abandoned and
    /// the next attempt resumes. <see cref="HttpClient.Timeout"/> does not cover the body, so without this a server
    /// that stops sending mid-body would keep the download waiting for ever.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The whole download, all attempts together, may take at most this long (<see cref="Timeout.InfiniteTimeSpan"/>: no limit).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(2);

    /// <summary>Pause before retry k is k times this.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> whose message and ParamName name the first bad option.</summary>
    public void Validate()
    {
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"MaxAttempts must be >= 1; got {MaxAttempts}.");
        if (IdleTimeout <= TimeSpan.Zero || IdleTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), IdleTimeout, $"IdleTimeout must be > 0 and at most {int.MaxValue} ms; got {IdleTimeout}.");
        if ((Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan) || Timeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, $"Timeout must be > 0 (or infinite) and at most {int.MaxValue} ms; got {Timeout}.");
        if (RetryDelay < TimeSpan.Zero || RetryDelay.TotalMilliseconds * MaxAttempts > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"RetryDelay must be >= 0 and MaxAttempts x RetryDelay at most {int.MaxValue} ms; got {RetryDelay}.");
    }
}

/// <summary>
/// A download that gave up: every attempt failed or the overall timeout passed. The message names the address, what
/// arrived (kept in the partial file for the next call to resume) and how to finish by hand.
/// </summary>
public sealed class DownloadFailedException : IOException
{
    /// <summary>Creates the exception; <see cref="Download.FileAsync"/> builds the message.</summary>
    public DownloadFailedException(string message, Uri uri, string destination, long bytesReceived, long? totalBytes, int attempts, Exception? inner)
        : base(message, inner)
    {
        Uri = uri;
        Destination = destination;
        BytesReceived = bytesReceived;
        TotalBytes = totalBytes;
        Attempts = attempts;
    }

    /// <summary>The address downloaded from.</summary>
    public Uri Uri { get; }

    /// <summary>Where the complete file would have gone (and where to put one fetched by hand).</summary>
    public string Destination { get; }

    /// <summary>Bytes in the partial file (<see cref="Destination"/> + <see cref="Download.PartialSuffix"/>).</summary>
    public long BytesReceived { get; }

    /// <summary>The file's length as the server announced it, when it did.</summary>
    public long? TotalBytes { get; }

    /// <summary>Attempts made.</summary>
    public int Attempts { get; }
}

/// <summary>
/// Resumable, verified downloads and safe archive extraction. Bytes go to <c>FILE.partial</c>; an interrupted or
/// stalled transfer resumes with an HTTP Range request; only a file whose MD5 matches is renamed to its final name,
/// so a file at the final name is always complete.
/// </summary>
public static class Download
{
    /// <summary>Suffix of the file a download writes into before it is verified.</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>
    /// Downloads <paramref name="uri"/> to <paramref name="destination"/> unless a file with the expected MD5 is
    /// already there. Up to <see cref="DownloadOptions.MaxAttempts"/> attempts, each resuming the partial file; an
    /// attempt that receives nothing for <see cref="DownloadOptions.IdleTimeout"/> is abandoned (and resumed), and
    /// the whole call ends after <see cref="DownloadOptions.Timeout"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The complete download does not have the expected MD5 (the partial file is deleted).</exception>
    /// <exception cref="DownloadFailedException">Every attempt failed (HTTP error, broken connection, stall) or the overall timeout passed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task FileAsync(HttpClient http, Uri uri, string destination, string expectedMd5, DownloadOptions? options = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (expectedMd5 is null || expectedMd5.Length != 32 || !expectedMd5.All(Uri.IsHexDigit))
            throw new ArgumentException($"expectedMd5='{expectedMd5}' must be 32 hex digits.", nameof(expectedMd5));
        options ??= new DownloadOptions();
        options.Validate();
        destination = Path.GetFullPath(destination);
        if (File.Exists(destination) && Md5Matches(destination, expectedMd5, progress, cancellationToken))
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        string partial = destination + PartialSuffix;
        using var overall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        overall.CancelAfter(options.Timeout);
        long? total = null;
        for (int attempt = 1; ; attempt++)
        {
            string? failure = null;
            Exception? error = null;
            try
            {
                await FetchAsync(http, uri, partial, options.IdleTimeout, t => total = t, progress, overall.Token).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                error = e;
                failure = overall.IsCancellationRequested ? $"the overall Timeout of {options.Timeout} passed"
                    : e is StalledException ? $"no byte arrived for {options.IdleTimeout} (IdleTimeout)"
                    : e is OperationCanceledException ? $"the headers did not arrive within HttpClient.Timeout ({http.Timeout})"
                    : e.Message;
            }
            // The partial file keeps what arrived; the next attempt asks for the rest.
            if (attempt >= options.MaxAttempts || overall.IsCancellationRequested)
                throw GaveUp(uri, destination, expectedMd5, partial, total, attempt, failure!, error);
            try
            {
                await Task.Delay(options.RetryDelay * attempt, overall.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw GaveUp(uri, destination, expectedMd5, partial, total, attempt, $"the overall Timeout of {options.Timeout} passed", e);
            }
        }
        if (!Md5Matches(partial, expectedMd5, progress, cancellationToken, out string actual))
        {
            File.Delete(partial);
            throw new InvalidDataException(
                $"{destination}: download from {uri} has MD5 {actual}; expected {expectedMd5.ToLowerInvariant()}. The partial file was deleted; try again.");
        }
        File.Move(partial, destination, overwrite: true);
    }

    private static DownloadFailedException GaveUp(Uri uri, string destination, string md5, string partial, long? total, int attempts, string failure, Exception? inner)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        string received = total is long t ? $"{have} of {t} bytes" : $"{have} bytes (length unknown)";
        return new DownloadFailedException(
            $"{uri}: download gave up after {attempts} attempt{(attempts == 1 ? "" : "s")}: {failure}. Received {received}, kept in {partial}; " +
            $"running again resumes from there. To finish by hand, fetch {uri} with another tool (e.g. curl -L -C - -o '{partial}' '{uri}', or a browser) " +
            $"and put the complete file at {destination} (MD5 {md5.ToLowerInvariant()}); it is verified and used on the next run.",
            uri, destination, have, total, attempts, inner);
    }

    /// <summary>An attempt that received nothing for the idle timeout.</summary>
    private sealed class StalledException(string message) : IOException(message);

    private static async Task FetchAsync(HttpClient http, Uri uri, string partial, TimeSpan idleTimeout, Action<long?> announced,
        IProgress<WorkProgress>? progress, CancellationToken ct)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        // One timer for "no byte for idleTimeout": started before the request, restarted after every read.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        idle.CancelAfter(idleTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (have > 0)
                request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
                return; // the partial file already holds everything; the MD5 check decides
            response.EnsureSuccessStatusCode();
            bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent
                && response.Content.Headers.ContentRange?.From == have;
            if (!append)
                have = 0; // the server ignored the range: start again
            long? total = response.Content.Headers.ContentRange?.Length
                ?? (response.Content.Headers.ContentLength is long len ? len + have : null);
            announced(total);
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            await using var file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            var buffer = new byte[1 << 16];
            long done = have;
            int read;
            idle.CancelAfter(idleTimeout);
            while ((read = await body.ReadAsync(buffer, idle.Token).ConfigureAwait(false)) > 0)
            {
                idle.CancelAfter(idleTimeout);
                await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                done += read;
                progress?.Report(new WorkProgress("download", done, total ?? -1, partial));
            }
            await file.FlushAsync(ct).ConfigureAwait(false);
            if (total is long expected && done != expected)
                throw new IOException($"{uri}: the response ended after {done} of {expected} bytes.");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException
            && idle.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // The idle timer fired (the socket read may surface it as an IOException).
            throw new StalledException($"{uri}: no byte arrived for {idleTimeout}.");
        }
    }

    /// <summary>The lower-case hex MD5 of a file.</summary>
    public static string Md5(string path, IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[1 << 20];
        long done = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            md5.AppendData(buffer, 0, read);
            done += read;
            progress?.Report(new WorkProgress("verify", done, stream.Length, path));
        }
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    private static bool Md5Matches(string path, string expected, IProgress<WorkProgress>? progress, CancellationToken ct) =>
        Md5Matches(path, expected, progress, ct, out _);

    private static bool Md5Matches(string path, string expected, IProgress<WorkProgress>? progress, CancellationToken ct, out string actual)
    {
        actual = Md5(path, progress, ct);
        return string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Extracts the folder <paramref name="folderInArchive"/> of a .tar.gz into <paramref name="targetFolder"/>:
    /// everything goes to a temporary folder first, which is renamed into place only when complete, so the
    /// result folder either exists whole or not at all. Entries that would land outside the folder are refused.
    /// </summary>
    public static void ExtractTarGz(string archive, string targetFolder, string folderInArchive,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(archive);
        ArgumentException.ThrowIfNullOrEmpty(targetFolder);
        ArgumentException.ThrowIfNullOrEmpty(folderInArchive);
        targetFolder = Path.GetFullPath(targetFolder);
        string final = Path.Combine(targetFolder, folderInArchive);
        string temp = Path.Combine(targetFolder, $".{folderInArchive}.{Environment.ProcessId}.{Guid.NewGuid():N}.extract");
        Directory.CreateDirectory(temp);
        try
        {
            using (var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            using (var gzip = new GZipStream(file, CompressionMode.Decompress))
            using (var tar = new TarReader(gzip))
            {
                TarEntry? entry;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try
                    {
                        entry = tar.GetNextEntry();
                    }
                    catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
                    {
                        throw new InvalidDataException($"{archive}: corrupt archive near compressed offset {file.Position}: {e.Message}", e);
                    }
                    if (entry is null)
                        break;
                    string name = entry.Name.Replace('\\', '/').TrimStart('.', '/');
                    string path = Path.GetFullPath(Path.Combine(temp, name));
                    if (!path.StartsWith(temp + Path.DirectorySeparatorChar, StringComparison.Ordinal) && path != temp)
                        throw new InvalidDataException($"{archive}: entry '{entry.Name}' would be written outside the target folder.");
                    if (entry.EntryType is TarEntryType.Directory)
                    {
                        Directory.CreateDirectory(path);
                        continue;
                    }
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                        continue; // links and device entries are not part of a data archive
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    try
                    {
                        entry.ExtractToFile(path, overwrite: true);
                    }
                    catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
                    {
                        throw new InvalidDataException($"{archive}: entry '{entry.Name}' is truncated or corrupt (compressed offset {file.Position}): {e.Message}", e);
                    }
                    // Compressed bytes read: the archive's length is known up front, its extracted size is not.
                    progress?.Report(new WorkProgress("extract", Math.Min(file.Position, file.Length), file.Length, path));
                }
                progress?.Report(new WorkProgress("extract", file.Length, file.Length, archive));
            }
            string extracted = Path.Combine(temp, folderInArchive);
            if (!Directory.Exists(extracted))
                throw new InvalidDataException($"{archive}: the archive has no folder '{folderInArchive}/'.");
            if (Directory.Exists(final))
                Directory.Delete(final, recursive: true);
            Directory.Move(extracted, final);
        }
        finally
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
