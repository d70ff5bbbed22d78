namespace LabelAssignment.Numerics;

/// <summary>Parallel loops whose result does not depend on the thread count.</summary>
internal static class BlockParallel
{
    /// <summary>
    /// body(0) .. body(count - 1), in parallel, or inline when there is one item or too little work to pay for
    /// waking threads. Every body writes only its own slots, so the result is the same either way.
    /// </summary>
    internal static void For(int count, bool inline, ParallelOptions options, Action<int> body)
    {
        if (inline || count == 1 || options.MaxDegreeOfParallelism == 1)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < count; i++) body(i);
        }
        else
            Parallel.For(0, count, options, body);
    }
}
