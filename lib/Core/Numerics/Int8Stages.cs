namespace LabelAssignment.Numerics;

/// <summary>
/// The cost model of a staged <see cref="Int8Product.Scores{TSink}"/>: which splits of the depth to stop at, given the
/// share of (item, panel) pairs a pilot saw settled by each split. Both staged products use it: the list index's
/// screening of its centroids and the nearest-centre full scan.
/// </summary>
internal static class Int8Stages
{
    /// <summary>The share of <paramref name="pairs"/> settled by each of <paramref name="splits"/> splits (cumulative),
    /// from a pilot's per-task counts of pairs settled at each split (<c>settled[task·MaxSplits + split]</c>).</summary>
    public static double[] SettledBy(long[] settled, int tasks, int splits, long pairs)
    {
        var by = new double[splits];
        long run = 0;
        for (int k = 0; k < splits; k++)
        {
            for (int t = 0; t < tasks; t++) run += settled[t * Int8Product.MaxSplits + k];
            by[k] = (double)run / pairs;
        }
        return by;
    }

    /// <summary>A stop's cost per open (item, panel) pair in groups of the kernel's per-row work: the partial
    /// scores, their slack and the ball test on 16 lanes (about 40 of the tile's 1-cycle groups, measured on the
    /// list index's 10^6 centroids in the bench as the time of a stage where nothing settles).</summary>
    public const double StopCost = 40;

    /// <summary>
    /// The stages (none, one or two of <paramref name="splits"/>) with the least modelled cost per (item, panel) pair,
    /// from <paramref name="settledBy"/>[k], the share of pairs settled by split k when every split is a stop: the
    /// kernel's groups weighted by the share of a tile's rows still computing (a tile with at most 3 open rows runs
    /// them one by one, at about 1.5 times a row's share of a whole tile), plus <see cref="StopCost"/> per open pair at
    /// each stop and at the end.
    /// </summary>
    public static int[] CheapestStages(int[] splits, int groups, double[] settledBy)
    {
        static double TileShare(double open)
        {
            // E over the tile's open rows k ~ Binomial(6, open) of min(1.5·k, 6) / 6.
            double sum = 0;
            for (int k = 1; k <= Int8Product.ItemRows; k++)
            {
                double pk = Binomial(Int8Product.ItemRows, k) * Math.Pow(open, k) * Math.Pow(1 - open, Int8Product.ItemRows - k);
                sum += pk * (k <= 3 ? 1.5 * k : Int8Product.ItemRows) / Int8Product.ItemRows;
            }
            return sum;
        }
        static double Binomial(int n, int k) => k == 0 || k == n ? 1 : Binomial(n - 1, k - 1) * n / k;
        double Cost(int[] stages)
        {
            double cost = 0, open = 1; // TileShare(1) = 1: before the first stop every tile computes whole
            int at = 0;
            foreach (int k in stages)
            {
                cost += (splits[k] - at) * TileShare(open) + StopCost * open;
                at = splits[k];
                open = Math.Min(open, 1 - settledBy[k]);
            }
            return cost + (groups - at) * TileShare(open) + StopCost * open;
        }
        int[] best = [];
        double bestCost = Cost(best);
        void Try(int[] stages)
        {
            double cost = Cost(stages);
            if (cost < bestCost) { best = stages; bestCost = cost; } // ties keep the earlier, fewer stops
        }
        for (int a = 0; a < splits.Length; a++)
        {
            Try([a]);
            for (int b = a + 1; b < splits.Length; b++) Try([a, b]);
        }
        return best;
    }
}
