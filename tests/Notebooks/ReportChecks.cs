using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using LabelAssignment.Reporting;

namespace LabelAssignment.Tests.Notebooks;

/// <summary>
/// What every real notebook's run must give its report: provenance that names the library just packed and the git
/// commit it was packed from, the parameters with their source, the data with its fingerprint, every code cell timed;
/// and a report that passes the check in headless Chromium (every chart drew its SVG, every image rendered, no script
/// error). Reuses the notebook tests' own runs: no extra notebook run.
/// </summary>
public static class ReportChecks
{
    /// <summary>The summary of the run's executed notebook, after checking its provenance.</summary>
    public static ReportSummary AssertProvenance(NotebookRun run, IEnumerable<NotebookParameter> expectedParameters)
    {
        var summary = ReportMeta.ReadFile(run.OutputPath);
        Assert.NotNull(summary.Run);
        Assert.Equal(NotebookRunner.PackedVersion, summary.Run.Library.Version);
        Assert.Equal(GitHead(), summary.Run.Library.Commit);
        Assert.True(summary.Run.Library.IsLatestPack);
        Assert.Equal(Environment.ProcessorCount, summary.Run.Machine.Cores);
        foreach (var p in expectedParameters) Assert.Contains(p, summary.Run.Parameters);
        // Every code cell of the notebook file was timed, once, in order (the #r cell includes the kernel start).
        using var notebook = JsonDocument.Parse(File.ReadAllText(run.NotebookPath));
        var codeCells = notebook.RootElement.GetProperty("cells").EnumerateArray()
            .Select((c, i) => (Type: c.GetProperty("cell_type").GetString(), Index: i + 1)).Where(c => c.Type == "code").Select(c => c.Index).ToArray();
        Assert.Equal(codeCells, summary.Cells.Select(c => c.Cell));
        Assert.All(summary.Cells, c => Assert.False(c.Failed));
        Assert.NotEmpty(summary.Headlines);
        Assert.NotNull(summary.DurationSeconds);
        Assert.InRange(summary.DurationSeconds!.Value, summary.Cells.Sum(c => c.Seconds) - 1, run.Elapsed.TotalSeconds + 1);
        return summary;
    }

    /// <summary>Checks that the data record of <paramref name="entryFolder"/> carries the SHA-256 of its X.npy.</summary>
    public static void AssertDataRecorded(ReportSummary summary, string entryFolder)
    {
        var record = Assert.Single(summary.Data, d => d.Entry == Path.GetFileName(entryFolder));
        string sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(entryFolder, "X.npy"))))[..16];
        Assert.Equal(sha, record.ContentSha256);
    }

    /// <summary>
    /// Renders the run's report and loads it in headless Chromium (skipped without chromium: .ci/run installs it):
    /// every chart the notebook output (counted in the executed notebook) drew its SVG, <paramref name="images"/>
    /// images rendered, no script error.
    /// </summary>
    public static void AssertPassesBrowserCheck(NotebookRun run, int images)
    {
        string html = Path.Combine(Path.GetDirectoryName(run.OutputPath)!, Path.GetFileNameWithoutExtension(run.OutputPath) + ".report.html");
        NotebookReport.Render(run.OutputPath, html);
        int charts = run.Outputs().Count(o => o.Type == "text/html" && o.Text.Contains("Plotly.newPlot", StringComparison.Ordinal));
        if (HeadlessChromium.Executable is null) return;
        var check = HeadlessBrowser.Check(html, HeadlessChromium.Executable, timeout: TimeSpan.FromMinutes(2));
        Assert.True(check.Passed, $"{html}: {check}");
        Assert.Equal((charts, charts, images, images), (check.ChartsExpected, check.ChartsDrawn, check.Images, check.ImagesRendered));
    }

    static string? GitHead()
    {
        try
        {
            var info = new ProcessStartInfo("git") { WorkingDirectory = NotebookRunner.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("rev-parse");
            info.ArgumentList.Add("HEAD");
            using var p = Process.Start(info)!;
            string head = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 && head.Length > 0 ? head : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }   // no git: the pack recorded no commit either
    }
}
