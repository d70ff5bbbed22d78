using LabelAssignment.Tests.Oracles;
using System.Text.Json.Nodes;
using CsCheck;
using LabelAssignment.IO;
using LabelAssignment.Numerics;
using LabelAssignment.Online;

namespace LabelAssignment.Tests.Online;

/// <summary>
/// What the store must not trust or leave behind (issue 9, findings 2 to 4): names in the manifest, the bytes and
/// values of a generation, a reader racing a save, the debris of a crashed or failed save.
/// </summary>
public sealed class StoreReliabilityTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"store-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, true);
    }

    /// <summary>Small cosine tables with multi-member clusters, noise singletons, core points and streamed items.</summary>
    private static ClusterTables Small(int seed, int streamed = 20)
    {
        var x = OnlineTestData.Clumps(60 + streamed, 6, 4, 0.15, seed);
        var init = OnlineTestData.Rows(x, 0, 60);
        var (labels, core) = DbscanOracle.FitCoreRows(init, 0.05, 3, DistanceMetric.Cosine);
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 60), init, labels, core);
        if (streamed > 0)
            new NearestCentroidAssigner(t, new NearestCentroidOptions { Eps = 0.05 })
                .AssignBatch(OnlineTestData.Ids(60, streamed), OnlineTestData.Rows(x, 60, streamed));
        return t;
    }

    private string Folder(string name) => Path.Combine(_root, name);

    private static string Generation(string folder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tables.json")))!["Generation"]!.GetValue<string>();

    private static string PartFile(string folder, string part) =>
        Directory.GetFiles(folder, $"{part}.{Generation(folder)}.*").Single();

    private static void EditManifest(string folder, Action<JsonObject> edit)
    {
        string path = Path.Combine(folder, "tables.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>The manifest as the pre-checksum store wrote it (format 1): what an old folder looks like.</summary>
    private static void AsVersion1(string folder) => EditManifest(folder, m =>
    {
        m["FormatVersion"] = 1;
        m.Remove("Checksums");
    });

    // ------------------------------------------------------------------ finding 2: names from the manifest

    [Theory]
    [InlineData("x/../../victim/keep")]
    [InlineData("../victim/keep")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("/victim/keep")]
    [InlineData("20261201082340436-340beab0e3f1/..")]
    [InlineData("20261201082340436-340BEAB0E3F1")]
    public void LoadRefusesAGenerationNameOutsideThePatternBeforeReadingAnything(string generation)
    {
        string store = Folder("store");
        new ClusterTablesStore(store).Save(Small(1));
        EditManifest(store, m => m["Generation"] = generation);
        var e = Assert.Throws<InvalidDataException>(() => new ClusterTablesStore(store).Load());
        Assert.Contains("tables.json", e.Message);
        Assert.Contains("Generation", e.Message);
    }

    [Fact]
    public void SaveNeverDeletesWhatAForgedGenerationNamePointsAt()
    {
        // The reproduction: {"FormatVersion":1,"Generation":"x/../../victim/keep"} made Save delete
        // ../victim/keep.npy and keep.json outside the store's folder.
        string store = Folder("store"), victim = Folder("victim");
        Directory.CreateDirectory(victim);
        File.WriteAllText(Path.Combine(victim, "keep.npy"), "precious");
        File.WriteAllText(Path.Combine(victim, "keep.json"), "precious");
        var t = Small(1);
        var s = new ClusterTablesStore(store);
        s.Save(t);
        EditManifest(store, m => m["Generation"] = "x/../../victim/keep");
        s.Save(t);
        Assert.True(File.Exists(Path.Combine(victim, "keep.npy")));
        Assert.True(File.Exists(Path.Combine(victim, "keep.json")));
        Assert.True(s.Load().SameStateAs(t));
    }

    // ------------------------------------------------------------------ finding 3: values and bytes

    public static TheoryData<string, bool> Corruptions() => new()
    {
        { "nan-centre", true }, { "nan-centre", false },
        { "inf-core-embedding", true }, { "inf-core-embedding", false },
        { "huge-count", true }, { "huge-count", false },
        { "moved-cluster-id", true }, { "moved-cluster-id", false },
        { "scaled-embedding", true }, { "scaled-embedding", false },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void ValuesThatCannotBeTrueAreRefusedOnLoadNamingTheFileAndTheCheck(string corruption, bool withChecksums)
    {
        // The reproduction: a NaN over the first centre, +Inf in a core-point embedding, a count of 10^15,
        // a flipped cluster ID or embedding all loaded silently (and after the NaN cluster 0 could never be joined).
        string store = Folder("store");
        var t = Small(2);
        new ClusterTablesStore(store).Save(t);
        if (!withChecksums) AsVersion1(store); // the old format has no checksums: the value checks alone must catch it
        int d = t.Dimension;
        string part;
        string check;
        switch (corruption)
        {
            case "nan-centre":
                part = PartFile(store, "centres");
                var (c, rows, cols) = Npy.ReadFloat64Matrix(part);
                c[0] = double.NaN;
                Npy.Write(part, (ReadOnlySpan<double>)c, rows, cols);
                check = "finite";
                break;
            case "inf-core-embedding":
                part = PartFile(store, "embeddings");
                var e = Npy.ReadMatrix(part);
                e.Data[t.CoreRows[0] * d + 1] = float.PositiveInfinity;
                Npy.Write(part, e);
                check = "finite";
                break;
            case "huge-count":
                part = PartFile(store, "counts");
                var n = Npy.Read<long>(part).Data;
                n[0] = 1_000_000_000_000_000;
                Npy.Write(part, n);
                check = "count";
                break;
            case "moved-cluster-id":
                part = PartFile(store, "cluster_ids");
                var ids = Npy.ReadLabels(part);
                ids[0] = ids.First(id => id != ids[0]);
                Npy.Write(part, ids);
                check = "count";
                break;
            default: // one embedding of a singleton cluster scaled by 4 (an exponent bit): its centre is no longer its mean
                part = PartFile(store, "embeddings");
                var m = Npy.ReadMatrix(part);
                int row = Enumerable.Range(0, t.ItemCount).First(r => t.MemberCount(t.ItemClusterIds[r]) == 1);
                m.Data[row * d] *= 4;
                Npy.Write(part, m);
                part = PartFile(store, "centres");
                check = "mean";
                break;
        }
        var error = Assert.Throws<InvalidDataException>(() => new ClusterTablesStore(store).Load());
        if (withChecksums)
        {
            Assert.Contains("SHA-256", error.Message);
            if (corruption != "scaled-embedding") Assert.Contains(part, error.Message);
        }
        else
        {
            Assert.Contains(part, error.Message);
            Assert.Contains(check, error.Message);
        }
    }

    [Fact]
    public void FlippedOrTruncatedBytesOfASavedStoreAreDetectedOrChangeNothing()
    {
        // Property: any 1 to 4 flipped bytes, or a truncation, of any one file of a saved store either throw
        // InvalidDataException on load or load exactly the saved state (e.g. a flip inside JSON whitespace).
        var t = Small(3);
        string store = Folder("store");
        new ClusterTablesStore(store).Save(t);
        var names = Directory.GetFiles(store).Select(f => Path.GetFileName(f)).Where(f => f != "tables.lock").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(9, names.Length);
        var original = names.Select(f => File.ReadAllBytes(Path.Combine(store, f))).ToArray();
        var flips = Gen.Select(Gen.Int[0, int.MaxValue], Gen.Int[1, 255]).Array[1, 4];
        Gen.Select(Gen.Int[0, names.Length - 1], Gen.Bool, Gen.Int[0, int.MaxValue], flips).Sample((f, truncate, cut, flip) =>
        {
            // Each sample damages a copy of its own: CsCheck runs samples on several threads at once, and samples
            // sharing one folder damaged and restored each other's files during a load (a failure then named a
            // sample that passes alone: seed 3s5XPoxAZYx1).
            byte[] bytes = (byte[])original[f].Clone();
            if (truncate) bytes = bytes[..(cut % bytes.Length)];
            else foreach (var (at, xor) in flip) bytes[at % bytes.Length] ^= (byte)xor;
            string copy = Folder($"copy-{Guid.NewGuid():N}");
            Directory.CreateDirectory(copy);
            try
            {
                for (int i = 0; i < names.Length; i++)
                    File.WriteAllBytes(Path.Combine(copy, names[i]), i == f ? bytes : original[i]);
                try { return new ClusterTablesStore(copy).Load().SameStateAs(t); }
                catch (InvalidDataException) { return true; }
            }
            finally { Directory.Delete(copy, true); }
        }, iter: 600);
    }

    [Fact]
    public void AFileChangedAfterLoadCheckedItsChecksumIsStillRefused()
    {
        // CI failure of the property above (seed 3s5XPoxAZYx1): CsCheck ran its iterations on several threads over
        // one folder, and another iteration rewrote item_ids ([328] ^= 242: item 25 became 235, still distinct, so no
        // value check can notice) after this load had hashed every file but before it read them again to parse
        // them. The load returned a different item ID without an error. Load must check the bytes it parses.
        string store = Folder("store");
        var t = Small(3);
        new ClusterTablesStore(store).Save(t);
        string itemIds = PartFile(store, "item_ids");
        byte[] flipped = File.ReadAllBytes(itemIds);
        flipped[328] ^= 242;
        var s = new ClusterTablesStore(store) { BeforeRead = path => { if (path == itemIds) File.WriteAllBytes(itemIds, flipped); } };
        var e = Assert.Throws<InvalidDataException>(() => s.Load());
        Assert.Contains("SHA-256", e.Message);
        Assert.Contains(itemIds, e.Message);
    }

    // ------------------------------------------------------------------ finding 4: readers, crashes, failures

    [Fact]
    public void ThePreviousGenerationStaysCompleteUntilTheNextSave()
    {
        // A reader that read the manifest just before a save must still find the files it names.
        string store = Folder("store");
        var s = new ClusterTablesStore(store);
        s.Save(Small(4));
        string first = Generation(store);
        var firstFiles = Directory.GetFiles(store, $"*.{first}.*");
        Assert.Equal(8, firstFiles.Length);
        s.Save(Small(5));
        string second = Generation(store);
        Assert.All(firstFiles, f => Assert.True(File.Exists(f), $"{f} was deleted by the next save"));
        s.Save(Small(6));
        Assert.Empty(Directory.GetFiles(store, $"*.{first}.*"));
        Assert.Equal(8, Directory.GetFiles(store, $"*.{second}.*").Length);
    }

    [Fact]
    public void LoadsRacingSavesAlwaysSeeOneCompleteState()
    {
        // The reproduction: loads during concurrent saves got FileNotFoundException (33 of ~6,500).
        var states = new[] { Small(7), Small(8, streamed: 5) };
        string store = Folder("store");
        new ClusterTablesStore(store).Save(states[0]);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        int loads = 0;
        bool done = false;
        var saver = new Thread(() =>
        {
            try { for (int k = 0; k < 300; k++) new ClusterTablesStore(store).Save(states[k % 2]); }
            catch (Exception e) { errors.Enqueue(e); }
            finally { Volatile.Write(ref done, true); }
        });
        var loader = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                try
                {
                    var u = new ClusterTablesStore(store).Load();
                    if (!u.SameStateAs(states[0]) && !u.SameStateAs(states[1])) errors.Enqueue(new Exception("a load gave neither saved state"));
                }
                catch (Exception e) { errors.Enqueue(e); }
                loads++;
            }
        });
        saver.Start();
        loader.Start();
        saver.Join();
        loader.Join();
        Assert.True(loads > 0);
        Assert.Empty(errors);
    }

    [Fact]
    public void WhatACrashedSaveLeftIsRemovedByTheNextSave()
    {
        // A save killed mid-way leaves part of a generation and AtomicFile's temporary files (the issue: 50-70 MB
        // per crash that no later save removed). The next successful save removes them; other files stay.
        string store = Folder("store");
        var s = new ClusterTablesStore(store);
        s.Save(Small(9));
        string kept = Generation(store);
        const string crashed = "20261201090000000-0123456789ab";
        File.Copy(PartFile(store, "item_ids"), Path.Combine(store, $"item_ids.{crashed}.npy"));
        File.Copy(PartFile(store, "embeddings"), Path.Combine(store, $"embeddings.{crashed}.npy"));
        string[] debris =
        [
            Path.Combine(store, $"item_ids.{crashed}.npy"),
            Path.Combine(store, $"embeddings.{crashed}.npy"),
            Path.Combine(store, $".centres.{crashed}.npy.4242.{Guid.NewGuid():N}.tmp"),
            Path.Combine(store, $".tables.json.4242.{Guid.NewGuid():N}.tmp"),
        ];
        File.WriteAllBytes(debris[2], new byte[1000]);
        File.WriteAllText(debris[3], "{");
        string[] foreign = [Path.Combine(store, "notes.txt"), Path.Combine(store, "item_ids.mine.npy")];
        foreach (string f in foreign) File.WriteAllText(f, "not the store's");

        var t = Small(10);
        s.Save(t);
        Assert.All(debris, f => Assert.False(File.Exists(f), $"{f} was left behind"));
        Assert.All(foreign, f => Assert.True(File.Exists(f), $"{f} is not the store's and was deleted"));
        Assert.Equal(8, Directory.GetFiles(store, $"*.{kept}.*").Length);   // the previous generation, for readers
        Assert.True(s.Load().SameStateAs(t));
    }

    [Fact]
    public void AFailedSaveDeletesWhatItWroteAndTheLastStateStaysCurrent()
    {
        // The issue: a save that failed (a read-only folder) left orphaned generation files. Tests run as root, where
        // a read-only folder is still writable, so the disk "fails" before the first part, a middle part, the
        // allocator or the manifest.
        string store = Folder("store");
        var s = new ClusterTablesStore(store);
        var t = Small(11);
        s.Save(t);
        var before = Directory.GetFiles(store).Order().ToArray();
        foreach (int failAt in new[] { 0, 3, 7, 8 })
        {
            int seen = 0;
            var failing = new ClusterTablesStore(store)
            {
                BeforeWrite = path => { if (seen++ == failAt) throw new IOException($"disk full before {path}"); },
            };
            Assert.Throws<IOException>(() => failing.Save(Small(12)));
            Assert.Equal(before, Directory.GetFiles(store).Order().ToArray());
            Assert.True(s.Load().SameStateAs(t));
        }
    }
}
