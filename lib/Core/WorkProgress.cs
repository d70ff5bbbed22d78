namespace LabelAssignment;

/// <summary>
/// How far a long operation is: the one progress type of the library (every <c>progress</c> parameter is an
/// <see cref="IProgress{T}"/> of it). Within a stage <see cref="Done"/> never decreases, and a stage whose total
/// is known ends with a report of <c>Done == Total</c> unless the call throws. Reports arrive on the thread that did
/// the work (no synchronisation context), so an <see cref="IProgress{T}"/> may be called from worker threads.
/// </summary>
/// <param name="Stage">What is running, e.g. "k-means", "radius neighbours", "download".</param>
/// <param name="Done">Units of work done so far (iterations, blocks, items, bytes), 0 to <paramref name="Total"/>.</param>
/// <param name="Total">Units of work in all: 0 for an empty run (done at once), -1 when not known in advance (an archive's extracted bytes).</param>
/// <param name="Detail">Optional human-readable detail (the file, the restart and its inertia); not for parsing.</param>
public readonly record struct WorkProgress(string Stage, long Done, long Total, string? Detail = null)
{
    /// <summary>Share done, <c>Done / Total</c> clamped to [0, 1]; 1 for an empty run, 0 while the total is unknown.</summary>
    public double Fraction => Total switch
    {
        > 0 => Math.Clamp((double)Done / Total, 0.0, 1.0),
        0 => 1.0,
        _ => 0.0,
    };

    /// <summary>Whether the total is known (<c>Total &gt;= 0</c>).</summary>
    public bool HasTotal => Total >= 0;
}
