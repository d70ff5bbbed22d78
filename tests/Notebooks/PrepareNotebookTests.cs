using System.Text.Json;
using LabelAssignment.Embedding;
using LabelAssignment.Data;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>
/// Runs notebooks/1.prepare.ipynb headless on the first 500 CIFAR-100 test images (the real ones from ../shared/cifar-100,
/// or the tests' own file in the official format when that is absent) with a temp data folder. The CI run uses the documented speed option inputSize=128:
/// at 224 the embedding alone took over a minute on the shared 2-core machine.
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class PrepareNotebookTests
{
    [Fact]
    public void Runs_headless_on_500_test_images_and_writes_the_cache_and_the_table()
    {
        string data = TestPaths.NewTempFolder();
        try
        {
            var run = NotebookRunner.Run(Path.Combine(NotebookRunner.RepoRoot, "notebooks", "1.prepare.ipynb"),
                new Dictionary<string, string>
                {
                    ["samples"] = "500",
                    ["inputSize"] = "128",
                    ["dataFolder"] = data,
                    ["cifar"] = TestPaths.Cifar100,
                });
            run.AssertNoErrors();

            // The cache entry the later notebooks read: 500 rows of 512, ids 0..499 (the first 500 in official order),
            // labels equal to the real split's.
            var key = new EmbeddingCacheKey("cifar100", "test", 500, "resnet18-128");
            var set = EmbeddingCache.TryLoad(data, key);
            Assert.NotNull(set);
            Assert.Equal((500, 512), (set.Embeddings.Count, set.Embeddings.Dimension));
            Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), set.ItemIds);
            var real = LabelAssignment.Data.Cifar100.Load(TestPaths.Cifar100, LabelAssignment.Data.Cifar100Split.Test).Take(500);
            Assert.Equal(real.FineLabels, set.Labels);
            Assert.Equal(real.CoarseLabels, set.CoarseLabels);

            var html = run.Outputs().Where(o => o.Type == "text/html").Select(o => o.Text).ToList();
            // The result table: its columns and the first row, named from the file (item 0 of the official test file
            // is a mountain, item 29 a rose).
            string first = real.FineLabelNames[real.FineLabels[0]], item29 = real.FineLabelNames[real.FineLabels[29]];
            if (TestPaths.HasRealCifar100) Assert.Equal(("mountain", "rose"), (first, item29));
            Assert.Contains(html, h => h.Contains("<table") && h.Contains("item_id") && h.Contains("label_name")
                && h.Contains("superclass") && h.Contains("x[0]") && h.Contains(first));
            Assert.Contains(html, h => h.Contains("la-image-grid") && h.Contains($"#0 {first}") && h.Contains($"#29 {item29}"));
            Assert.Contains(html, h => h.Contains("shape <strong>(1, 512)</strong>"));
            Assert.Contains(html, h => h.Contains("la-progress") && h.Contains("done"));
            Assert.Contains(html, h => h.Contains("superclass (20)") && h.Contains("chance"));

            // Section 8: the service started in the kernel, the demo's norms are 1, and the bulk client's vectors equal
            // the cached in-process ones (the table's first diff is the service's; ServiceDemo computes it).
            Assert.Contains(html, h => h.Contains("runs in this process") && h.Contains("status <strong>ok</strong>") && h.Contains("resnet18-128"));
            Assert.Contains(html, h => h.Contains("L2 norm") && System.Text.RegularExpressions.Regex.Matches(h, @"<td>(0\.99999\d|1\.00000\d)</td>").Count == 2);
            var comparison = html.Single(h => h.Contains("of the in-process throughput"));
            var diff = System.Text.RegularExpressions.Regex.Match(comparison, @"differ from the in-process ones by at most <strong>([0-9.e+-]+)</strong>");
            Assert.True(diff.Success, comparison);
            Assert.True(double.Parse(diff.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) < 1e-4, comparison);

            // Its report: provenance (the cache entry it wrote, with the SHA-256 of X.npy) and the browser check
            // (the image grid's 30 images rendered), on this same run.
            var summary = ReportChecks.AssertProvenance(run, [new("samples", "500", "--input"), new("batchSize", "32", "default")]);
            ReportChecks.AssertDataRecorded(summary, EmbeddingCache.FolderOf(data, key));
            Assert.False(Assert.Single(summary.Data).FromCache);
            ReportChecks.AssertPassesBrowserCheck(run, images: 30);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
