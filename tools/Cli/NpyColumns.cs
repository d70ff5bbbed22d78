using LabelAssignment.IO;

namespace LabelAssignment.Cli;

/// <summary>
/// A table given as a folder of <c>.npy</c> columns (the project's format: <c>FOLDER/item_id.npy</c>,
/// <c>FOLDER/label.npy</c>, ... one 1-D int32 or int64 array per column, all the same length). The columns are
/// streamed into a DuckDB table through its appender, a chunk at a time, so memory stays bounded.
/// </summary>
internal static class NpyColumns
{
    private const int Chunk = 1 << 16;

    /// <summary>Whether <paramref name="path"/> names a folder of .npy columns (rather than a Parquet or CSV file).</summary>
    public static bool IsFolder(string path) => Directory.Exists(path);

    /// <summary>Creates table <paramref name="table"/> (BIGINT columns) from the folder's column files.</summary>
    /// <exception cref="InputDataException">A column file missing, not 1-D, not integer, truncated, or of another
    /// length than the first; the message names the file.</exception>
    public static void Load(Tables db, string table, string folder, IReadOnlyList<RequiredColumn> columns)
    {
        var files = new string[columns.Count];
        var headers = new NpyHeader[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            // Column names are the program's own (item_id, label...), never read from the data: safe as file names.
            files[c] = Path.Combine(folder, columns[c].Name + ".npy");
            if (!File.Exists(files[c]))
            {
                var have = Directory.EnumerateFiles(folder, "*.npy").Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(20);
                throw new InputDataException(
                    $"{folder}: missing column '{columns[c].Name}' (no {columns[c].Name}.npy; the folder has {string.Join(", ", have.DefaultIfEmpty("no .npy file"))}).");
            }
            NpyHeader h;
            try { h = Npy.ReadHeader(files[c]); }
            catch (InvalidDataException e) { throw new InputDataException(e.Message); }
            if (h.Shape.Length != 1)
                throw new InputDataException($"{files[c]}: shape ({string.Join(", ", h.Shape)}) is not 1-D; a column is (n,).");
            if (h.Descr is not ("<i8" or "<i4"))
                throw new InputDataException($"{files[c]}: element type '{h.Descr}'; column '{columns[c].Name}' must hold integers ('<i8' or '<i4').");
            long need = h.DataOffset + h.ElementCount * (h.Descr == "<i8" ? 8 : 4);
            long have2 = new FileInfo(files[c]).Length;
            if (have2 < need)
                throw new InputDataException($"{files[c]}: truncated: {have2} bytes, the header's shape needs {need}.");
            if (c > 0 && h.ElementCount != headers[0].ElementCount)
                throw new InputDataException(
                    $"{files[c]}: {h.ElementCount} rows but {files[0]} has {headers[0].ElementCount}: the columns of a table have one length.");
            headers[c] = h;
        }

        db.Execute($"CREATE OR REPLACE TEMP TABLE {table} ({string.Join(", ", columns.Select(c => c.Name + " BIGINT"))})");
        var readers = new ColumnReader[columns.Count];
        try
        {
            for (int c = 0; c < readers.Length; c++) readers[c] = new ColumnReader(files[c], headers[c]);
            long n = headers.Length == 0 ? 0 : headers[0].ElementCount;
            var buffers = readers.Select(_ => new long[Chunk]).ToArray();
            using var appender = db.Connection.CreateAppender(table);
            for (long start = 0; start < n; start += Chunk)
            {
                int count = (int)Math.Min(Chunk, n - start);
                for (int c = 0; c < readers.Length; c++) readers[c].Read(buffers[c].AsSpan(0, count));
                for (int i = 0; i < count; i++)
                {
                    var row = appender.CreateRow();
                    for (int c = 0; c < buffers.Length; c++) row.AppendValue(buffers[c][i]);
                    row.EndRow();
                }
            }
        }
        finally
        {
            foreach (var r in readers) r?.Dispose();
        }
    }

    /// <summary>Reads a 1-D int32 or int64 column sequentially as int64 values.</summary>
    private sealed class ColumnReader : IDisposable
    {
        private readonly FileStream _stream;
        private readonly bool _wide;
        private readonly byte[] _bytes = new byte[Chunk * 8];
        private readonly string _path;

        public ColumnReader(string path, NpyHeader header)
        {
            _path = path;
            _wide = header.Descr == "<i8";
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            _stream.Position = header.DataOffset;
        }

        public void Read(Span<long> values)
        {
            int size = _wide ? 8 : 4;
            var bytes = _bytes.AsSpan(0, values.Length * size);
            try { _stream.ReadExactly(bytes); }
            catch (EndOfStreamException) { throw new InputDataException($"{_path}: truncated while reading (the file shrank?)."); }
            if (_wide) System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(bytes).CopyTo(values);
            else
            {
                var narrow = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes);
                for (int i = 0; i < values.Length; i++) values[i] = narrow[i];
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
