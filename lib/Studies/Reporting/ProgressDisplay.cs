using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace LabelAssignment.Reporting;

/// <summary>One moment of a long operation, as a progress display shows it.</summary>
/// <param name="Label">What is running.</param>
/// <param name="Fraction">Share done, in [0, 1].</param>
/// <param name="Elapsed">Time since the bar was created.</param>
/// <param name="Completed">True once the operation ended (the bar was disposed).</param>
/// <param name="Status">The last report's stage and detail (<see cref="WorkProgress"/>), or null.</param>
public readonly record struct ProgressState(string Label, double Fraction, TimeSpan Elapsed, bool Completed, string? Status = null)
{
    /// <summary>Plain-text form, e.g. "embedding: 42% (3.1 s)" or "DBSCAN: 42% (3.1 s) radius neighbours".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Label}: {Fraction * 100:0}% ({Elapsed.TotalSeconds:0.0} s){(Completed ? " done" : "")}{(Status is null ? "" : " " + Status)}");

    /// <summary>An HTML progress bar for this state (what notebooks show).</summary>
    public HtmlFragment ToHtml() => new(string.Create(CultureInfo.InvariantCulture,
        $"<div class=\"la-progress\" style=\"font:12px sans-serif\">{WebUtility.HtmlEncode(Label)} " +
        $"<progress max=\"1\" value=\"{Fraction:0.####}\" style=\"width:300px;vertical-align:middle\"></progress> " +
        $"{Fraction * 100:0}% ({Elapsed.TotalSeconds:0.0} s){(Completed ? " done" : "")}" +
        $"{(Status is null ? "" : " <span style=\"color:#666\">" + WebUtility.HtmlEncode(Status) + "</span>")}</div>"));
}

/// <summary>
/// Progress bars for the library's <see cref="IProgress{T}"/> of <see cref="WorkProgress"/>. Outside a notebook a bar
/// writes a plain line to the console at each tenth; in a notebook the package's extension.dib replaces
/// <see cref="Sink"/> with an HTML bar that updates in place.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>
    /// Makes the view of one bar: called once per bar with its label; the returned action is called with each
    /// state to show (already throttled). Replace it to show progress elsewhere; set it back with <see cref="UsePlainText"/>.
    /// </summary>
    public static Func<string, Action<ProgressState>> Sink { get; set; } = PlainText(Console.Out);

    /// <summary>Restores the default console sink.</summary>
    public static void UsePlainText() => Sink = PlainText(Console.Out);

    /// <summary>A sink that writes one line per tenth of progress (and at completion) to <paramref name="writer"/>.</summary>
    public static Func<string, Action<ProgressState>> PlainText(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        return _ =>
        {
            int lastTenth = -1;
            return state =>
            {
                int tenth = (int)Math.Floor(state.Fraction * 10);
                if (!state.Completed && tenth == lastTenth) return;
                lastTenth = tenth;
                writer.WriteLine(state.ToString());
            };
        };
    }

    /// <summary>
    /// A new bar: pass it as the <c>progress</c> argument of a library call and dispose it when the call returns
    /// (the final state is shown as completed).
    /// </summary>
    public static ProgressBar Create(string label, TimeSpan? minInterval = null) =>
        new(label, Sink(label), minInterval ?? TimeSpan.FromMilliseconds(200));
}

/// <summary>
/// An <see cref="IProgress{T}"/> of <see cref="WorkProgress"/> (the library's progress type; pass the bar itself as
/// the <c>progress</c> argument) that shows each report's fraction, stage and detail, and forwards at most one state
/// per interval (plus the first and the last) to its view, so a fast loop does not flood a notebook.
/// <see cref="Report(double)"/> takes a plain fraction for a notebook's own loops. Thread-safe; reports may come
/// from worker threads. Reports go straight to the view (no synchronisation context), so they are never late.
/// </summary>
public sealed class ProgressBar : IProgress<WorkProgress>, IDisposable
{
    readonly object gate = new();
    readonly Action<ProgressState> view;
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly long minTicks;
    long lastShown = long.MinValue;
    double fraction;
    string? status;
    bool completed;

    /// <summary>What the bar shows as its label.</summary>
    public string Label { get; }

    /// <summary>The last reported fraction.</summary>
    public double Fraction { get { lock (gate) return fraction; } }

    /// <summary>A bar that sends states to <paramref name="view"/>; see <see cref="ProgressDisplay.Create"/>.</summary>
    public ProgressBar(string label, Action<ProgressState> view, TimeSpan minInterval)
    {
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(view);
        if (minInterval < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(minInterval), minInterval, "minInterval must be >= 0.");
        Label = label;
        this.view = view;
        minTicks = (long)(minInterval.TotalSeconds * Stopwatch.Frequency);
        Show(force: true);
    }

    /// <summary>The last report's stage and detail, e.g. "k-means: restart 1 of 3, iteration 4"; null before one.</summary>
    public string? Status { get { lock (gate) return status; } }

    /// <summary>Records that <paramref name="value"/> of the work is done (clamped to [0, 1]).</summary>
    public void Report(double value)
    {
        if (double.IsNaN(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, "progress must be a number in [0, 1], not NaN.");
        lock (gate)
        {
            if (completed) return;
            fraction = Math.Clamp(value, 0, 1);
            Show(force: false);
        }
    }

    /// <summary>Shows <paramref name="value"/>'s <see cref="WorkProgress.Fraction"/>, stage and detail.</summary>
    public void Report(WorkProgress value)
    {
        lock (gate)
        {
            if (completed) return;
            fraction = value.Fraction;
            status = value.Detail is null ? value.Stage : $"{value.Stage}: {value.Detail}";
            Show(force: false);
        }
    }

    /// <summary>
    /// The same bar as an <see cref="IProgress{T}"/> of another report type (the library's own calls take the bar
    /// itself), with <paramref name="fraction"/> saying how far each report is.
    /// </summary>
    public IProgress<T> Of<T>(Func<T, double> fraction)
    {
        ArgumentNullException.ThrowIfNull(fraction);
        return new Adapter<T>(this, fraction);
    }

    sealed class Adapter<T>(ProgressBar bar, Func<T, double> fraction) : IProgress<T>
    {
        public void Report(T value) => bar.Report(fraction(value));
    }

    /// <summary>Shows the final state as completed.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (completed) return;
            completed = true;
            Show(force: true);
        }
    }

    void Show(bool force)
    {
        long now = clock.ElapsedTicks;
        if (!force && lastShown != long.MinValue && now - lastShown < minTicks) return;
        lastShown = now;
        view(new ProgressState(Label, fraction, clock.Elapsed, completed, status));
    }
}
