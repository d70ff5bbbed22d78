using System.Collections;
using System.Text;
using Razorvine.Pickle;

namespace LabelAssignment.Data;

/// <summary>Where CIFAR-100 comes from: a local folder, or a download into <see cref="DataFolder"/>.</summary>
public sealed record Cifar100Options
{
    /// <summary>Folder for the downloaded archive and its extracted files (default <c>data</c>, relative to the working folder).</summary>
    public string DataFolder { get; init; } = "data";

    /// <summary>
    /// A folder that already holds CIFAR-100 (binary or Python version, or their parent). When null, the
    /// environment variable <see cref="Cifar100.FolderEnvironmentVariable"/> is used; when that is unset too, the
    /// archive is downloaded into <see cref="DataFolder"/>.
    /// </summary>
    public string? LocalFolder { get; init; }

    /// <summary>Address of the binary archive.</summary>
    public Uri ArchiveUri { get; init; } = new(Cifar100.ArchiveUrl);

    /// <summary>Expected MD5 of the archive (hex).</summary>
    public string ArchiveMd5 { get; init; } = Cifar100.ArchiveMd5;

    /// <summary>Download attempts; each retry resumes where the last one stopped.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>A download attempt that receives no byte for this long is abandoned and resumed (see <see cref="DownloadOptions.IdleTimeout"/>).</summary>
    public TimeSpan IdleTimeout { get; init; } = new DownloadOptions().IdleTimeout;

    /// <summary>The whole download may take at most this long (see <see cref="DownloadOptions.Timeout"/>).</summary>
    public TimeSpan DownloadTimeout { get; init; } = new DownloadOptions().Timeout;

    /// <summary>The download options these settings make.</summary>
    public DownloadOptions DownloadOptions => new() { MaxAttempts = MaxAttempts, IdleTimeout = IdleTimeout, Timeout = DownloadTimeout };

    /// <summary>The HTTP client to download with; null uses a shared one.</summary>
    public HttpClient? Http { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> whose message and ParamName name the first bad option.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataFolder))
            throw new ArgumentException($"DataFolder='{DataFolder}' must name a folder.", nameof(DataFolder));
        if (LocalFolder is not null && string.IsNullOrWhiteSpace(LocalFolder))
            throw new ArgumentException($"LocalFolder='{LocalFolder}' must be null or name a folder.", nameof(LocalFolder));
        if (ArchiveUri is null || !ArchiveUri.IsAbsoluteUri || ArchiveUri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"ArchiveUri='{ArchiveUri}' must be an absolute http(s) address.", nameof(ArchiveUri));
        if (ArchiveMd5 is null || ArchiveMd5.Length != 32 || !ArchiveMd5.All(Uri.IsHexDigit))
            throw new ArgumentException($"ArchiveMd5='{ArchiveMd5}' must be 32 hex digits.", nameof(ArchiveMd5));
        if (MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, $"MaxAttempts must be >= 1; got {MaxAttempts}.");
        if (IdleTimeout <= TimeSpan.Zero || IdleTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), IdleTimeout, $"IdleTimeout must be > 0 and at most {int.MaxValue} ms; got {IdleTimeout}.");
        if ((DownloadTimeout <= TimeSpan.Zero && DownloadTimeout != Timeout.InfiniteTimeSpan) || DownloadTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(DownloadTimeout), DownloadTimeout, $"DownloadTimeout must be > 0 (or infinite) and at most {int.MaxValue} ms; got {DownloadTimeout}.");
    }
}

/// <summary>
/// CIFAR-100 (Krizhevsky 2009): download the official binary archive (resumable, MD5-verified, extracted with
/// System.Formats.Tar), or use a local folder, and read either distribution (binary or Python pickle).
/// </summary>
public static class Cifar100
{
    /// <summary>The official binary archive.</summary>
    public const string ArchiveUrl = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz";

    /// <summary>MD5 of <see cref="ArchiveUrl"/> as published on the CIFAR page.</summary>
    public const string ArchiveMd5 = "03b5dce01913d631647c71ecec9e9cb8";

    /// <summary>Environment variable naming a local CIFAR-100 folder (used when <see cref="Cifar100Options.LocalFolder"/> is null).</summary>
    public const string FolderEnvironmentVariable = "LABELASSIGNMENT_CIFAR100_DIR";

    /// <summary>Image width and height.</summary>
    public const int ImageSize = 32;

    /// <summary>Bytes per image: 3 planes of 32x32.</summary>
    public const int ImageBytes = 3 * ImageSize * ImageSize;

    /// <summary>Bytes per record of the binary format: coarse label, fine label, pixels.</summary>
    public const int RecordBytes = 2 + ImageBytes;

    /// <summary>Number of fine classes.</summary>
    public const int FineClassCount = 100;

    /// <summary>Number of coarse classes (superclasses).</summary>
    public const int CoarseClassCount = 20;

    /// <summary>Images in the official test split (<c>test.bin</c> / <c>test</c>).</summary>
    public const int TestCount = 10_000;

    /// <summary>Images in the official training split (<c>train.bin</c> / <c>train</c>).</summary>
    public const int TrainCount = 50_000;

    /// <summary>The number of images of the official file of <paramref name="split"/>.</summary>
    public static int OfficialCount(Cifar100Split split) => split == Cifar100Split.Train ? TrainCount : TestCount;

    /// <summary>The folder the archive extracts to.</summary>
    public const string BinaryFolderName = "cifar-100-binary";

    /// <summary>The folder of the Python distribution.</summary>
    public const string PythonFolderName = "cifar-100-python";

    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(30) });

    /// <summary>
    /// Returns a folder holding CIFAR-100: the local folder (option or environment variable) when one is named,
    /// else <c>DataFolder/cifar-100-binary</c>, downloading and extracting the archive first if it is not there.
    /// </summary>
    public static async Task<string> LocateAsync(Cifar100Options? options = null, IProgress<WorkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new Cifar100Options();
        options.Validate();
        string? local = options.LocalFolder ?? NullIfEmpty(Environment.GetEnvironmentVariable(FolderEnvironmentVariable));
        if (local is not null)
        {
            if (!Directory.Exists(local))
                throw new DirectoryNotFoundException(
                    $"CIFAR-100 folder '{local}' (from {(options.LocalFolder is null ? FolderEnvironmentVariable : nameof(options.LocalFolder))}) does not exist.");
            return local;
        }
        return await DownloadAsync(options, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>DataFolder/cifar-100-binary</c>, downloading and extracting the archive first if it is not there.</summary>
    internal static async Task<string> DownloadAsync(Cifar100Options options, IProgress<WorkProgress>? progress, CancellationToken cancellationToken)
    {
        string dataFolder = Path.GetFullPath(options.DataFolder);
        string extracted = Path.Combine(dataFolder, BinaryFolderName);
        if (File.Exists(Path.Combine(extracted, "test.bin")))
            return extracted;
        string archive = Path.Combine(dataFolder, Path.GetFileName(options.ArchiveUri.AbsolutePath));
        await Download.FileAsync(options.Http ?? SharedHttp.Value, options.ArchiveUri, archive, options.ArchiveMd5,
            options.DownloadOptions, progress, cancellationToken).ConfigureAwait(false);
        Download.ExtractTarGz(archive, dataFolder, BinaryFolderName, progress, cancellationToken);
        if (!File.Exists(Path.Combine(extracted, "test.bin")))
            throw new InvalidDataException($"{archive}: the archive has no {BinaryFolderName}/test.bin.");
        return extracted;
    }

    /// <summary>
    /// Locates CIFAR-100 (see <see cref="LocateAsync"/>) and reads one split; <paramref name="expectedRecords"/> as
    /// in <see cref="Load"/> (null: the official count).
    /// </summary>
    public static async Task<Cifar100Dataset> LoadAsync(Cifar100Split split, Cifar100Options? options = null, int? expectedRecords = null,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string folder = await LocateAsync(options, progress, cancellationToken).ConfigureAwait(false);
        return Load(folder, split, expectedRecords);
    }

    /// <summary>
    /// Reads one split from <paramref name="folder"/>, which may be the binary folder (<c>test.bin</c> and the
    /// label name files), the Python folder (<c>test</c> and <c>meta</c>), or a parent of either.
    /// </summary>
    /// <param name="folder">The folder to look in.</param>
    /// <param name="split">Which split to read.</param>
    /// <param name="expectedRecords">
    /// Images the file must hold. Null (the default): the official count, <see cref="TestCount"/> or
    /// <see cref="TrainCount"/>, so a file cut short at a record boundary is refused. A number: the file is a sample
    /// in the official format (e.g. a test fixture) and must hold exactly that many.
    /// </param>
    /// <exception cref="InvalidDataException">The file is corrupt, truncated or holds another number of images; the message names it.</exception>
    public static Cifar100Dataset Load(string folder, Cifar100Split split, int? expectedRecords = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        CheckExpected(expectedRecords);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"CIFAR-100 folder '{folder}' does not exist.");
        string bin = split == Cifar100Split.Train ? "train.bin" : "test.bin";
        string pickle = split == Cifar100Split.Train ? "train" : "test";
        foreach (string candidate in new[] { folder, Path.Combine(folder, BinaryFolderName), Path.Combine(folder, PythonFolderName) })
        {
            if (File.Exists(Path.Combine(candidate, bin)))
                return ReadBinary(Path.Combine(candidate, bin), split, expectedRecords);
            if (File.Exists(Path.Combine(candidate, pickle)) && File.Exists(Path.Combine(candidate, "meta")))
                return ReadPickle(Path.Combine(candidate, pickle), Path.Combine(candidate, "meta"), split, expectedRecords);
        }
        throw new FileNotFoundException(
            $"'{folder}' holds no CIFAR-100 {split} split: expected {bin} (binary version) or {pickle} + meta (Python version), directly or under {BinaryFolderName}/ or {PythonFolderName}/.");
    }

    /// <summary>
    /// Reads a binary-format file (<c>train.bin</c> or <c>test.bin</c>) and the label names beside it
    /// (<c>fine_label_names.txt</c>, <c>coarse_label_names.txt</c>). The file's length is checked before it is read:
    /// whole records, and as many as <paramref name="expectedRecords"/> says (see <see cref="Load"/>).
    /// </summary>
    public static Cifar100Dataset ReadBinary(string path, Cifar100Split split, int? expectedRecords = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckExpected(expectedRecords);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such CIFAR-100 binary file.", path);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var fineNames = ReadNames(Path.Combine(folder, "fine_label_names.txt"), FineClassCount);
        var coarseNames = ReadNames(Path.Combine(folder, "coarse_label_names.txt"), CoarseClassCount);
        long length = new FileInfo(path).Length;
        if (length == 0 || length % RecordBytes != 0)
            throw new InvalidDataException(
                $"{path}: truncated or corrupt at offset {length - length % RecordBytes}: the file has {length} bytes, not a positive multiple of the {RecordBytes}-byte record.");
        CheckCount(path, split, length / RecordBytes, expectedRecords, $" ({length} bytes)");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length != length)
            throw new InvalidDataException($"{path}: the file changed while it was read ({length} bytes, then {bytes.Length}).");
        int n = bytes.Length / RecordBytes;
        var pixels = new byte[(long)n * ImageBytes];
        var fine = new int[n];
        var coarse = new int[n];
        for (int i = 0; i < n; i++)
        {
            int at = i * RecordBytes;
            coarse[i] = bytes[at];
            fine[i] = bytes[at + 1];
            if (coarse[i] >= CoarseClassCount || fine[i] >= FineClassCount)
                throw new InvalidDataException(
                    $"{path}: corrupt record {i} at offset {at}: coarse label {coarse[i]} (expected < {CoarseClassCount}), fine label {fine[i]} (expected < {FineClassCount}).");
            bytes.AsSpan(at + 2, ImageBytes).CopyTo(pixels.AsSpan(i * ImageBytes));
        }
        return new Cifar100Dataset(split, pixels, Enumerable.Range(0, n).Select(i => (long)i).ToArray(), fine, coarse, fineNames, coarseNames, path);
    }

    /// <summary>
    /// Reads a Python-version file (<c>train</c> or <c>test</c>: a pickled dict with <c>data</c> uint8 (n, 3072),
    /// <c>fine_labels</c>, <c>coarse_labels</c>) and its <c>meta</c> (<c>fine_label_names</c>, <c>coarse_label_names</c>).
    /// Both Python 2 pickles (the official files) and Python 3 re-saves are read; numpy arrays are decoded without numpy.
    /// What the reader allocates is bounded by the file's length; the number of images is checked as
    /// <paramref name="expectedRecords"/> says (see <see cref="Load"/>).
    /// </summary>
    public static Cifar100Dataset ReadPickle(string path, string metaPath, Cifar100Split split, int? expectedRecords = null)
    {
        CheckExpected(expectedRecords);
        int expected = expectedRecords ?? OfficialCount(split);
        // The official test pickle is 31 MB for 10,000 images: 3,072 pixel bytes and some 60 bytes of labels and
        // file name each. Anything much longer is not a CIFAR-100 batch, and is not read into memory.
        var batch = PickleFile.LoadDict(path, maxBytes: (long)expected * 4096 + (1 << 20));
        var meta = PickleFile.LoadDict(metaPath, maxBytes: 1 << 20);
        var fineNames = PickleFile.Strings(meta, "fine_label_names", metaPath);
        var coarseNames = PickleFile.Strings(meta, "coarse_label_names", metaPath);
        if (fineNames.Length != FineClassCount || coarseNames.Length != CoarseClassCount)
            throw new InvalidDataException($"{metaPath}: {fineNames.Length} fine and {coarseNames.Length} coarse names; expected {FineClassCount} and {CoarseClassCount}.");
        var (data, shape) = PickleFile.UInt8Array(batch, "data", path);
        if (shape.Length != 2 || shape[1] != ImageBytes)
            throw new InvalidDataException($"{path}: 'data' has shape ({string.Join(", ", shape)}); expected (n, {ImageBytes}).");
        int n = shape[0];
        CheckCount(path, split, n, expectedRecords, "");
        var fine = PickleFile.Ints(batch, "fine_labels", path);
        var coarse = PickleFile.Ints(batch, "coarse_labels", path);
        if (fine.Length != n || coarse.Length != n)
            throw new InvalidDataException($"{path}: {n} images but {fine.Length} fine and {coarse.Length} coarse labels.");
        for (int i = 0; i < n; i++)
            if ((uint)fine[i] >= FineClassCount || (uint)coarse[i] >= CoarseClassCount)
                throw new InvalidDataException($"{path}: item {i} has fine label {fine[i]} and coarse label {coarse[i]}; expected < {FineClassCount} and < {CoarseClassCount}.");
        return new Cifar100Dataset(split, data, Enumerable.Range(0, n).Select(i => (long)i).ToArray(), fine, coarse, fineNames, coarseNames, path);
    }

    private static void CheckExpected(int? expectedRecords)
    {
        if (expectedRecords is < 1)
            throw new ArgumentOutOfRangeException(nameof(expectedRecords), expectedRecords, $"expectedRecords must be null (the official count) or >= 1; got {expectedRecords}.");
    }

    private static void CheckCount(string path, Cifar100Split split, long records, int? expectedRecords, string detail)
    {
        if (expectedRecords is int sample)
        {
            if (records != sample)
                throw new InvalidDataException($"{path}: holds {records} records{detail}; the sample was expected to hold {sample}.");
            return;
        }
        int official = OfficialCount(split);
        if (records != official)
            throw new InvalidDataException(
                $"{path}: holds {records} records{detail}; the official {split} file holds {official}, so this copy is {(records < official ? "cut short" : "not the official file")}. " +
                $"Copy or download it again (MD5 of the archive: {ArchiveMd5}); to read a deliberate sample in the official format, pass expectedRecords: {records}.");
    }

    private static string[] ReadNames(string path, int expected)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: the label names file is missing (expected {expected} names, one a line).", path);
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != expected)
            throw new InvalidDataException($"{path}: {names.Length} names; expected {expected}.");
        return names;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}

/// <summary>Reads the pickles of CIFAR's Python version with Razorvine.Pickle, decoding numpy arrays by hand.</summary>
internal static class PickleFile
{
    // Razorvine's constructor table is process-wide; numpy's array and dtype are the only classes CIFAR needs.
    static PickleFile()
    {
        Unpickler.registerConstructor("numpy.core.multiarray", "_reconstruct", new NdArrayConstructor());
        Unpickler.registerConstructor("numpy._core.multiarray", "_reconstruct", new NdArrayConstructor());
        Unpickler.registerConstructor("numpy", "dtype", new DTypeConstructor());
    }

    /// <summary>
    /// Reads a pickled dict. The file is read whole (it must be at most <paramref name="maxBytes"/> long) and its
    /// opcodes are walked first, so no length prefix can make the unpickler reserve more than the file holds.
    /// </summary>
    public static Hashtable LoadDict(string path, long maxBytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such pickle file.", path);
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
            throw new InvalidDataException($"{path}: {length} bytes; a CIFAR-100 pickle of this kind is at most {maxBytes} bytes, so this is not one.");
        byte[] bytes = File.ReadAllBytes(path);
        PickleWalk.Check(bytes, path);
        object result;
        try
        {
            using var unpickler = new Unpickler();
            result = unpickler.loads(bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Razorvine reports bad input in many ways (PickleException, FormatException, InvalidCastException, ...).
            throw new InvalidDataException($"{path}: not a readable CIFAR-100 pickle ({bytes.Length} bytes): {e.GetType().Name}: {e.Message}", e);
        }
        if (result is not Hashtable dict)
            throw new InvalidDataException($"{path}: the pickle holds a {result?.GetType().Name ?? "None"}, expected a dict.");
        var normalised = new Hashtable();
        foreach (DictionaryEntry entry in dict)
            normalised[KeyText(entry.Key)] = entry.Value;
        return normalised;
    }

    public static string[] Strings(Hashtable dict, string key, string path) =>
        Get(dict, key, path) is IList list
            ? list.Cast<object>().Select(KeyText).ToArray()
            : throw new InvalidDataException($"{path}: '{key}' is not a list of names.");

    public static int[] Ints(Hashtable dict, string key, string path)
    {
        object value = Get(dict, key, path);
        if (value is NdArray array)
            return array.ToInt32(path, key);
        if (value is IList list)
            return list.Cast<object>().Select(v => v switch
            {
                int i => i,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                _ => throw new InvalidDataException($"{path}: '{key}' holds {v}, not an int32 label."),
            }).ToArray();
        throw new InvalidDataException($"{path}: '{key}' is a {value.GetType().Name}, expected a list of ints.");
    }

    public static (byte[] Data, int[] Shape) UInt8Array(Hashtable dict, string key, string path)
    {
        if (Get(dict, key, path) is not NdArray array)
            throw new InvalidDataException($"{path}: '{key}' is not a numpy array.");
        if (array.Descr is not ("|u1" or "u1"))
            throw new InvalidDataException($"{path}: '{key}' has dtype '{array.Descr}'; expected uint8.");
        long count = 1;
        foreach (int d in array.Shape)
            count = d < 0 || count * (long)d > array.Raw.Length ? -1 : count * d; // stays below the raw length, so no overflow
        if (count < 0 || array.Raw.Length != count)
            throw new InvalidDataException($"{path}: '{key}' is truncated: shape ({string.Join(", ", array.Shape)}) needs {count} bytes, the pickle holds {array.Raw.Length}.");
        return (array.Raw, array.Shape);
    }

    private static object Get(Hashtable dict, string key, string path) =>
        dict[key] ?? throw new InvalidDataException($"{path}: the dict has no '{key}' (keys: {string.Join(", ", dict.Keys.Cast<string>())}).");

    // Python 2 str arrives as a string of Latin-1 chars, Python 3 bytes as byte[].
    private static string KeyText(object? key) => key switch
    {
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => key?.ToString() ?? "",
    };

    internal static byte[] RawBytes(object? value) => value switch
    {
        byte[] b => b,
        string s => Encoding.Latin1.GetBytes(s),
        _ => throw new PickleException($"expected raw array bytes, got {value?.GetType().Name ?? "None"}"),
    };

    /// <summary>numpy.dtype(descr, align, copy) then __setstate__((version, byteorder, ...)).</summary>
    internal sealed class NpDType
    {
        public string Code = "";
        public string ByteOrder = "|";

        public string Descr => Code.Length > 0 && Code[0] is '<' or '>' or '|' or '=' ? Code : (Code is "u1" or "i1" or "b1" ? "|" : ByteOrder == "|" ? "<" : ByteOrder) + Code;

        public void __setstate__(object[] state)
        {
            if (state.Length > 1 && state[1] is string order)
                ByteOrder = order;
        }
    }

    private sealed class DTypeConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new NpDType { Code = KeyText(args[0]) };
    }

    /// <summary>numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') then __setstate__((1, shape, dtype, fortran, raw)).</summary>
    internal sealed class NdArray
    {
        public int[] Shape = [];
        public string Descr = "";
        public byte[] Raw = [];

        public void __setstate__(object[] state)
        {
            if (state.Length < 5)
                throw new PickleException($"numpy array state has {state.Length} fields; expected 5");
            Shape = ((object[])state[1]).Select(d => d is int or long ? checked((int)Convert.ToInt64(d)) : throw new PickleException($"numpy shape entry {d}")).ToArray();
            Descr = state[2] is NpDType dtype ? dtype.Descr : throw new PickleException("numpy array without a dtype");
            if (state[3] is true && Shape.Length > 1)
                throw new PickleException("Fortran-ordered arrays are not supported");
            Raw = RawBytes(state[4]);
        }

        public int[] ToInt32(string path, string key)
        {
            int size = Descr[^1] - '0';
            if (Descr.Length < 3 || Descr[0] == '>' || Descr[1] is not ('i' or 'u') || size is not (1 or 2 or 4 or 8))
                throw new InvalidDataException($"{path}: '{key}' has dtype '{Descr}'; expected little-endian integers.");
            if (Raw.Length % size != 0)
                throw new InvalidDataException($"{path}: '{key}' holds {Raw.Length} bytes, not a whole number of {size}-byte integers.");
            int n = Raw.Length / size;
            var result = new int[n];
            for (int i = 0; i < n; i++)
            {
                var s = Raw.AsSpan(i * size, size);
                long v = (size, Descr[1]) switch
                {
                    (1, 'u') => s[0],
                    (1, _) => (sbyte)s[0],
                    (2, 'u') => BitConverter.ToUInt16(s),
                    (2, _) => BitConverter.ToInt16(s),
                    (4, 'u') => BitConverter.ToUInt32(s),
                    (4, _) => BitConverter.ToInt32(s),
                    _ => BitConverter.ToInt64(s),
                };
                result[i] = v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new InvalidDataException($"{path}: '{key}' holds {v} at {i}, outside int32.");
            }
            return result;
        }
    }

    private sealed class NdArrayConstructor : IObjectConstructor
    {
        public object construct(object[] args) => new NdArray();
    }
}

/// <summary>
/// Walks a pickle's opcodes (protocols 0 to 5) without building anything, checking that every length prefix fits in
/// what is left of the file and that the stream ends with STOP; a failure names the file and the offset.
/// </summary>
internal static class PickleWalk
{
    public static void Check(byte[] b, string path)
    {
        long at = 0;
        while (true)
        {
            if (at >= b.Length)
                throw new InvalidDataException($"{path}: truncated pickle: it ends at offset {b.Length} without the STOP opcode.");
            long op = at;
            byte code = b[at++];
            long skip = code switch
            {
                (byte)'.' => -1, // STOP
                (byte)'(' or (byte)'0' or (byte)'1' or (byte)'2' or (byte)'N' or (byte)'R' or (byte)'a' or (byte)'b' or (byte)'d'
                    or (byte)'}' or (byte)'e' or (byte)'l' or (byte)']' or (byte)'o' or (byte)'s' or (byte)'t' or (byte)')'
                    or (byte)'u' or (byte)'Q' or 0x81 or 0x85 or 0x86 or 0x87 or 0x88 or 0x89 or 0x8f or 0x90 or 0x91 or 0x92
                    or 0x93 or 0x94 or 0x97 or 0x98 => 0,
                (byte)'K' or (byte)'h' or (byte)'q' or 0x80 or 0x82 => 1,
                (byte)'M' or 0x83 => 2,
                (byte)'J' or (byte)'j' or (byte)'r' or 0x84 => 4,
                (byte)'G' or 0x95 => 8, // BINFLOAT; FRAME's length (its content is ordinary opcodes)
                (byte)'U' or (byte)'C' or 0x8c or 0x8a => 1 + Prefix(b, at, 1, op, path),
                (byte)'T' or (byte)'X' or (byte)'B' or 0x8b => 4 + Prefix(b, at, 4, op, path),
                0x8d or 0x8e or 0x96 => 8 + Prefix(b, at, 8, op, path),
                (byte)'I' or (byte)'L' or (byte)'S' or (byte)'V' or (byte)'F' or (byte)'g' or (byte)'p' or (byte)'P' => Line(b, at, op, path, 1),
                (byte)'c' or (byte)'i' => Line(b, at, op, path, 2),
                _ => throw new InvalidDataException($"{path}: not a pickle: unknown opcode 0x{code:x2} at offset {op}."),
            };
            if (skip < 0)
                return;
            if (skip > b.Length - at)
                throw new InvalidDataException(
                    $"{path}: truncated or corrupt pickle: opcode 0x{code:x2} at offset {op} needs {skip} more bytes; only {b.Length - at} remain in the file.");
            at += skip;
        }
    }

    /// <summary>The little-endian length prefix at <paramref name="at"/> (the bytes it announces follow it).</summary>
    private static long Prefix(byte[] b, long at, int size, long op, string path)
    {
        if (size > b.Length - at)
            throw new InvalidDataException($"{path}: truncated pickle: the length of the opcode at offset {op} is cut off at the end of the file.");
        var span = b.AsSpan((int)at, size);
        // Read unsigned: a negative signed length is as impossible as a huge one, and fails the same check.
        ulong n = size switch
        {
            1 => span[0],
            4 => BitConverter.ToUInt32(span),
            _ => BitConverter.ToUInt64(span),
        };
        return (long)Math.Min(n, (ulong)int.MaxValue);
    }

    /// <summary>Bytes up to and including the <paramref name="lines"/>-th newline from <paramref name="at"/>.</summary>
    private static long Line(byte[] b, long at, long op, string path, int lines)
    {
        long end = at;
        for (int k = 0; k < lines; k++)
        {
            int nl = Array.IndexOf(b, (byte)'\n', (int)end);
            if (nl < 0)
                throw new InvalidDataException($"{path}: truncated pickle: the text argument of the opcode at offset {op} has no end of line.");
            end = nl + 1;
        }
        return end - at;
    }
}
