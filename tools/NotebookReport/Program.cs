// Usage:
//   NotebookReport <executed.ipynb> <report.html> [<ipynb> <html> ...]   render reports (each written atomically)
//   NotebookReport check [--screenshots] <report.html> ...               headless-Chromium check of each report: every
//                                                                        chart drew its SVG, every image rendered, no
//                                                                        script error; writes NAME.check.json (and
//                                                                        NAME.png); exit 1 when one fails
//   NotebookReport index <index.html> <executed.ipynb> ...               the index page (a card per report)
// Exits 1 with a message when an argument is missing or a file is not a notebook.
using LabelAssignment.Reporting;

if (args.Length > 0 && args[0] == "check")
{
    bool screenshots = args.Contains("--screenshots");
    var reports = args.Skip(1).Where(a => a != "--screenshots").ToArray();
    if (reports.Length == 0) return Usage();
    string? chromium = HeadlessBrowser.FindChromium();
    if (chromium is null)
    {
        Console.Error.WriteLine("browser check skipped: no chromium on PATH (Debian: apt-get install chromium).");
        return 0;
    }
    int failures = 0;
    foreach (string report in reports)
    {
        string stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(report))!, Path.GetFileNameWithoutExtension(report));
        try
        {
            var result = HeadlessBrowser.Check(report, chromium, screenshots ? stem + ".png" : null);
            ReportIndex.SaveCheck(result, stem + ReportIndex.CheckSuffix);
            Console.WriteLine($"browser check {report}: {result}{(result.Screenshot is null ? "" : $"; screenshot {Path.GetRelativePath(Directory.GetCurrentDirectory(), result.Screenshot)}")}");
            if (!result.Passed) failures++;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TimeoutException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"browser check {report}: FAILED: {e.Message}");
            failures++;
        }
    }
    return failures == 0 ? 0 : 1;
}
if (args.Length > 0 && args[0] == "index")
{
    if (args.Length < 3) return Usage();
    try
    {
        ReportIndex.Write(args[1], args.Skip(2).Select(ReportIndex.EntryFor).ToArray());
        Console.WriteLine($"index -> {args[1]}");
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"cannot write the index: {e.Message}");
        return 1;
    }
}
if (args.Length == 0 || args.Length % 2 != 0) return Usage();
for (int i = 0; i < args.Length; i += 2)
{
    try
    {
        NotebookReport.Render(args[i], args[i + 1]);
        Console.WriteLine($"{args[i]} -> {args[i + 1]}");
        // The failed cell's error, also when the run failed before the library could report it (e.g. package restore).
        if (ReportMeta.ReadFile(args[i]).FirstError is { } error)
            Console.Error.WriteLine($"{args[i]}: cell {error.Cell} failed: {error.Message}");
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"cannot render {args[i]}: {e.Message}");
        return 1;
    }
}
return 0;

static int Usage()
{
    Console.Error.WriteLine("usage: NotebookReport <executed.ipynb> <report.html> [<ipynb> <html> ...]\n" +
                            "       NotebookReport check [--screenshots] <report.html> ...\n" +
                            "       NotebookReport index <index.html> <executed.ipynb> ...");
    return 1;
}
