namespace LabelAssignment.Reporting;

/// <summary>What the package's extension.dib calls when a notebook loads the library.</summary>
public static class NotebookSetup
{
    /// <summary>
    /// Runs the library's one-time set-up (the module initializer that binds FSharp.Core for Plotly.NET). Calling
    /// any library member does the same; this one exists so the intent is visible. Returns true once set up.
    /// </summary>
    public static bool EnsureInitialized()
    {
        FSharpCoreResolver.Install();
        Provenance.Listen();   // cache entries read or written from now on go into the report's provenance
        return true;
    }
}
