using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LabelAssignment.IO;
using LabelAssignment.Ids;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>
/// Where <see cref="ClusterTables"/> live between runs: one folder of .npy files (numpy and pandas read them as they
/// are) and a small <c>tables.json</c> manifest naming the current generation and the SHA-256 of each of its files.
/// Each save writes a new generation of files and then replaces the manifest atomically, so a crash leaves either
/// the old state or the new one, never a mix.
/// </summary>
/// <remarks>
/// <para><b>Formats.</b> Saves write format version 2: the manifest records a SHA-256 checksum per file, verified on
/// <see cref="Load"/>. Folders written before checksums existed (version 1, the same files and manifest without
/// <c>Checksums</c>) still load, with every value check below but no checksum check.</para>
/// <para><b>What Load trusts.</b> Nothing: the generation name must match the pattern the store writes (17 digits,
/// '-', 12 lower-case hex digits) before any file it names is read or deleted; every file's checksum (version 2, of
/// exactly the bytes parsed: each file is read once), shape and values are checked: finite embeddings and centres
/// (non-zero embeddings under cosine), distinct item IDs, counts equal to the memberships in <c>cluster_ids</c>,
/// centres equal to the mean of their members (to a relative 1e-6), IDs live in the allocator, core rows in range.
/// A failed check throws <see cref="InvalidDataException"/> naming the file and the check.</para>
/// <para><b>Concurrency.</b> Any thread may call <see cref="Save"/> and <see cref="Load"/>, also while assigners
/// commit. Save takes a consistent snapshot: it holds the tables' read lock while it writes, so predictions go on
/// and commits wait until the files are written. Saves into one folder are serialised within a process; a save from
/// another process while one runs is refused with an <see cref="IOException"/> (the folder's <c>tables.lock</c>).
/// A save keeps the generation it replaces until the next save, so a reader that read the manifest just before a
/// save still finds its files; a load whose generation vanished anyway (two saves during one load) retries once
/// with the new manifest.</para>
/// <para><b>Debris.</b> A failed save deletes what it wrote; a crashed one leaves a partial generation and
/// temporary files, which the next successful save removes (every generation but the new and the previous one, and
/// every temporary file of the store's patterns; other files in the folder are never touched).</para>
/// </remarks>
public sealed class ClusterTablesStore
{
    private const int FormatVersion = 2;
    private const string ManifestName = "tables.json";
    private const string LockName = "tables.lock";
    private const int MaxManifestBytes = 1 << 20;
    private const double MeanTolerance = 1e-6; // relative to the cluster's largest |value|; the running mean drifts ~n*1e-16

    private sealed record Manifest(int FormatVersion, string? Generation, string? Metric, int Dimension, int Items, int Clusters,
        string? IdPolicy, int HighWaterMark, Dictionary<string, string>? Checksums = null);

    private static readonly string[] Parts = ["item_ids", "embeddings", "cluster_ids", "centre_ids", "centres", "counts", "core_rows", "allocator"];

    private const string GenerationPattern = "[0-9]{17}-[0-9a-f]{12}";
    private static readonly Regex GenerationRx = new($@"\A{GenerationPattern}\z", RegexOptions.CultureInvariant);
    private static readonly Regex PartFileRx = new(
        $@"\A(?:{string.Join('|', Parts)})\.(?<gen>{GenerationPattern})\.(?:npy|json)\z", RegexOptions.CultureInvariant);
    private static readonly Regex TempFileRx = new( // AtomicFile's temporary names for the store's files
        $@"\A\.(?:(?:{string.Join('|', Parts)})\.{GenerationPattern}\.(?:npy|json)|tables\.json)\.[0-9]+\.[0-9a-f]{{32}}\.tmp\z",
        RegexOptions.CultureInvariant);

    private static readonly JsonSerializerOptions ReadOptions = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    };
    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly ConcurrentDictionary<string, object> FolderGates = new(StringComparer.Ordinal);

    /// <summary>A store in <paramref name="folder"/> (created on the first save).</summary>
    public ClusterTablesStore(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = folder;
    }

    /// <summary>The folder holding the manifest and the generations.</summary>
    public string Folder { get; }

    /// <summary>Whether a saved state is here (the manifest exists).</summary>
    public bool Exists => File.Exists(ManifestPath);

    /// <summary>Test seam: called with each file's path before a save writes it (throw to make the save fail there).</summary>
    internal Action<string>? BeforeWrite { get; set; }

    /// <summary>Test seam: called with each part file's path before a load opens it to read its values.</summary>
    internal Action<string>? BeforeRead { get; set; }

    private string ManifestPath => Path.Combine(Folder, ManifestName);

    // Only ever called with a generation that matched GenerationRx, and with a part from Parts.
    private string PartFile(string part, string generation) =>
        Path.Combine(Folder, $"{part}.{generation}.{(part == "allocator" ? "json" : "npy")}");

    /// <summary>
    /// Saves <paramref name="tables"/> as a new generation (a consistent snapshot: commits wait while it is written),
    /// points the manifest at it, and removes every older generation but the one it replaced and any debris of
    /// crashed saves. On failure it deletes what it wrote and rethrows; the previous state stays current.
    /// </summary>
    /// <exception cref="IOException">Another process is saving into the same folder, or the disk failed.</exception>
    public void Save(ClusterTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        lock (FolderGates.GetOrAdd(Path.GetFullPath(Folder), _ => new object()))
        {
            Directory.CreateDirectory(Folder);
            using var exclusive = TakeSaveLock();
            string? previous = CurrentGeneration();
            string gen;
            do gen = string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}")[..30];
            while (gen == previous);
            try
            {
                Manifest manifest;
                using (tables.ReadLock())
                    manifest = WriteGeneration(tables, gen);
                BeforeWrite?.Invoke(ManifestPath);
                AtomicFile.WriteAllText(ManifestPath, JsonSerializer.Serialize(manifest, WriteOptions));
            }
            catch
            {
                foreach (string part in Parts) TryDelete(PartFile(part, gen));
                throw;
            }
            foreach (string path in Directory.GetFiles(Folder))
            {
                string name = Path.GetFileName(path);
                var m = PartFileRx.Match(name);
                if (m.Success ? m.Groups["gen"].Value != gen && m.Groups["gen"].Value != previous : TempFileRx.IsMatch(name))
                    TryDelete(path);
            }
        }
    }

    private FileStream TakeSaveLock()
    {
        string path = Path.Combine(Folder, LockName);
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"{path}: another process is saving cluster tables into {Folder}; saves into one folder must not overlap.", e);
        }
    }

    /// <summary>The generation the manifest names, when it is a valid manifest; null otherwise (nothing to keep).</summary>
    private string? CurrentGeneration()
    {
        try { return ParseManifest(ReadManifestText(ManifestPath), ManifestPath).Generation; }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return null; }
    }

    private Manifest WriteGeneration(ClusterTables tables, string gen)
    {
        int items = tables.ItemCount, clusters = tables.ClusterCount, d = tables.Dimension;
        var allocator = tables.AllocatorForStore;
        var sums = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["item_ids"] = WriteNpy(PartFile("item_ids", gen), tables.ItemIds, items),
            ["embeddings"] = WriteNpy(PartFile("embeddings", gen), tables.EmbeddingValues, items, d),
            ["cluster_ids"] = WriteNpy(PartFile("cluster_ids", gen), tables.ItemClusterIds, items),
            ["centre_ids"] = WriteNpy(PartFile("centre_ids", gen), tables.ClusterIds, clusters),
            ["centres"] = WriteNpy(PartFile("centres", gen), tables.CentreValues, clusters, d),
            ["counts"] = WriteNpy(PartFile("counts", gen), tables.Counts, clusters),
            ["core_rows"] = WriteNpy(PartFile("core_rows", gen), tables.CoreRows, tables.CoreRows.Length),
        };
        string allocatorFile = PartFile("allocator", gen);
        BeforeWrite?.Invoke(allocatorFile);
        allocator.Save(allocatorFile);
        using (var s = File.OpenRead(allocatorFile))
            sums["allocator"] = Convert.ToHexStringLower(SHA256.HashData(s));
        return new Manifest(FormatVersion, gen, tables.Metric.ToString(), d, items, clusters, allocator.Policy.ToString(),
            allocator.HighWaterMark, sums);
    }

    /// <summary>Writes a .npy file and returns the SHA-256 of its bytes, hashed from memory (header + data) as written.</summary>
    private string WriteNpy<T>(string path, ReadOnlySpan<T> data, params int[] shape) where T : unmanaged
    {
        BeforeWrite?.Invoke(path);
        Npy.Write(path, data, shape);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Npy.BuildHeader(Npy.DescrOf<T>(), shape));
        int chunk = (1 << 30) / Marshal.SizeOf<T>();
        for (int at = 0; at < data.Length; at += chunk)
            hash.AppendData(MemoryMarshal.AsBytes(data.Slice(at, Math.Min(chunk, data.Length - at))));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Loads what <see cref="Save"/> wrote (format 2, or format 1 without checksums). A missing manifest throws
    /// <see cref="FileNotFoundException"/>; anything else wrong (a name outside the pattern, a missing or damaged file,
    /// a value that cannot be true) throws <see cref="InvalidDataException"/> naming the file and the check.
    /// </summary>
    public ClusterTables Load()
    {
        string manifestPath = ManifestPath;
        for (int attempt = 0; ; attempt++)
        {
            string text = ReadManifestText(manifestPath);
            var m = ParseManifest(text, manifestPath);
            try
            {
                return LoadGeneration(m);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Two saves ran during this load and removed its generation: once more with the new manifest.
                string? now = null;
                try { now = ReadManifestText(manifestPath); } catch (IOException) { }
                if (attempt == 0 && now is not null && now != text)
                    continue;
                string file = (e as FileNotFoundException)?.FileName ?? Folder;
                throw new InvalidDataException(
                    $"{file}: missing, but {manifestPath} names generation {m.Generation}, whose 8 files must all be present.", e);
            }
        }
    }

    /// <summary>
    /// A read-only, forward-only view of a file that hashes (SHA-256) every byte read through it, in order. Length is
    /// the file's; Position may only be set to where it already is (the .npy reader does so before the data).
    /// </summary>
    private sealed class HashingReadStream(FileStream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position
        {
            get => inner.Position;
            set
            {
                if (value != inner.Position)
                    throw new NotSupportedException("a checksummed part file is read once, in order.");
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int got = inner.Read(buffer);
            _hash.AppendData(buffer[..got]);
            return got;
        }

        /// <summary>Reads (and hashes) the rest of the file and returns the hash of all of it.</summary>
        public byte[] HashToEnd()
        {
            var rest = new byte[1 << 16];
            while (Read(rest) > 0) { }
            return _hash.GetHashAndReset();
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    private static string ReadManifestText(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no saved cluster tables here.", path);
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (s.Length > MaxManifestBytes)
            throw new InvalidDataException($"{path}: {s.Length} bytes is too large for a cluster tables manifest (at most {MaxManifestBytes}).");
        using var r = new StreamReader(s, new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true));
        try { return r.ReadToEnd(); }
        catch (System.Text.DecoderFallbackException e) { throw new InvalidDataException($"{path}: not UTF-8 text, so not a cluster tables manifest.", e); }
    }

    /// <summary>Parses and checks a manifest; nothing it names is touched before every field passed.</summary>
    private static Manifest ParseManifest(string text, string path)
    {
        Manifest? m;
        try { m = JsonSerializer.Deserialize<Manifest>(text, ReadOptions); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a cluster tables manifest ({e.Message}).", e); }
        void Check(bool ok, string what)
        {
            if (!ok) throw new InvalidDataException($"{path}: {what}.");
        }
        Check(m is not null, "is null, not a cluster tables manifest");
        Check(m!.FormatVersion is 1 or FormatVersion, $"FormatVersion {m.FormatVersion} is not supported (1 or {FormatVersion})");
        Check(m.Generation is not null && GenerationRx.IsMatch(m.Generation),
            $"Generation '{m.Generation}' is not a generation name (17 digits, '-', 12 lower-case hex digits); no file it names is read or deleted");
        Check(Enum.TryParse<DistanceMetric>(m.Metric, out var metric) && Enum.IsDefined(metric) && metric.ToString() == m.Metric,
            $"Metric '{m.Metric}' is not Cosine or Euclidean");
        Check(Enum.TryParse<IdReusePolicy>(m.IdPolicy, out var policy) && Enum.IsDefined(policy) && policy.ToString() == m.IdPolicy,
            $"IdPolicy '{m.IdPolicy}' is not SmallestFree or NeverReuse");
        Check(m.Dimension >= 1 && m.Items >= 1 && m.Clusters >= 1 && m.Clusters <= m.Items
            && (long)m.Items * m.Dimension <= Array.MaxLength && (long)m.Clusters * m.Dimension <= Array.MaxLength,
            $"Dimension {m.Dimension}, Items {m.Items}, Clusters {m.Clusters}: expected >= 1 each, Clusters <= Items, and tables that fit in memory");
        Check(m.HighWaterMark >= m.Clusters - 1, $"HighWaterMark {m.HighWaterMark} is below Clusters - 1 = {m.Clusters - 1} (live IDs are distinct and >= 0)");
        if (m.FormatVersion == 1)
            Check(m.Checksums is null, "FormatVersion 1 carries no Checksums, yet this manifest has them (a damaged version 2 manifest?)");
        else
        {
            Check(m.Checksums is not null && m.Checksums.Count == Parts.Length && Parts.All(m.Checksums.ContainsKey),
                $"Checksums must hold exactly the parts {string.Join(", ", Parts)}");
            foreach (var (part, hex) in m.Checksums!)
                Check(hex is not null && hex.Length == 64 && hex.All(char.IsAsciiHexDigit), $"Checksums.{part} '{hex}' is not a SHA-256 (64 hex digits)");
        }
        return m;
    }

    private ClusterTables LoadGeneration(Manifest m)
    {
        string gen = m.Generation!;
        string F(string part) => PartFile(part, gen);

        // Each file is read once: its checksum is of exactly the bytes parsed (hashed as they are read, then to the
        // end of the file), so a file changed during the load cannot pass the check and be parsed differently.
        // Every file's checksum is verified before any value check below reads what it parsed.
        T Read<T>(string part, Func<Stream, string, T> parse)
        {
            string path = F(part);
            BeforeRead?.Invoke(path);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16);
            if (m.Checksums is null)
                return parse(file, path);
            using var hashed = new HashingReadStream(file);
            T value;
            try { value = parse(hashed, path); }
            catch (Exception e) when (e is not IOException || e is EndOfStreamException)
            {
                VerifyChecksum(part, path, hashed, e); // a damaged file is reported as such, not by what it broke
                throw;
            }
            VerifyChecksum(part, path, hashed, null);
            return value;
        }
        void VerifyChecksum(string part, string path, HashingReadStream hashed, Exception? parseError)
        {
            byte[] got = hashed.HashToEnd();
            if (!got.AsSpan().SequenceEqual(Convert.FromHexString(m.Checksums![part])))
                throw new InvalidDataException(
                    $"{path}: SHA-256 checksum {Convert.ToHexStringLower(got)} differs from {m.Checksums[part].ToLowerInvariant()} recorded in {ManifestPath}: the file is damaged or was changed after the save.",
                    parseError);
        }

        Enum.TryParse<DistanceMetric>(m.Metric, out var metric);
        int n = m.Items, k = m.Clusters, d = m.Dimension;
        var allocator = Read("allocator", ClusterIdAllocator.Load);
        var itemIds = Read("item_ids", Npy.Read<long>);
        var emb = Read("embeddings", Npy.ReadMatrix);
        var clusterIds = Read("cluster_ids", Npy.ReadLabels);
        var centreIds = Read("centre_ids", Npy.ReadLabels);
        var (centres, cRows, cCols) = Read("centres", Npy.ReadFloat64Matrix);
        var counts = Read("counts", Npy.Read<long>);
        var coreRows = Read("core_rows", Npy.ReadLabels);
        void Check(bool ok, string part, string what)
        {
            if (!ok) throw new InvalidDataException($"{F(part)}: {what}.");
        }
        string shapes = $"the manifest says {n} items, {k} clusters, dimension {d}";
        Check(itemIds.Data.Length == n && itemIds.Shape.Length == 1, "item_ids", $"shape ({string.Join(", ", itemIds.Shape)}) but {shapes}");
        Check(emb.Count == n && emb.Dimension == d, "embeddings", $"shape ({emb.Count}, {emb.Dimension}) but {shapes}");
        Check(clusterIds.Length == n, "cluster_ids", $"holds {clusterIds.Length} cluster IDs but {shapes}");
        Check(centreIds.Length == k, "centre_ids", $"holds {centreIds.Length} cluster IDs but {shapes}");
        Check(cRows == k && cCols == d, "centres", $"shape ({cRows}, {cCols}) but {shapes}");
        Check(counts.Data.Length == k && counts.Shape.Length == 1, "counts", $"shape ({string.Join(", ", counts.Shape)}) but {shapes}");
        Check(allocator.Policy.ToString() == m.IdPolicy && allocator.HighWaterMark == m.HighWaterMark, "allocator",
            $"policy {allocator.Policy} and high-water mark {allocator.HighWaterMark} differ from the manifest's {m.IdPolicy} and {m.HighWaterMark}");
        Check(allocator.LiveIds.Count == k, "allocator", $"{allocator.LiveIds.Count} live IDs but the centre table has {k} clusters");

        // Values: finite, and under cosine a direction for every embedding.
        for (int i = 0; i < n; i++)
        {
            var row = emb.Data.AsSpan(i * d, d);
            bool zero = true;
            for (int c = 0; c < d; c++)
            {
                Check(float.IsFinite(row[c]), "embeddings", $"row {i} column {c} is {row[c]}: every embedding value must be finite");
                zero &= row[c] == 0;
            }
            Check(!zero || metric != DistanceMetric.Cosine, "embeddings", $"row {i} is the zero vector: under cosine every embedding needs a direction");
        }
        for (int j = 0; j < centres.Length; j++)
            Check(double.IsFinite(centres[j]), "centres", $"row {j / d} column {j % d} is {centres[j]}: every centre value must be finite");

        // Memberships: every item's cluster has a centre, counts equal the members, centres are the members' mean.
        var rowOfCluster = new Dictionary<int, int>(k);
        for (int r = 0; r < k; r++)
        {
            Check(allocator.IsLive(centreIds[r]), "centre_ids", $"cluster_id {centreIds[r]} (row {r}) is not live in {F("allocator")}");
            Check(rowOfCluster.TryAdd(centreIds[r], r), "centre_ids", $"cluster_id {centreIds[r]} appears twice");
            Check(counts.Data[r] >= 1, "counts", $"cluster_id {centreIds[r]} has count {counts.Data[r]}; a live cluster has at least one member");
        }
        var members = new long[k];
        var sums = new double[(long)k * d];
        var scale = new double[k];
        var seen = new HashSet<long>(n);
        for (int i = 0; i < n; i++)
        {
            Check(seen.Add(itemIds.Data[i]), "item_ids", $"item_id {itemIds.Data[i]} appears twice (again at row {i}): item IDs are distinct");
            Check(rowOfCluster.TryGetValue(clusterIds[i], out int r), "cluster_ids",
                $"row {i} has cluster_id {clusterIds[i]}, which has no centre in {F("centre_ids")}");
            members[r]++;
            var x = emb.Data.AsSpan(i * d, d);
            var s = sums.AsSpan(r * d, d);
            for (int c = 0; c < d; c++)
            {
                s[c] += x[c];
                scale[r] = Math.Max(scale[r], Math.Abs(x[c]));
            }
        }
        for (int r = 0; r < k; r++)
        {
            Check(counts.Data[r] == members[r], "counts",
                $"cluster_id {centreIds[r]} has count {counts.Data[r]} but {members[r]} rows of {F("cluster_ids")} name it: counts must equal the memberships");
            double tol = MeanTolerance * scale[r];
            for (int c = 0; c < d; c++)
            {
                double mean = sums[(long)r * d + c] / members[r], centre = centres[(long)r * d + c];
                Check(Math.Abs(centre - mean) <= tol, "centres",
                    $"cluster_id {centreIds[r]} column {c} is {centre} but the mean of its {members[r]} members in {F("embeddings")} is {mean}: a centre is the mean of its members");
            }
        }
        for (int j = 0; j < coreRows.Length; j++)
            Check((uint)coreRows[j] < (uint)n && (j == 0 || coreRows[j] > coreRows[j - 1]), "core_rows",
                $"entry {j} = {coreRows[j]} is outside [0, {n}) or not ascending");

        var t = ClusterTables.Empty(d, metric, allocator, n, k);
        for (int i = 0; i < n; i++)
            t.AppendItem(itemIds.Data[i], emb.Data.AsSpan(i * d, d), clusterIds[i]);
        for (int r = 0; r < k; r++)
            t.AppendCentre(centreIds[r], counts.Data[r], centres.AsSpan(r * d, d));
        t.SetCoreRows(coreRows);
        return t;
    }
}
