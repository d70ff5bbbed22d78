using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// Runs <c>bench/faiss_nearest.py</c> (Debian's python3-faiss) on the centres and items a case wrote as .npy, in
/// the same process run as ours, so that the printed ratio compares the two under the same machine load.
/// </summary>
internal static class FaissAnchor
{
    /// <summary>bench/faiss_nearest.py, found by walking up from the binary (the repository checkout), or null.</summary>
    public static string? ScriptPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "faiss_nearest.py");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The script's JSON answer, or null (with the reason on stderr) when Python, faiss or the script is missing.</summary>
    public static JsonObject? Run(string python, string centresPath, string itemsPath, IEnumerable<string> extraArgs)
    {
        if (python == "none") return null;
        string? script = ScriptPath();
        if (script is null)
        {
            Console.Error.WriteLine("faiss: bench/faiss_nearest.py not found above the bench binary; faiss rows skipped.");
            return null;
        }
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, centresPath, itemsPath }.Concat(extraArgs)) psi.ArgumentList.Add(arg);
        // Both sides use every core; OpenBLAS (under numpy) misdetects this CPU as Prescott.
        psi.Environment["OMP_NUM_THREADS"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture);
        psi.Environment["OPENBLAS_CORETYPE"] = "Haswell";
        try
        {
            using var p = Process.Start(psi)!;
            var stderrTask = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string stderr = stderrTask.Result;
            if (p.ExitCode != 0)
            {
                Console.Error.WriteLine($"faiss: {script} failed (exit {p.ExitCode}): {stderr.Trim()}");
                return null;
            }
            return JsonNode.Parse(stdout)!.AsObject();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"faiss: cannot start {python}: {e.Message}");
            return null;
        }
    }

    /// <summary>A fresh folder under the temp directory for the .npy files handed to the script.</summary>
    public static string ScratchFolder(string tag)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"labelassignment-bench-{tag}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>The load average line of /proc/loadavg (Linux), to print next to every figure.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>
    /// CPU seconds the hypervisor has taken from this machine since boot, summed over its cores (the "steal" column
    /// of /proc/stat, in clock ticks of 1/100 s); NaN where it is not reported. On a shared VM speed swings with it,
    /// so timings print the stolen seconds of their own span next to the load average.
    /// </summary>
    public static double StolenSeconds()
    {
        if (!File.Exists("/proc/stat")) return double.NaN;
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 8 && long.TryParse(fields[8], out long ticks) ? ticks / 100.0 : double.NaN;
    }
}
