using LabelAssignment.Online;
using Microsoft.Data.Analysis;
using Microsoft.ML.Data;

namespace LabelAssignment.Studies;

/// <summary>
/// The article's two tables as <see cref="DataFrame"/>s, for notebooks (the kernel shows them as paged HTML tables).
/// Built from the <see cref="ClusterTables"/> state on each call: a view, never the state itself.
/// </summary>
public static class ClusterTableViews
{
    /// <summary>The article's label table: item_id (long), embeddings (VBuffer&lt;float&gt;), cluster_id (int).</summary>
    public static DataFrame LabelTable(this ClusterTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        int n = tables.ItemCount, d = tables.Dimension;
        var ids = new Int64DataFrameColumn("item_id", n);
        var emb = new VBufferDataFrameColumn<float>("embeddings", n);
        var cl = new Int32DataFrameColumn("cluster_id", n);
        var itemIds = tables.ItemIds;
        var clusters = tables.ItemClusterIds;
        for (int i = 0; i < n; i++)
        {
            ids[i] = itemIds[i];
            emb[i] = new VBuffer<float>(d, tables.ItemEmbedding(i).ToArray());
            cl[i] = clusters[i];
        }
        return new DataFrame(ids, emb, cl);
    }

    /// <summary>The article's centre table: cluster_id (int), cluster_center (VBuffer&lt;double&gt;), in table order.</summary>
    public static DataFrame CentreTable(this ClusterTables tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        int k = tables.ClusterCount, d = tables.Dimension;
        var ids = new Int32DataFrameColumn("cluster_id", k);
        var cc = new VBufferDataFrameColumn<double>("cluster_center", k);
        var clusterIds = tables.ClusterIds;
        for (int r = 0; r < k; r++)
        {
            ids[r] = clusterIds[r];
            cc[r] = new VBuffer<double>(d, tables.Centre(clusterIds[r]).ToArray());
        }
        return new DataFrame(ids, cc);
    }
}
