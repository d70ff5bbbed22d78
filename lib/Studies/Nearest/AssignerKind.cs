using LabelAssignment.Online;

namespace LabelAssignment.Studies;

/// <summary>The assigners the nearest study compares (a typed choice: tables, series and conclusions look them up by this).</summary>
public enum AssignerKind
{
    /// <summary><see cref="NearestCentroidAssigner"/>: the nearest centre within eps (the article's method, with the nearest centre).</summary>
    NearestCentroid,

    /// <summary><see cref="NearestCentroidAssigner"/> with <see cref="NearestCentroidOptions.FirstWithinEps"/>: the article's own loop.</summary>
    NearestCentroidFirstWithinEps,

    /// <summary><see cref="CorePointAssigner"/>: DBSCAN's rule for a new point (nearest core point within eps).</summary>
    CorePoint,
}

/// <summary>Names and construction of the <see cref="AssignerKind"/>s.</summary>
public static class AssignerKinds
{
    /// <summary>Every kind, in the order the study runs and shows them.</summary>
    public static IReadOnlyList<AssignerKind> All { get; } =
        [AssignerKind.NearestCentroid, AssignerKind.NearestCentroidFirstWithinEps, AssignerKind.CorePoint];

    /// <summary>The name shown in tables and charts (e.g. "NearestCentroid (first within eps)").</summary>
    public static string DisplayName(this AssignerKind kind) => kind switch
    {
        AssignerKind.NearestCentroid => "NearestCentroid",
        AssignerKind.NearestCentroidFirstWithinEps => "NearestCentroid (first within eps)",
        AssignerKind.CorePoint => "CorePoint",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind must be NearestCentroid, NearestCentroidFirstWithinEps or CorePoint."),
    };

    /// <summary>An assigner of this kind at <paramref name="eps"/> that commits into <paramref name="tables"/>.</summary>
    public static IOnlineAssigner Create(this AssignerKind kind, ClusterTables tables, double eps) => kind switch
    {
        AssignerKind.NearestCentroid => new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = eps }),
        AssignerKind.NearestCentroidFirstWithinEps => new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = eps, FirstWithinEps = true }),
        AssignerKind.CorePoint => new CorePointAssigner(tables, new CorePointOptions { Eps = eps }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind must be NearestCentroid, NearestCentroidFirstWithinEps or CorePoint."),
    };
}
