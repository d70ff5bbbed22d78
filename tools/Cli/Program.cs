using System.ComponentModel;
using LabelAssignment.Cli;
using LabelAssignment.Remapping;
using Spectre.Console;
using Spectre.Console.Cli;

return Cli.Run(args);

namespace LabelAssignment.Cli
{
    /// <summary>Exit codes a pipeline can act on.</summary>
    internal static class ExitCode
    {
        public const int Ok = 0;
        /// <summary>Unexpected failure (a bug or the engine): the message says what.</summary>
        public const int Failure = 1;
        /// <summary>Bad command line: unknown command or option, missing or invalid option value.</summary>
        public const int Usage = 2;
        /// <summary>Bad input data: missing column, wrong type, null, duplicate item id, out-of-range value.</summary>
        public const int BadInput = 3;
        /// <summary>A file could not be found, read or written.</summary>
        public const int Io = 4;
    }

    /// <summary>The command-line entry point: parses, runs, maps errors to exit codes.</summary>
    internal static class Cli
    {
        public static int Run(string[] args, IAnsiConsole? console = null)
        {
            var app = new CommandApp();
            app.Configure(c =>
            {
                c.SetApplicationName("labelassign");
                if (console is not null) c.ConfigureConsole(console);
                c.PropagateExceptions();
                c.AddCommand<RemapCommand>("remap")
                    .WithDescription("Today's stable cluster IDs from yesterday's IDs and today's fresh clustering (sample overlap with a sparse Hungarian, or centroid distance).")
                    .WithExample("remap", "--yesterday", "day1/stable_ids.parquet", "--today", "day2/labels.parquet", "--out", "day2");
                c.AddCommand<ContingencyCommand>("contingency")
                    .WithDescription("Only the sparse overlap table (old_id, new_label, shared, old_size, new_size), for remap --contingency.")
                    .WithExample("contingency", "--yesterday", "y.parquet", "--today", "t.parquet", "--out", "overlap.parquet");
                c.AddCommand<ApplyCommand>("apply")
                    .WithDescription("Today's labels to stable IDs through a mapping written by remap (a join).")
                    .WithExample("apply", "--today", "t.parquet", "--mapping", "day2/mapping.parquet", "--out", "day2");
            });
            var err = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            try
            {
                return app.Run(args);
            }
            catch (CommandParseException e) { return Fail(err, ExitCode.Usage, e.Message + " (see --help)"); }
            catch (CommandRuntimeException e) { return Fail(err, ExitCode.Usage, e.Message + " (see --help)"); }
            catch (InputDataException e) { return Fail(err, ExitCode.BadInput, e.Message); }
            catch (InvalidDataException e) { return Fail(err, ExitCode.BadInput, e.Message); }
            catch (ArgumentException e) { return Fail(err, ExitCode.Usage, e.Message); }
            catch (FileNotFoundException e) { return Fail(err, ExitCode.Io, e.Message); }
            catch (DirectoryNotFoundException e) { return Fail(err, ExitCode.Io, e.Message); }
            catch (IOException e) { return Fail(err, ExitCode.Io, e.Message); }
            catch (UnauthorizedAccessException e) { return Fail(err, ExitCode.Io, e.Message); }
            catch (DuckDB.NET.Data.DuckDBException e) { return Fail(err, ExitCode.Failure, "DuckDB: " + e.Message); }
            catch (Exception e) when (e is not OutOfMemoryException) { return Fail(err, ExitCode.Failure, $"unexpected {e.GetType().Name}: {e.Message}\n{e.StackTrace}"); }
        }

        private static int Fail(IAnsiConsole err, int code, string message)
        {
            err.MarkupLineInterpolated($"[red]labelassign: {message}[/]");
            return code;
        }

        /// <summary>Runs <paramref name="work"/> with a progress bar per stage on stderr (plain lines when not a terminal).</summary>
        public static T WithProgress<T>(bool quiet, Func<IProgress<WorkProgress>?, T> work)
        {
            if (quiet) return work(null);
            var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            if (!err.Profile.Capabilities.Interactive)
            {
                // A log line per stage with the time since the start, so a pipeline's log shows where the time went.
                var clock = System.Diagnostics.Stopwatch.StartNew();
                return work(new Progress(p => Console.Error.WriteLine(
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"labelassign: [{p.Done}/{p.Total}] {p.Stage} (at {clock.Elapsed.TotalSeconds:0.0} s)"))));
            }
            T result = default!;
            err.Progress().AutoClear(false).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    result = work(new Progress(p =>
                    {
                        task ??= ctx.AddTask("start", maxValue: p.Total);
                        task.Description = Markup.Escape(p.Stage);
                        task.Value = p.Done;
                        ctx.Refresh();
                    }));
                });
            return result;
        }

        /// <summary>Reports synchronously (System.Progress would post to the thread pool and reorder stages).</summary>
        private sealed class Progress(Action<WorkProgress> report) : IProgress<WorkProgress>
        {
            public void Report(WorkProgress value) => report(value);
        }
    }

    /// <summary>Options every command shares.</summary>
    internal class CommonSettings : CommandSettings
    {
        [CommandOption("--format <FORMAT>")]
        [Description("Output tables as [green]parquet[/] (default) or [green]csv[/] (with a header).")]
        [DefaultValue("parquet")]
        public string Format { get; init; } = "parquet";

        [CommandOption("--memory-limit <SIZE>")]
        [Description("DuckDB's memory limit, e.g. [green]6GB[/] (default: DuckDB's, 80% of RAM); past it joins and group-bys spill to --temp-dir.")]
        public string? MemoryLimit { get; init; }

        [CommandOption("--temp-dir <FOLDER>")]
        [Description("Where DuckDB spills (default: a private folder under the system's temp folder, removed at the end).")]
        public string? TempDir { get; init; }

        public EngineSettings Engine => new(MemoryLimit, TempDir);

        [CommandOption("-q|--quiet")]
        [Description("No progress output.")]
        public bool Quiet { get; init; }

        public TableFormat ParsedFormat => Format.ToLowerInvariant() switch
        {
            "parquet" => TableFormat.Parquet,
            "csv" => TableFormat.Csv,
            _ => throw new ArgumentException($"--format must be parquet or csv, not '{Format}'.", "--format"),
        };

        public override ValidationResult Validate() =>
            !(Format.ToLowerInvariant() is "parquet" or "csv") ? ValidationResult.Error($"--format must be parquet or csv, not '{Format}'.")
            : MemoryLimit is not null && !EngineSettings.IsSize(MemoryLimit) ? ValidationResult.Error($"--memory-limit must be a size such as 6GB or 512MiB, not '{MemoryLimit}'.")
            : ValidationResult.Success();

        protected static ValidationResult Require(string? value, string option) =>
            string.IsNullOrEmpty(value) ? ValidationResult.Error($"{option} is required.") : ValidationResult.Success();
    }

    internal sealed class RemapSettings : CommonSettings
    {
        [CommandOption("--yesterday <FILE>")]
        [Description("Yesterday's stable IDs: a Parquet or CSV table with columns item_id (integer, unique) and cluster_id (integer, -1 noise).")]
        public string? Yesterday { get; init; }

        [CommandOption("--contingency <FILE>")]
        [Description("Instead of --yesterday: the overlap table written by [green]contingency[/] (or sql/contingency.sql elsewhere).")]
        public string? Contingency { get; init; }

        [CommandOption("--today <FILE>")]
        [Description("Today's fresh clustering: columns item_id (integer, unique) and label (integer, -1 noise: each noise item becomes a cluster of its own).")]
        public string? Today { get; init; }

        [CommandOption("--out <FOLDER>")]
        [Description("Output folder: stable_ids, mapping, retired (.parquet or .csv) and summary.json.")]
        public string? Out { get; init; }

        [CommandOption("--measure <MEASURE>")]
        [Description("Matching measure: [green]overlap[/] (Jaccard over shared items, sparse Hungarian) or [green]centroid[/] (centre similarity, dense Hungarian; needs --yesterday-centres and --today-centres).")]
        [DefaultValue("overlap")]
        public string Measure { get; init; } = "overlap";

        [CommandOption("--threshold <SIMILARITY>")]
        [Description("A pair keeps yesterday's ID when its score is above this: Jaccard for overlap (default 0.5), centre similarity for centroid (default the article's 0.95).")]
        public double? Threshold { get; init; }

        [CommandOption("--yesterday-centres <FILE>")]
        [Description("For centroid: yesterday's centres, columns cluster_id and centre (a list of numbers), or a folder with cluster_id.npy and centre.npy.")]
        public string? YesterdayCentres { get; init; }

        [CommandOption("--today-centres <FILE>")]
        [Description("For centroid: today's centres, columns label and centre, or a folder with label.npy and centre.npy.")]
        public string? TodayCentres { get; init; }

        [CommandOption("--ids-state <FILE>")]
        [Description("Never reuse a retired ID: read the high-water mark from FILE (if it exists) and write the new state to OUT/ids_state.json (pass that file tomorrow).")]
        public string? IdsState { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            if (Measure is not ("overlap" or "centroid"))
                return ValidationResult.Error($"--measure must be overlap or centroid, not '{Measure}'.");
            if (Measure == "centroid" && (YesterdayCentres is null || TodayCentres is null))
                return ValidationResult.Error("--measure centroid needs --yesterday-centres and --today-centres.");
            if (Measure == "overlap" && (YesterdayCentres is not null || TodayCentres is not null))
                return ValidationResult.Error("--yesterday-centres and --today-centres are for --measure centroid.");
            if (Yesterday is null == (Contingency is null))
                return ValidationResult.Error("give exactly one of --yesterday and --contingency.");
            if (Threshold is double t0 && !(t0 >= 0 && t0 <= 1))
                return ValidationResult.Error($"--threshold must be in [0, 1] (a similarity), not {t0}.");
            var t = Require(Today, "--today");
            return t.Successful ? Require(Out, "--out") : t;
        }
    }

    internal sealed class RemapCommand : Command<RemapSettings>
    {
        public override int Execute(CommandContext context, RemapSettings s, CancellationToken cancellationToken)
        {
            var summary = Cli.WithProgress(s.Quiet, p => Pipeline.Remap(new RemapRequest
            {
                Yesterday = s.Yesterday, Contingency = s.Contingency, Today = s.Today!, Out = s.Out!,
                Threshold = s.Threshold, IdsState = s.IdsState, Format = s.ParsedFormat,
                Measure = s.Measure == "centroid" ? RemappingMeasure.Centroids : RemappingMeasure.Overlap,
                YesterdayCentres = s.YesterdayCentres, TodayCentres = s.TodayCentres, Engine = s.Engine,
            }, p));
            if (!s.Quiet)
                Console.Error.WriteLine(
                    $"labelassign: {summary.ClustersToday} clusters today: {summary.Kept} kept, {summary.Created} created; " +
                    $"{summary.Retired} retired; match rate {summary.MatchRate:F4}; wrote {Path.GetFullPath(s.Out!)}");
            return ExitCode.Ok;
        }
    }

    internal sealed class ContingencySettings : CommonSettings
    {
        [CommandOption("--yesterday <FILE>")]
        [Description("Yesterday's stable IDs (item_id, cluster_id).")]
        public string? Yesterday { get; init; }

        [CommandOption("--today <FILE>")]
        [Description("Today's fresh clustering (item_id, label).")]
        public string? Today { get; init; }

        [CommandOption("--out <FILE>")]
        [Description("The overlap table to write (old_id, new_label, shared, old_size, new_size).")]
        public string? Out { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            foreach (var (v, n) in new[] { (Yesterday, "--yesterday"), (Today, "--today"), (Out, "--out") })
            {
                var r = Require(v, n);
                if (!r.Successful) return r;
            }
            return ValidationResult.Success();
        }
    }

    internal sealed class ContingencyCommand : Command<ContingencySettings>
    {
        public override int Execute(CommandContext context, ContingencySettings s, CancellationToken cancellationToken)
        {
            long rows = Cli.WithProgress(s.Quiet, p => Pipeline.Contingency(s.Yesterday!, s.Today!, s.Out!, s.ParsedFormat, p, s.Engine));
            if (!s.Quiet) Console.Error.WriteLine($"labelassign: {rows} overlap rows in {Path.GetFullPath(s.Out!)}");
            return ExitCode.Ok;
        }
    }

    internal sealed class ApplySettings : CommonSettings
    {
        [CommandOption("--today <FILE>")]
        [Description("Today's fresh clustering (item_id, label).")]
        public string? Today { get; init; }

        [CommandOption("--mapping <FILE>")]
        [Description("The mapping written by remap (label, item_id, cluster_id, ...).")]
        public string? Mapping { get; init; }

        [CommandOption("--out <FOLDER>")]
        [Description("Output folder: stable_ids.parquet (or .csv) with item_id, cluster_id.")]
        public string? Out { get; init; }

        public override ValidationResult Validate()
        {
            var b = base.Validate();
            if (!b.Successful) return b;
            foreach (var (v, n) in new[] { (Today, "--today"), (Mapping, "--mapping"), (Out, "--out") })
            {
                var r = Require(v, n);
                if (!r.Successful) return r;
            }
            return ValidationResult.Success();
        }
    }

    internal sealed class ApplyCommand : Command<ApplySettings>
    {
        public override int Execute(CommandContext context, ApplySettings s, CancellationToken cancellationToken)
        {
            Cli.WithProgress(s.Quiet, p => { Pipeline.Apply(s.Today!, s.Mapping!, s.Out!, s.ParsedFormat, p, s.Engine); return 0; });
            if (!s.Quiet) Console.Error.WriteLine($"labelassign: wrote {Path.Combine(Path.GetFullPath(s.Out!), "stable_ids" + Pipeline.Extension(s.ParsedFormat))}");
            return ExitCode.Ok;
        }
    }
}
