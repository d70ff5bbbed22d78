using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using LabelAssignment.Numerics;

namespace LabelAssignment.Bench.Cases;

/// <summary>
/// GFLOP/s of <see cref="Gemm"/> on the shapes KMeans and DBSCAN use: all n rows of X times the first k rows
/// (k centres, a 2048-row block, all of X), single-threaded and row-parallel, next to numpy's float32
/// <c>X @ Y.T</c> (OpenBLAS) timed in the same run with 1 and with all threads.
/// Options: <c>--gemm-k 100,2048,10000</c> (row counts of B), <c>--gemm-python /usr/bin/python3</c> ("none" skips numpy).
/// </summary>
public sealed class GemmCase : IBenchCase
{
    /// <inheritdoc/>
    public string Name => "gemm";

    /// <inheritdoc/>
    public string Description => "C = X·Yᵀ GFLOP/s (ours 1 thread / parallel vs numpy OpenBLAS 1 / all threads)";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, string> WarmUpOptions(string folder) => new Dictionary<string, string> { ["gemm-k"] = "100", ["gemm-python"] = "none" };

    /// <inheritdoc/>
    public void Run(BenchContext context)
    {
        var x = context.X;
        int n = x.Count, d = x.Dimension;
        var ks = context.Option("gemm-k", "100,2048,10000")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => Math.Min(n, int.Parse(s, CultureInfo.InvariantCulture))).Distinct().ToArray();
        string python = context.Option("gemm-python", "/usr/bin/python3");
        var numpy = python == "none" ? null : TimeNumpy(python, context.XPath, ks, context.Repeats);
        context.Output.WriteLine($"# gemm kernel: {Gemm.KernelDescription}");
        // X·Yᵀ for every k; for small k also Y·Xᵀ, the orientation KMeans's assignment step uses.
        var shapes = ks.Select(k => (Key: k.ToString(CultureInfo.InvariantCulture), M: n, N: k, K: k))
            .Concat(ks.Where(k => k <= 256 && k < n).Select(k => (Key: "t" + k.ToString(CultureInfo.InvariantCulture), M: k, N: n, K: k)));
        foreach (var (key, m, cols, k) in shapes)
        {
            var y = x.Data.AsMemory(0, k * d);
            var a = m == n ? x.Data.AsMemory() : y;
            var b = m == n ? y : x.Data.AsMemory();
            var c = new float[(long)m * cols];
            double flops = 2.0 * n * k * d;
            foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
            {
                var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
                int calls = 0;
                var (_, timing) = context.Measure(() =>
                {
                    calls++;
                    if (threads == 1)
                        Gemm.MultiplyTransposed(a.Span, m, b.Span, cols, d, c, cols);
                    else
                        Gemm.MultiplyTransposedParallel(a, m, b, cols, d, c, cols, new ParallelOptions { MaxDegreeOfParallelism = threads });
                    return 0;
                });
                double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds / calls;
                var summary = new JsonObject
                {
                    ["gflops"] = Math.Round(flops / timing.MedianSeconds / 1e9, 2),
                    // Per CPU-second of the process: what one core delivers, robust to a machine shared with others.
                    ["gflops_per_cpu_s"] = Math.Round(flops / cpuSeconds / 1e9, 2),
                    ["kernel"] = Gemm.KernelDescription,
                    ["checksum_row0"] = Math.Round(c.AsSpan(0, cols).ToArray().Sum(v => (double)v), 3),
                };
                if (numpy is not null && numpy.TryGetValue($"{key}/{threads}", out double npSeconds))
                {
                    if (numpy.TryGetValue($"{key}/{threads}/cpu", out double npCpu))
                        summary["numpy_gflops_per_cpu_s"] = Math.Round(flops / npCpu / 1e9, 2);
                    summary["numpy_s"] = Math.Round(npSeconds, 6);
                    summary["numpy_gflops"] = Math.Round(flops / npSeconds / 1e9, 2);
                    summary["ratio_ours_over_numpy_time"] = Math.Round(timing.MedianSeconds / npSeconds, 3);
                }
                context.Record($"gemm/{m}x{d}*{cols}x{d}/threads={threads}", Name,
                    new JsonObject { ["m"] = m, ["n"] = cols, ["d"] = d, ["threads"] = threads }, timing, summary);
            }
        }
    }

    /// <summary>Median seconds of numpy's X @ X[:k].T per "k/threads", or null when Python/numpy is missing.</summary>
    private static Dictionary<string, double>? TimeNumpy(string python, string xPath, int[] ks, int repeats)
    {
        const string Script = """
            import sys, time, json, numpy as np
            X = np.load(sys.argv[1]).astype(np.float32, copy=False)
            ks = [int(v) for v in sys.argv[2].split(',')]
            reps = int(sys.argv[3])
            out = {}
            shapes = [(str(k), k, False) for k in ks] + [("t" + str(k), k, True) for k in ks if k <= 256 and k < len(X)]
            for key, k, transposed in shapes:
                Y = np.ascontiguousarray(X[:k])
                A, B = (Y, X) if transposed else (X, Y)
                A @ B.T
                ts = []
                c0 = time.process_time()
                for _ in range(reps):
                    t = time.perf_counter(); A @ B.T; ts.append(time.perf_counter() - t)
                out[key] = sorted(ts)[len(ts) // 2]
                out[key + "/cpu"] = (time.process_time() - c0) / reps
            print(json.dumps(out))
            """;
        var result = new Dictionary<string, double>();
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[] { "-c", Script, xPath, string.Join(',', ks), repeats.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(arg);
            // OpenBLAS misdetects this CPU as Prescott; the anchors were measured with Haswell kernels.
            psi.Environment["OPENBLAS_CORETYPE"] = "Haswell";
            psi.Environment["OPENBLAS_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            try
            {
                using var p = Process.Start(psi)!;
                string stdout = p.StandardOutput.ReadToEnd();
                string stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0)
                {
                    Console.Error.WriteLine($"gemm: numpy timing failed: {stderr.Trim()}");
                    return null;
                }
                foreach (var (key, v) in JsonNode.Parse(stdout)!.AsObject())
                {
                    string[] parts = key.Split('/');
                    result[parts.Length == 1 ? $"{parts[0]}/{threads}" : $"{parts[0]}/{threads}/{parts[1]}"] = v!.GetValue<double>();
                }
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Console.Error.WriteLine($"gemm: cannot start {python}: {e.Message}");
                return null;
            }
        }
        return result;
    }
}
