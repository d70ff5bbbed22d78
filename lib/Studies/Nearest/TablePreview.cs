using System.Globalization;
using Microsoft.Data.Analysis;
using LabelAssignment.Online;

namespace LabelAssignment.Studies;

/// <summary>
/// Short views of the two tables and of assignments for a notebook: a few rows, each vector shown by its first
/// values and its length, so the cluster IDs stay on screen (the full <see cref="ClusterTableViews.LabelTable"/> holds
/// whole vectors, which a notebook renders as hundreds of numbers per row).
/// </summary>
public static class TablePreview
{
    /// <summary>The first (or last) <paramref name="rows"/> rows of the label table: item_id, embeddings (abbreviated), cluster_id.</summary>
    public static DataFrame Labels(ClusterTables tables, int rows = 10, bool last = false, int values = 4)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var (from, count) = Range(tables.ItemCount, rows, last, values);
        var ids = new Int64DataFrameColumn("item_id", count);
        var emb = new StringDataFrameColumn("embeddings", count);
        var cl = new Int32DataFrameColumn("cluster_id", count);
        for (int i = 0; i < count; i++)
        {
            int row = from + i;
            ids[i] = tables.ItemIds[row];
            emb[i] = Abbreviate(tables.ItemEmbedding(row), values);
            cl[i] = tables.ItemClusterIds[row];
        }
        return new DataFrame(ids, emb, cl);
    }

    /// <summary>The first (or last) <paramref name="rows"/> rows of the centre table: cluster_id, cluster_center (abbreviated), and the member count.</summary>
    public static DataFrame Centres(ClusterTables tables, int rows = 10, bool last = false, int values = 4)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var (from, count) = Range(tables.ClusterCount, rows, last, values);
        var ids = new Int32DataFrameColumn("cluster_id", count);
        var centre = new StringDataFrameColumn("cluster_center", count);
        var members = new Int64DataFrameColumn("members", count);
        for (int i = 0; i < count; i++)
        {
            int id = tables.ClusterIds[from + i];
            ids[i] = id;
            centre[i] = Abbreviate(tables.Centre(id), values);
            members[i] = tables.MemberCount(id);
        }
        return new DataFrame(ids, centre, members);
    }

    /// <summary>The first <paramref name="rows"/> assignments: item_id, cluster_id, the deciding distance, whether a cluster was opened, the nearest
    /// distance (for an item that opened a cluster, the nearest-centre assigner reports a lower bound above eps: rounded down here, so it stays one).</summary>
    public static DataFrame Assignments(IReadOnlyList<Assignment> assignments, int rows = 10)
    {
        ArgumentNullException.ThrowIfNull(assignments);
        var (_, count) = Range(assignments.Count, rows, false, 1);
        var item = new Int64DataFrameColumn("item_id", count);
        var cluster = new Int32DataFrameColumn("cluster_id", count);
        var opened = new BooleanDataFrameColumn("opened a new cluster", count);
        var distance = new DoubleDataFrameColumn("distance to the joined centre", count);
        var nearest = new DoubleDataFrameColumn("nearest centre distance (at least, if opened)", count);
        for (int i = 0; i < count; i++)
        {
            var a = assignments[i];
            item[i] = a.ItemId;
            cluster[i] = a.ClusterId;
            opened[i] = a.CreatedCluster;
            distance[i] = a.CreatedCluster ? null : Math.Round(a.Distance, 4);
            nearest[i] = !double.IsFinite(a.NearestDistance) ? null
                : a.CreatedCluster ? Math.Floor(a.NearestDistance * 1e4) / 1e4 : Math.Round(a.NearestDistance, 4);
        }
        return new DataFrame(item, cluster, opened, distance, nearest);
    }

    /// <summary>"[v0, v1, v2, v3, … (d values)]" with 4 significant digits.</summary>
    public static string Abbreviate<T>(ReadOnlySpan<T> vector, int values = 4) where T : IFormattable
    {
        if (values < 1)
            throw new ArgumentOutOfRangeException(nameof(values), values, "values must be >= 1.");
        int shown = Math.Min(values, vector.Length);
        var parts = new string[shown];
        for (int k = 0; k < shown; k++) parts[k] = vector[k].ToString("G4", CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + (vector.Length > shown ? $", … ({vector.Length} values)]" : "]");
    }

    static (int From, int Count) Range(int total, int rows, bool last, int values)
    {
        if (rows < 1)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "rows must be >= 1.");
        if (values < 1)
            throw new ArgumentOutOfRangeException(nameof(values), values, "values must be >= 1.");
        int count = Math.Min(rows, total);
        return (last ? total - count : 0, count);
    }
}
