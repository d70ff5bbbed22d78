using System.Globalization;

namespace LabelAssignment.Reporting;

/// <summary>One parameter a notebook read: its name, the value used and where it came from.</summary>
/// <param name="Name">The parameter's name, as given to <c>--input name=value</c>.</param>
/// <param name="Value">The value used, formatted invariantly.</param>
/// <param name="Source">"--input" when the run supplied it, else "default".</param>
public sealed record NotebookParameter(string Name, string Value, string Source);

/// <summary>
/// Notebook parameters with defaults written in the notebook and overrides from the command line of a headless run
/// (<c>dotnet repl --run X.ipynb --input eps=0.15</c>): dotnet-repl runs the kernel in its own process, so its
/// <c>--input name=value</c> arguments are visible here. In VS Code no prompt appears and the defaults apply.
/// Values are parsed with the invariant culture (0.15, not 0,15).
/// </summary>
public static class NotebookParameters
{
    static readonly object Gate = new();
    static IReadOnlyDictionary<string, string>? inputs;
    static readonly List<NotebookParameter> used = [];

    /// <summary>The <c>--input name=value</c> pairs of this process's command line (empty outside dotnet-repl).</summary>
    public static IReadOnlyDictionary<string, string> Inputs
    {
        get { lock (Gate) return inputs ??= Parse(Environment.GetCommandLineArgs()); }
    }

    /// <summary>Every parameter read so far with the value used (shown by a notebook as a table).</summary>
    public static IReadOnlyList<NotebookParameter> Used { get { lock (Gate) return used.ToArray(); } }

    /// <summary>Replaces the inputs (tests, or a host that passes parameters another way) and forgets <see cref="Used"/>.</summary>
    public static void SetInputs(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        lock (Gate)
        {
            inputs = new Dictionary<string, string>(values, StringComparer.Ordinal);
            used.Clear();
        }
    }

    /// <summary>The value of <paramref name="name"/> from <c>--input</c>, else <paramref name="defaultValue"/>.</summary>
    /// <exception cref="ArgumentException">The supplied text does not parse as <typeparamref name="T"/>.</exception>
    public static T Get<T>(string name, T defaultValue) where T : IParsable<T>
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        T value = defaultValue;
        string source = "default";
        if (Inputs.TryGetValue(name, out string? text))
        {
            if (!T.TryParse(text, CultureInfo.InvariantCulture, out T? parsed) || parsed is null)
                throw new ArgumentException(
                    $"notebook parameter {name}='{text}' (from --input) is not a valid {typeof(T).Name}; " +
                    $"the default is {Format(defaultValue)}.", nameof(name));
            value = parsed;
            source = "--input";
        }
        lock (Gate)
        {
            used.RemoveAll(p => p.Name == name);
            used.Add(new NotebookParameter(name, Format(value), source));
        }
        return value;
    }

    /// <summary>A boolean parameter (true/false, case-insensitive).</summary>
    public static bool Get(string name, bool defaultValue) =>
        Get<BoolText>(name, new BoolText(defaultValue)).Value;

    /// <summary>
    /// Throws when an <c>--input</c> name was never read by <see cref="Get{T}"/>: a misspelt parameter would otherwise
    /// be ignored silently and the run would use the default. Call it at the end of the parameters cell;
    /// <paramref name="readElsewhere"/> names inputs the notebook reads another way (<c>#!set ... @input:name</c>).
    /// </summary>
    public static void EnsureAllInputsUsed(params string[] readElsewhere)
    {
        ArgumentNullException.ThrowIfNull(readElsewhere);
        string[] unknown;
        lock (Gate)
            unknown = Inputs.Keys.Where(k => used.All(p => p.Name != k) && !readElsewhere.Contains(k))
                .Order(StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException(
                $"--input names no parameter of this notebook: {string.Join(", ", unknown)}; " +
                $"its parameters are: {string.Join(", ", Used.Select(p => p.Name))}.");
    }

    /// <summary>Reads <c>--input name=value</c>, <c>--input=name=value</c> and <c>--input:name=value</c> pairs.</summary>
    public static IReadOnlyDictionary<string, string> Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string? pair = null;
            if (args[i] == "--input" && i + 1 < args.Count) pair = args[++i];
            else if (args[i].StartsWith("--input=", StringComparison.Ordinal) || args[i].StartsWith("--input:", StringComparison.Ordinal))
                pair = args[i][8..];
            if (pair is null) continue;
            int eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"--input '{pair}' is not of the form name=value.", nameof(args));
            result[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        return result;
    }

    static string Format<T>(T value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString() ?? "";

    readonly record struct BoolText(bool Value) : IParsable<BoolText>
    {
        public static BoolText Parse(string s, IFormatProvider? provider) =>
            TryParse(s, provider, out var r) ? r : throw new FormatException($"'{s}' is not true or false.");

        public static bool TryParse(string? s, IFormatProvider? provider, out BoolText result)
        {
            bool ok = bool.TryParse(s?.Trim(), out bool b);
            result = new BoolText(b);
            return ok;
        }

        public override string ToString() => Value ? "true" : "false";
    }
}
