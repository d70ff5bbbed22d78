using System.Diagnostics;
using System.Text.Json;
using LabelAssignment.IO;
using LabelAssignment.Service;

namespace LabelAssignment.Tests.Server;

/// <summary>
/// A Python client written from the protocol alone (tests/Server/python_client.py: requests, PIL, numpy; PNGs 8 per
/// request from 2 threads) against our service gets the in-process embedder's vectors, and the article's demo and
/// error answers.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class PythonClientTests
{
    [PythonClientFact]
    public async Task The_python_client_gets_the_in_process_vectors()
    {
        var options = ServiceTestData.Options();
        await using var server = await EmbeddingServer.StartAsync(options, model: ServiceTestData.SharedModel(options));
        string folder = TestPaths.NewTempFolder();
        try
        {
            const int n = 21; // three batches of 8, the last one short
            for (int i = 0; i < n; i++)
                File.WriteAllBytes(Path.Combine(folder, $"{i:D4}.png"), ServiceTestData.Png(i));
            string output = Path.Combine(folder, "out.npy");
            var info = new ProcessStartInfo(PythonClientFactAttribute.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(TestPaths.RepoRoot, "tests", "Server", "python_client.py"), server.BaseAddress!.ToString(), folder, output })
                info.ArgumentList.Add(a);
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the Python client did not finish in 60 s");
            Assert.True(process.ExitCode == 0, $"python_client.py failed:\n{await stderr}");

            var vectors = Npy.ReadMatrix(output);
            Assert.Equal((n, 512), (vectors.Count, vectors.Dimension));
            double diff = ServiceTestData.MaxAbsDiff(vectors, ServiceTestData.Reference);
            Assert.True(diff < 1e-5, $"max |python - in-process| = {diff}");

            using var summary = JsonDocument.Parse(await stdout);
            var root = summary.RootElement;
            Assert.Equal(200, root.GetProperty("demo_status").GetInt32());
            Assert.All(root.GetProperty("demo_norms").EnumerateArray(), v => Assert.Equal(1.0, v.GetDouble(), 5));
            Assert.Equal(400, root.GetProperty("empty_status").GetInt32());
            Assert.Equal(400, root.GetProperty("bad_status").GetInt32());
            Assert.StartsWith("Error processing image 1: not an image", root.GetProperty("bad_detail").GetString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
