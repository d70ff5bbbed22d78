using LabelAssignment.Data;

namespace LabelAssignment.Tests.Data;

/// <summary>
/// Issue 9, finding 8: CIFAR-100 files that were accepted although they should not be, and a pickle reader whose
/// allocations were not bounded by the file. Every failure must be an <see cref="InvalidDataException"/> naming the file.
/// </summary>
public class DataFileLimitsTests
{
    private static string Fixture(string sub) => Path.Combine(TestPaths.Fixtures, "cifar100", sub);

    /// <summary>A folder with the fixture's label-name files (binary) or meta (Python) and nothing else.</summary>
    private static string FolderWithNames(string fixture)
    {
        string dir = TestPaths.NewTempFolder();
        foreach (string name in new[] { "fine_label_names.txt", "coarse_label_names.txt", "meta" })
            if (File.Exists(Path.Combine(Fixture(fixture), name)))
                File.Copy(Path.Combine(Fixture(fixture), name), Path.Combine(dir, name));
        return dir;
    }

    [Fact]
    public void Official_test_bin_cut_at_a_record_boundary_is_refused_with_the_record_count()
    {
        string dir = FolderWithNames("cifar-100-binary");
        try
        {
            // 5,000 well-formed records (labels 0, pixels 0): exactly half of the official 10,000.
            string bin = Path.Combine(dir, "test.bin");
            File.WriteAllBytes(bin, new byte[5000 * Cifar100.RecordBytes]);
            var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test));
            Assert.Contains(bin, e.Message);
            Assert.Contains("5000 records", e.Message);
            Assert.Contains("10000", e.Message);

            // The same file read as what it is, a sample of 5,000, loads.
            Assert.Equal(5000, Cifar100.Load(dir, Cifar100Split.Test, expectedRecords: 5000).Count);
            // A sample whose count differs from the one expected is refused too.
            Assert.Contains("4000", Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test, expectedRecords: 4000)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Official_pickle_with_too_few_records_is_refused()
    {
        // The fixture's Python test split holds 5 images; as the official file it must hold 10,000.
        var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(Fixture("cifar-100-python"), Cifar100Split.Test));
        Assert.Contains(Path.Combine(Fixture("cifar-100-python"), "test"), e.Message);
        Assert.Contains("5 records", e.Message);
        Assert.Contains("10000", e.Message);
    }

    [Theory]
    [InlineData(0x54, 0x7FFFFFFF)] // BINSTRING (Python 2 str) claiming 2^31 - 1 bytes: past the largest .NET array
    [InlineData(0x42, 0x7FFFFF00)] // BINBYTES claiming 2.1 GB
    [InlineData(0x58, 0x7FFFFF00)] // BINUNICODE claiming 2.1 GB
    public void A_24_byte_pickle_claiming_a_huge_string_allocates_no_more_than_its_length(byte opcode, int claimed)
    {
        string dir = FolderWithNames("cifar-100-python");
        try
        {
            string test = Path.Combine(dir, "test");
            var bytes = new byte[24];
            bytes[0] = 0x80; bytes[1] = 2;               // PROTO 2
            bytes[2] = opcode;
            BitConverter.GetBytes(claimed).CopyTo(bytes, 3); // little-endian length, then 17 bytes of the "string"
            File.WriteAllBytes(test, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains(test, e.Message);
            Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated reading a 24-byte file");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Random_bytes_are_InvalidDataException_naming_the_file()
    {
        string dir = FolderWithNames("cifar-100-python");
        try
        {
            string test = Path.Combine(dir, "test");
            var rng = new Random(9);
            for (int trial = 0; trial < 200; trial++)
            {
                var bytes = new byte[rng.Next(1, 2048)];
                rng.NextBytes(bytes);
                if (trial % 2 == 0)
                {
                    bytes[0] = 0x80; // a pickle header, so the parser goes further than the first opcode
                    if (bytes.Length > 1) bytes[1] = 2;
                }
                File.WriteAllBytes(test, bytes);
                long before = GC.GetAllocatedBytesForCurrentThread();
                var e = Record.Exception(() => Cifar100.Load(dir, Cifar100Split.Test));
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(e is InvalidDataException, $"trial {trial} ({bytes.Length} bytes): {e?.GetType().Name}: {e?.Message}");
                Assert.Contains(test, e!.Message);
                Assert.True(allocated < 64 << 20, $"trial {trial}: {allocated} bytes allocated reading {bytes.Length} bytes");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
