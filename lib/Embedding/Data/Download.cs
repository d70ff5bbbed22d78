using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace LabelAssignment.Data;

/// <summary>
/// Resumable, verified downloads and safe archive extraction. Bytes go to <c>FILE.partial</c>; an interrupted
/// transfer resumes with an HTTP Range request; only a file whose MD5 matches is renamed to its final name, so a
/// file at the final name is always complete.
/// </summary>
public static class Download
{
    /// <summary>Suffix of the file a download writes into before it is verified.</summary>
    public const string PartialSuffix = ".partial";

    /// <summary>
    /// Downloads <paramref name="uri"/> to <paramref name="destination"/> unless a file with the expected MD5 is
    /// already there. Up to <paramref name="maxAttempts"/> attempts, each resuming the partial file.
    /// </summary>
    /// <exception cref="InvalidDataException">The complete download does not have the expected MD5 (the partial file is deleted).</exception>
    /// <exception cref="HttpRequestException">The server refused the request or every attempt failed.</exception>
    public static async Task FileAsync(HttpClient http, Uri uri, string destination, string expectedMd5, int maxAttempts = 5,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        if (expectedMd5 is null || expectedMd5.Length != 32 || !expectedMd5.All(Uri.IsHexDigit))
            throw new ArgumentException($"expectedMd5='{expectedMd5}' must be 32 hex digits.", nameof(expectedMd5));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        destination = Path.GetFullPath(destination);
        if (File.Exists(destination) && Md5Matches(destination, expectedMd5, progress, cancellationToken))
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        string partial = destination + PartialSuffix;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await FetchAsync(http, uri, partial, progress, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (attempt < maxAttempts && e is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                // The partial file keeps what arrived; the next attempt asks for the rest.
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken).ConfigureAwait(false);
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

    private static async Task FetchAsync(HttpClient http, Uri uri, string partial, IProgress<WorkProgress>? progress, CancellationToken ct)
    {
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (have > 0)
            request.Headers.Range = new RangeHeaderValue(have, null);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0)
            return; // the partial file already holds everything; the MD5 check decides
        response.EnsureSuccessStatusCode();
        bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent
            && response.Content.Headers.ContentRange?.From == have;
        if (!append)
            have = 0; // the server ignored the range: start again
        long? total = response.Content.Headers.ContentLength is long len ? len + have : null;
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using var file = new FileStream(partial, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        long done = have;
        int read;
        while ((read = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            done += read;
            progress?.Report(new WorkProgress("download", done, total ?? -1, partial));
        }
        await file.FlushAsync(ct).ConfigureAwait(false);
        if (total is long expected && done != expected)
            throw new IOException($"{uri}: the response ended after {done} of {expected} bytes.");
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
