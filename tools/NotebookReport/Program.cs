// Usage: NotebookReport <executed.ipynb> <report.html> [<executed.ipynb> <report.html> ...]
// Writes each report atomically; exits 1 with a message when an argument is missing or a file is not a notebook.
using LabelAssignment.Reporting;

if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: NotebookReport <executed.ipynb> <report.html> [<ipynb> <html> ...]");
    return 1;
}
for (int i = 0; i < args.Length; i += 2)
{
    try
    {
        NotebookReport.Render(args[i], args[i + 1]);
        Console.WriteLine($"{args[i]} -> {args[i + 1]}");
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"cannot render {args[i]}: {e.Message}");
        return 1;
    }
}
return 0;
