using Spectre.Console;

namespace LabelAssignment.Tests.Cli;

/// <summary>Runs labelassign in-process with a plain, wide console, for the CLI tests.</summary>
internal static class CliHarness
{
    /// <summary>The exit code and everything the command printed.</summary>
    public static (int Code, string Output) Run(params string[] args)
    {
        var w = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(w), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No, ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 300;
        int code = LabelAssignment.Cli.Cli.Run(args, console);
        return (code, w.ToString());
    }

    /// <summary>As <see cref="Run"/>, with the output's line breaks (wrapping) removed, for substring checks.</summary>
    public static (int Code, string Output) RunFlat(params string[] args)
    {
        var (code, output) = Run(args);
        return (code, output.Replace("\n", ""));
    }
}
