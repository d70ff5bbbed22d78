using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LabelAssignment.Reporting;

/// <summary>What a report page found about itself in a real browser after its scripts ran.</summary>
/// <param name="Report">The report file.</param>
/// <param name="ChartsExpected">Chart outputs the renderer wrote (the page's la-charts meta).</param>
/// <param name="Charts">Chart outputs in the page.</param>
/// <param name="ChartsDrawn">Chart outputs holding plotly's SVG.</param>
/// <param name="Images">Images in the page.</param>
/// <param name="ImagesRendered">Images decoded with a width above 0.</param>
/// <param name="Errors">Script errors and failed resources the page recorded.</param>
/// <param name="PageHeight">The page's height in CSS pixels.</param>
/// <param name="Screenshot">The PNG written, or null.</param>
public sealed record BrowserCheckResult(string Report, int ChartsExpected, int Charts, int ChartsDrawn, int Images, int ImagesRendered,
    IReadOnlyList<string> Errors, int PageHeight, string? Screenshot)
{
    /// <summary>Every chart drawn, every image rendered, no error.</summary>
    public bool Passed => Problems.Count == 0;

    /// <summary>What is wrong, one sentence each (empty when it passed).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var p = new List<string>();
            if (Charts != ChartsExpected) p.Add($"{Charts} chart outputs in the page, the renderer wrote {ChartsExpected}");
            if (ChartsDrawn != Charts) p.Add($"{Charts - ChartsDrawn} of {Charts} charts drew no SVG");
            if (ImagesRendered != Images) p.Add($"{Images - ImagesRendered} of {Images} images did not render");
            p.AddRange(Errors.Select(e => "script error: " + e));
            return p;
        }
    }

    /// <summary>One line: "ok: 9 charts drawn, 2 images rendered" or the problems.</summary>
    public override string ToString() => Passed
        ? $"ok: {ChartsDrawn} charts drawn, {ImagesRendered} images rendered, no script error"
        : "FAILED: " + string.Join("; ", Problems);
}

/// <summary>
/// Debian's headless Chromium: loads a rendered report (no network; the page is self-contained), lets its scripts run,
/// and reads the result of the page's own check (<see cref="NotebookReport.CheckAttribute"/>) from the DOM; optionally
/// writes a PNG screenshot of the page.
/// </summary>
public static partial class HeadlessBrowser
{
    /// <summary>Tallest screenshot taken (CSS pixels): taller pages are shot from the top.</summary>
    public const int MaxScreenshotHeight = 16000;

    /// <summary>Width of the browser window (CSS pixels).</summary>
    public const int Width = 1200;

    /// <summary>The chromium executable on PATH (chromium, chromium-browser), or null.</summary>
    public static string? FindChromium()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (string name in new[] { "chromium", "chromium-browser" })
            {
                string path = Path.Combine(dir, name);
                if (File.Exists(path)) return path;
            }
        return null;
    }

    /// <summary>Checks <paramref name="reportPath"/>; writes <paramref name="screenshotPath"/> when given.</summary>
    /// <exception cref="InvalidDataException">The page wrote no check result (not a rendered report, or its scripts did not run).</exception>
    /// <exception cref="TimeoutException">Chromium did not finish in time.</exception>
    public static BrowserCheckResult Check(string reportPath, string chromium, string? screenshotPath = null, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(reportPath);
        ArgumentException.ThrowIfNullOrEmpty(chromium);
        if (!File.Exists(reportPath)) throw new FileNotFoundException($"report '{reportPath}' does not exist.", reportPath);
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        string url = new Uri(Path.GetFullPath(reportPath)).AbsoluteUri;
        // The same width as the screenshot, so the page height measured here is the screenshot's.
        string dom = Run(chromium, [$"--window-size={Width},900", "--virtual-time-budget=10000", "--dump-dom", url], limit);
        var m = CheckPattern().Match(dom);
        if (!m.Success)
            throw new InvalidDataException($"'{reportPath}' wrote no {NotebookReport.CheckAttribute} result in headless Chromium: not a rendered report, or its scripts did not run.");
        using var doc = JsonDocument.Parse(WebUtility.HtmlDecode(m.Groups[1].Value));
        var r = doc.RootElement;
        int height = r.GetProperty("height").GetInt32();
        string? shot = null;
        if (screenshotPath is not null)
        {
            string full = Path.GetFullPath(screenshotPath);
            string tmp = full + ".tmp.png";
            File.Delete(tmp);
            Run(chromium, ["--hide-scrollbars", $"--window-size={Width},{Math.Clamp(height, 600, MaxScreenshotHeight)}", "--virtual-time-budget=10000",
                $"--screenshot={tmp}", url], limit);
            if (!File.Exists(tmp)) throw new IOException($"chromium wrote no screenshot of '{reportPath}'.");
            File.Move(tmp, full, overwrite: true);
            shot = full;
        }
        return new BrowserCheckResult(reportPath, r.GetProperty("chartsExpected").GetInt32(), r.GetProperty("charts").GetInt32(),
            r.GetProperty("chartsDrawn").GetInt32(), r.GetProperty("images").GetInt32(), r.GetProperty("imagesRendered").GetInt32(),
            r.GetProperty("errors").EnumerateArray().Select(e => e.GetString() ?? "").ToArray(), height, shot);
    }

    internal static string Run(string chromium, string[] args, TimeSpan timeout)
    {
        string profile = Directory.CreateTempSubdirectory("la-chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[]
                     {
                         "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--mute-audio", $"--user-data-dir={profile}",
                     }.Concat(args))
                info.ArgumentList.Add(a);
            using var p = Process.Start(info) ?? throw new IOException($"could not start {chromium}");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within {timeout.TotalSeconds:0} s.");
            }
            p.WaitForExit();
            return stdout.Result;
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [GeneratedRegex(@"data-la-check=""([^""]*)""")]
    private static partial Regex CheckPattern();
}
