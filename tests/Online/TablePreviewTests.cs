using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Studies;

namespace LabelAssignment.Tests.Online;

public class TablePreviewTests
{
    [Fact]
    public void Previews_show_the_table_rows_with_abbreviated_vectors()
    {
        var x = new EmbeddingMatrix([1, 0, 0.5f, 0, 1, 0.25f, 1, 0.1f, 0.5f], 3, 3);
        var tables = ClusterTables.Initialise([10, 11, 12], x, [0, -1, 0], [0, 2], DistanceMetric.Euclidean);
        var labels = TablePreview.Labels(tables, rows: 2, values: 2);
        Assert.Equal(2, labels.Rows.Count);
        Assert.Equal(10L, labels["item_id"][0]);
        Assert.Equal("[1, 0, … (3 values)]", labels["embeddings"][0]);
        Assert.Equal(1, labels["cluster_id"][1]); // the noise point's fresh ID: the smallest free one
        var tail = TablePreview.Labels(tables, rows: 1, last: true);
        Assert.Equal(12L, tail["item_id"][0]);
        Assert.Equal("[1, 0.1, 0.5]", tail["embeddings"][0]);
        var centres = TablePreview.Centres(tables, rows: 5, values: 3);
        Assert.Equal(2, centres.Rows.Count);
        Assert.Equal(0, centres["cluster_id"][0]);
        Assert.Equal("[1, 0.05, 0.5]", centres["cluster_center"][0]);
        Assert.Equal(2L, centres["members"][0]);
        Assert.Equal(1L, centres["members"][1]);

        var assigner = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = 0.3 });
        var assigned = assigner.AssignBatch([20, 21], new EmbeddingMatrix([1, 0.1f, 0.5f, 9, 9, 9], 2, 3));
        var a = TablePreview.Assignments(assigned);
        Assert.Equal(0, a["cluster_id"][0]);
        Assert.Equal(false, a["opened a new cluster"][0]);
        Assert.Equal(Math.Round(assigned[0].Distance, 4), a["distance to the joined centre"][0]);
        Assert.Equal(true, a["opened a new cluster"][1]);
        Assert.Null(a["distance to the joined centre"][1]);
        // An opened cluster's nearest distance may be a lower bound: shown rounded down, so it stays one.
        Assert.Equal(Math.Floor(assigned[1].NearestDistance * 1e4) / 1e4, a["nearest centre distance (at least, if opened)"][1]);
        Assert.Equal(Math.Round(assigned[0].NearestDistance, 4), a["nearest centre distance (at least, if opened)"][0]);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => TablePreview.Labels(tables, rows: 0)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentOutOfRangeException>(() => TablePreview.Centres(tables, values: 0)).ParamName);
    }
}
