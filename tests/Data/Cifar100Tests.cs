using LabelAssignment.Data;

namespace LabelAssignment.Tests.Data;

public class Cifar100Tests
{
    private static string Fixture(string sub) => Path.Combine(TestPaths.Fixtures, "cifar100", sub);

    // The generator (tests/Fixtures/cifar100/make_cifar100_fixtures.py) sets pixel (i, c, y, x) to
    // (i * 37 + c * 80 + y * 7 + x * 3) % 256 where i counts from 0 in test and from 100 in train,
    // and fine label (k * 13 + 5) % 100, coarse = fine % 20.
    private static byte Expected(int i, int c, int y, int x) => (byte)((i * 37 + c * 80 + y * 7 + x * 3) % 256);

    private static void AssertFixture(Cifar100Dataset d, int n, int offset)
    {
        Assert.Equal(n, d.Count);
        for (int k = 0; k < n; k++)
        {
            Assert.Equal(k, d.ItemIds[k]);
            Assert.Equal(((k + offset) * 13 + 5) % 100, d.FineLabels[k]);
            Assert.Equal(d.FineLabels[k] % 20, d.CoarseLabels[k]);
            var planes = d.ImagePlanes(k);
            foreach (var (c, y, x) in new[] { (0, 0, 0), (1, 5, 7), (2, 31, 31), (2, 3, 30) })
                Assert.Equal(Expected(k + offset, c, y, x), planes[c * 1024 + y * 32 + x]);
        }
        Assert.Equal("fine00", d.FineLabelNames[0]);
        Assert.Equal("fine99", d.FineLabelNames[99]);
        Assert.Equal("coarse19", d.CoarseLabelNames[19]);
    }

    [Fact]
    public void Binary_fixture_reads_labels_pixels_and_names()
    {
        AssertFixture(Cifar100.Load(Fixture("cifar-100-binary"), Cifar100Split.Test, expectedRecords: 5), 5, 0);
        AssertFixture(Cifar100.Load(Fixture("cifar-100-binary"), Cifar100Split.Train, expectedRecords: 8), 8, 100);
    }

    [Fact]
    public void Python2_pickle_reads_the_same_as_binary()
    {
        AssertFixture(Cifar100.Load(Fixture("cifar-100-python"), Cifar100Split.Test, expectedRecords: 5), 5, 0);
        AssertFixture(Cifar100.Load(Fixture("cifar-100-python"), Cifar100Split.Train, expectedRecords: 8), 8, 100);
    }

    [Fact]
    public void Python3_pickle_reads_the_same_as_binary() =>
        AssertFixture(Cifar100.Load(Fixture("cifar-100-py3"), Cifar100Split.Test, expectedRecords: 5), 5, 0);

    [Fact]
    public void Load_finds_the_python_folder_under_a_parent()
    {
        string parent = TestPaths.NewTempFolder();
        try
        {
            string py = Path.Combine(parent, Cifar100.PythonFolderName);
            Directory.CreateDirectory(py);
            foreach (string f in Directory.GetFiles(Fixture("cifar-100-python")))
                File.Copy(f, Path.Combine(py, Path.GetFileName(f)));
            var d = Cifar100.Load(parent, Cifar100Split.Test, expectedRecords: 5);
            Assert.EndsWith(Path.Combine(Cifar100.PythonFolderName, "test"), d.Source);
            AssertFixture(d, 5, 0);
        }
        finally { Directory.Delete(parent, true); }
    }

    [Fact]
    public void ToImage_puts_planes_into_rgb_pixels()
    {
        var d = Cifar100.Load(Fixture("cifar-100-binary"), Cifar100Split.Test, expectedRecords: 5);
        using var image = d.ToImage(3);
        var p = image[7, 5]; // x = 7, y = 5
        Assert.Equal((Expected(3, 0, 5, 7), Expected(3, 1, 5, 7), Expected(3, 2, 5, 7)), (p.R, p.G, p.B));
    }

    [Fact]
    public void Select_keeps_item_ids_and_labels_together()
    {
        var d = Cifar100.Load(Fixture("cifar-100-binary"), Cifar100Split.Train, expectedRecords: 8);
        var s = d.Select([6, 2]);
        Assert.Equal([6, 2], s.ItemIds);
        Assert.Equal([d.FineLabels[6], d.FineLabels[2]], s.FineLabels);
        Assert.True(s.ImagePlanes(0).SequenceEqual(d.ImagePlanes(6)));
        Assert.Equal(3, d.Take(3).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Select([8]));
    }

    private static string CopyBinaryFixture()
    {
        string dir = TestPaths.NewTempFolder();
        foreach (string f in Directory.GetFiles(Fixture("cifar-100-binary")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    [Fact]
    public void Truncated_binary_names_the_file_and_the_offset()
    {
        string dir = CopyBinaryFixture();
        try
        {
            string bin = Path.Combine(dir, "test.bin");
            using (var f = new FileStream(bin, FileMode.Open)) f.SetLength(2 * Cifar100.RecordBytes + 100);
            var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test, expectedRecords: 5));
            Assert.Contains(bin, e.Message);
            Assert.Contains($"offset {2 * Cifar100.RecordBytes}", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Corrupt_label_byte_names_the_record_and_offset()
    {
        string dir = CopyBinaryFixture();
        try
        {
            string bin = Path.Combine(dir, "test.bin");
            var bytes = File.ReadAllBytes(bin);
            bytes[3 * Cifar100.RecordBytes + 1] = 200; // fine label of record 3
            File.WriteAllBytes(bin, bytes);
            var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test, expectedRecords: 5));
            Assert.Contains(bin, e.Message);
            Assert.Contains($"offset {3 * Cifar100.RecordBytes}", e.Message);
            Assert.Contains("fine label 200", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Truncated_pickle_names_the_file()
    {
        string dir = TestPaths.NewTempFolder();
        try
        {
            foreach (string f in Directory.GetFiles(Fixture("cifar-100-python")))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string test = Path.Combine(dir, "test");
            using (var f = new FileStream(test, FileMode.Open)) f.SetLength(5000);
            var e = Assert.Throws<InvalidDataException>(() => Cifar100.Load(dir, Cifar100Split.Test, expectedRecords: 5));
            Assert.Contains(test, e.Message);
            Assert.Contains("offset", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Missing_folder_and_missing_split_are_clear()
    {
        var e1 = Assert.Throws<DirectoryNotFoundException>(() => Cifar100.Load("/no/such/cifar", Cifar100Split.Test));
        Assert.Contains("/no/such/cifar", e1.Message);
        string dir = TestPaths.NewTempFolder();
        try
        {
            var e2 = Assert.Throws<FileNotFoundException>(() => Cifar100.Load(dir, Cifar100Split.Train));
            Assert.Contains("train.bin", e2.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Options_validate_names_the_parameter()
    {
        Assert.Contains("MaxAttempts", Assert.Throws<ArgumentOutOfRangeException>(() => new Cifar100Options { MaxAttempts = 0 }.Validate()).Message);
        Assert.Contains("ArchiveMd5", Assert.Throws<ArgumentException>(() => new Cifar100Options { ArchiveMd5 = "xyz" }.Validate()).Message);
        Assert.Contains("ftp://", Assert.Throws<ArgumentException>(() => new Cifar100Options { ArchiveUri = new Uri("ftp://a/b") }.Validate()).Message);
    }

    [RealCifar100Fact]
    public void Real_test_split_has_the_official_order_and_class_counts()
    {
        var d = Cifar100.Load(TestPaths.SharedCifar100, Cifar100Split.Test);
        Assert.Equal(10_000, d.Count);
        // First official test fine labels (cleanlab's original labels, see ../shared/cifar-100/SOURCE.md).
        Assert.Equal([49, 33, 72, 51, 71, 92, 15, 14, 23, 0], d.FineLabels[..10]);
        Assert.Equal("mountain", d.FineLabelNames[49]);
        Assert.Equal("apple", d.FineLabelNames[0]);
        Assert.Equal("aquatic_mammals", d.CoarseLabelNames[0]);
        Assert.All(d.FineLabels.CountBy(l => l), kv => Assert.Equal(100, kv.Value));
        Assert.All(d.CoarseLabels.CountBy(l => l), kv => Assert.Equal(500, kv.Value));
    }
}
