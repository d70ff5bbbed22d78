using LabelAssignment.Numerics;
using LabelAssignment.Online;
using LabelAssignment.Tests.Oracles;

namespace LabelAssignment.Tests.Online;

/// <summary>
/// The int8 batch screening (<see cref="Int8Product"/>): its integer sums against a scalar loop over the same
/// quantized values, its scores against exact float64 distances within the stated bound, and the assigner's batch
/// answers with it against the float32 path, the one-at-a-time path and the naive reference loop.
/// </summary>
public sealed class Int8ScreeningTests
{
    private static bool Supported => Int8Product.IsSupported;

    [Theory]
    [InlineData(7, 5, 3, DistanceMetric.Cosine)]      // d not a multiple of 4, fewer rows than a panel or a block
    [InlineData(130, 37, 13, DistanceMetric.Cosine)]  // partial panel and partial item block
    [InlineData(1408, 70, 20, DistanceMetric.Cosine)]
    [InlineData(33, 40, 7, DistanceMetric.Euclidean)]
    [InlineData(1408, 70, 20, DistanceMetric.Cosine, Int8Product.NarrowLevels)] // items at 63 levels: the byte kernels on AVX2
    [InlineData(33, 40, 7, DistanceMetric.Euclidean, Int8Product.NarrowLevels)]
    public void ScoresAreWithinTheBoundOfTheExactDistance(int d, int n, int m, DistanceMetric metric, int levels = 127)
    {
        if (!Supported) { Assert.False(System.Runtime.Intrinsics.X86.Avx2.IsSupported); return; }
        var rng = new Random(d * 31 + n);
        // Index rows of different shapes: gaussian, a spike, a zero row, tiny values.
        var q = new QuantizedRows(d, n);
        var rows = new double[n][];
        for (int j = 0; j < n; j++)
        {
            rows[j] = j switch
            {
                1 => Enumerable.Range(0, d).Select(k => k == d / 2 ? 50.0 : 0.01 * OnlineTestData.Gauss(rng)).ToArray(),
                2 => new double[d],
                3 => Enumerable.Range(0, d).Select(_ => 1e-20 * OnlineTestData.Gauss(rng)).ToArray(),
                _ => Enumerable.Range(0, d).Select(_ => OnlineTestData.Gauss(rng) + 0.3).ToArray(),
            };
            q.Set(j, rows[j]);
        }
        var norms = rows.Select(r => Math.Sqrt(r.Sum(v => v * v))).ToArray();
        for (int j = 0; j < n; j++) q.SetNorm(j, norms[j]);
        var items = new float[m * d];
        for (int i = 0; i < m; i++)
            for (int k = 0; k < d; k++)
                items[i * d + k] = i == 1 ? (k == 0 ? 3f : 1e-4f) : (float)(OnlineTestData.Gauss(rng) + 0.3);
        var itemNorms = Enumerable.Range(0, m).Select(i => DistanceKernels.Norm(items.AsSpan(i * d, d))).ToArray();
        var quantized = Int8Product.Quantize(items, m, d, levels: levels);
        var scores = new float[m * n];
        Int8Product.Scores(metric, quantized, itemNorms, q, n, d, scores);
        double maxNorm = norms.Max(), maxErr = q.Errors.Take(n).Max();
        double maxErrOverNorm = Enumerable.Range(0, n).Where(j => norms[j] > 0).Max(j => q.Errors[j] / norms[j]);
        for (int i = 0; i < m; i++)
        {
            double xn = itemNorms[i];
            double bound = Int8Product.ItemScoreError(metric, xn, quantized.Residuals[i], maxNorm, maxErr, maxErrOverNorm);
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int k = 0; k < d; k++) dot += items[i * d + k] * rows[j][k];
                double exact = metric == DistanceMetric.Cosine
                    ? (norms[j] == 0 ? 1.0 : 1.0 - dot / (xn * norms[j]))
                    : xn * xn + norms[j] * norms[j] - 2 * dot;
                float s = scores[i * n + j];
                double rowBound = Int8Product.RowScoreError(metric, xn, quantized.Residuals[i], norms[j], q.Errors[j]);
                Assert.True(rowBound <= bound, $"row bound {rowBound} above the item's bound {bound}");
                Assert.True(Math.Abs(s - exact) <= rowBound + 1e-6 * (Math.Abs(s) + 1),
                    $"item {i} row {j}: int8 score {s}, exact {exact}, bound {rowBound}");
            }
        }
        // Useful, not vacuous: for gaussian rows and items the cosine bound is a few hundredths.
        if (metric == DistanceMetric.Cosine && d >= 130)
            Assert.InRange(Int8Product.RowScoreError(metric, itemNorms[0], quantized.Residuals[0], norms[0], q.Errors[0]), 1e-4, 0.05);
    }

    /// <summary>Keeps every partial and full score the staged product hands over, and asks for every stage.</summary>
    private readonly unsafe struct RecordingSink(List<(int Item, int J0, int Cols, int Split, float[] Score, float[] Slack)> partial,
        List<(int Item, int J0, int Cols, float[] Score)> full) : Int8Product.IScoreSink
    {
        public void Begin(int task) { }

        public void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores)
        {
            lock (full)
                for (int r = 0; r < Int8Product.ItemRows; r++)
                    if ((open >> r & 1) != 0) full.Add((i0 + r, j0, cols, new ReadOnlySpan<float>(scores + 16 * r, 16).ToArray()));
        }

        public uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack)
        {
            lock (partial)
                for (int r = 0; r < Int8Product.ItemRows; r++)
                    if ((open >> r & 1) != 0)
                        partial.Add((i0 + r, j0, cols, split, new ReadOnlySpan<float>(scores + 16 * r, 16).ToArray(),
                            new ReadOnlySpan<float>(slack + 16 * r, 16).ToArray()));
            return open;
        }
    }

    [Theory]
    [InlineData(130, 37, 13, DistanceMetric.Cosine)]
    [InlineData(37, 20, 7, DistanceMetric.Euclidean)]
    [InlineData(512, 16, 6, DistanceMetric.Cosine)]
    public void PartialScoresAreTheHeadsScoresAndTheirSlackBoundsTheTail(int d, int n, int m, DistanceMetric metric)
    {
        if (!Supported) return;
        // Half the rows share their tail with every item (the tails' dot is then exactly |x_R|·|c_R|, so the
        // Cauchy-Schwarz slack is tight and nothing less would do); the others are independent gaussians.
        var rng = new Random(d + n);
        var splits = Int8Product.SplitGroups(d);
        Assert.NotEmpty(splits);
        int tailFrom = 4 * splits[0];
        var tail = Enumerable.Range(0, d).Select(k => k >= tailFrom ? OnlineTestData.Gauss(rng) + 1 : 0).ToArray();
        var rows = Enumerable.Range(0, n).Select(j => Enumerable.Range(0, d)
            .Select(k => j % 2 == 1 && k >= tailFrom ? tail[k] : OnlineTestData.Gauss(rng) + 0.2).ToArray()).ToArray();
        var q = new QuantizedRows(d, n, staged: true);
        var norms = rows.Select(r => Math.Sqrt(r.Sum(v => v * v))).ToArray();
        for (int j = 0; j < n; j++) { q.Set(j, rows[j]); q.SetNorm(j, norms[j]); }
        var items = new float[m * d];
        for (int i = 0; i < m; i++)
            for (int k = 0; k < d; k++) items[i * d + k] = (float)(k >= tailFrom ? tail[k] : OnlineTestData.Gauss(rng));
        var itemNorms = Enumerable.Range(0, m).Select(i => DistanceKernels.Norm(items.AsSpan(i * d, d))).ToArray();
        var quantized = Int8Product.Quantize(items, m, d, staged: true);
        var partial = new List<(int Item, int J0, int Cols, int Split, float[] Score, float[] Slack)>();
        var full = new List<(int Item, int J0, int Cols, float[] Score)>();
        Int8Product.Scores(metric, quantized, itemNorms, q, n, d, new RecordingSink(partial, full), [.. Enumerable.Range(0, splits.Length)]);
        int panels = (n + 15) / 16;
        Assert.Equal(m * panels * splits.Length, partial.Count); // every stage of every pair was offered
        Assert.Equal(m * panels, full.Count);
        double Score(int i, int j, int upTo)
        {
            double dot = 0;
            for (int k = 0; k < upTo; k++) dot += items[i * d + k] * rows[j][k];
            return metric == DistanceMetric.Cosine ? 1.0 - dot / (itemNorms[i] * norms[j]) : itemNorms[i] * itemNorms[i] + norms[j] * norms[j] - 2 * dot;
        }
        int tight = 0;
        foreach (var (i, j0, cols, split, score, slack) in partial)
        {
            double bound = Int8Product.ItemScoreError(metric, itemNorms[i], quantized.Residuals[i], norms.Max(), q.Errors.Take(n).Max(),
                Enumerable.Range(0, n).Max(j => q.Errors[j] / norms[j]));
            for (int c = 0; c < cols; c++)
            {
                int j = j0 + c;
                double head = Score(i, j, 4 * splits[split]), exact = Score(i, j, d);
                double slop = bound + 1e-6 * (Math.Abs(score[c]) + 1);
                Assert.True(Math.Abs(score[c] - head) <= slop, $"item {i} row {j} split {split}: partial score {score[c]}, the head's {head}");
                Assert.True(score[c] - slack[c] - slop <= exact, $"item {i} row {j} split {split}: {score[c]} - slack {slack[c]} above the score {exact}");
                if (j % 2 == 1 && head - exact > 2 * slop) tight++; // without the slack this pair would be over-bounded
            }
        }
        Assert.True(tight > 0, "no pair needs the slack: the case tests nothing");
    }

    /// <summary>Keeps about two rows in three open at each split (a fixed hash) and keeps the full scores of the rest.</summary>
    private readonly unsafe struct ClosingSink(Dictionary<(int Item, int Row), float> full, int[] openAtEnd) : Int8Product.IScoreSink
    {
        public void Begin(int task) { }

        public static bool KeepsOpen(int item, int j0, int split)
        {
            uint h = (uint)item * 2654435761u ^ (uint)(j0 + 1) * 40503u ^ (uint)(split + 1) * 2246822519u;
            return (h ^ h >> 15) % 3 != 0;
        }

        public void TakeTile(int task, int i0, uint open, int j0, int cols, float* scores)
        {
            lock (full)
            {
                openAtEnd[System.Numerics.BitOperations.PopCount(open)]++;
                for (int r = 0; r < Int8Product.ItemRows; r++)
                    if ((open >> r & 1) != 0)
                        for (int c = 0; c < cols; c++) full.Add((i0 + r, j0 + c), scores[16 * r + c]);
            }
        }

        public uint PartialTile(int task, int i0, uint open, int j0, int cols, int split, float* scores, float* slack)
        {
            uint still = 0;
            for (int r = 0; r < Int8Product.ItemRows; r++)
                if ((open >> r & 1) != 0 && KeepsOpen(i0 + r, j0, split)) still |= 1u << r;
            return still;
        }
    }

    [Theory]
    [InlineData(512, 70, 40, DistanceMetric.Cosine)]
    [InlineData(130, 37, 13, DistanceMetric.Euclidean)]
    public void RowsLeftOpenAfterASplitGetTheUnstagedProductsScores(int d, int n, int m, DistanceMetric metric)
    {
        if (!Supported) return;
        // Tiles with one to six rows still open after a split: the few-row ones run row by row, the others as a tile.
        // Either way the open rows' full scores are the unstaged product's, value for value (the same integer sums).
        var rng = new Random(d * 3 + m);
        var q = new QuantizedRows(d, n, staged: true);
        var rows = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, d).Select(_ => OnlineTestData.Gauss(rng) + 0.2).ToArray()).ToArray();
        var norms = rows.Select(r => Math.Sqrt(r.Sum(v => v * v))).ToArray();
        for (int j = 0; j < n; j++) { q.Set(j, rows[j]); q.SetNorm(j, norms[j]); }
        var items = Enumerable.Range(0, m * d).Select(_ => (float)OnlineTestData.Gauss(rng)).ToArray();
        var itemNorms = Enumerable.Range(0, m).Select(i => DistanceKernels.Norm(items.AsSpan(i * d, d))).ToArray();
        var unstaged = new float[m * n];
        Int8Product.Scores(metric, Int8Product.Quantize(items, m, d), itemNorms, q, n, d, unstaged);
        var full = new Dictionary<(int Item, int Row), float>();
        var openAtEnd = new int[Int8Product.ItemRows + 1];
        // Two of the splits (the first and the fifth): a split the product does not stop at closes nothing.
        int[] stages = [0, 4];
        Assert.True(Int8Product.SplitGroups(d).Length > 4);
        Int8Product.Scores(metric, Int8Product.Quantize(items, m, d, staged: true), itemNorms, q, n, d, new ClosingSink(full, openAtEnd), stages);
        int expected = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                bool open = stages.All(t => ClosingSink.KeepsOpen(i, j / 16 * 16, t));
                if (!open) { Assert.False(full.ContainsKey((i, j)), $"item {i} row {j} was closed but scored"); continue; }
                expected++;
                Assert.True(full.TryGetValue((i, j), out float s), $"item {i} row {j} stayed open but got no score");
                Assert.Equal(unstaged[i * n + j], s);
            }
        Assert.Equal(expected, full.Count);
        Assert.True(openAtEnd[1] + openAtEnd[2] + openAtEnd[3] > 0, "no tile ran row by row: the case tests nothing");
        Assert.True(openAtEnd[4] + openAtEnd[5] + openAtEnd[6] > 0 || m < 24, "no tile ran whole after a split");
    }

    [Fact]
    public void TheCheapestStagesFollowTheCostModelWorkedByHand()
    {
        // 512 dimensions: 128 groups of 4, candidate splits at every eighth.
        var splits = Int8Product.SplitGroups(512);
        Assert.Equal([16, 32, 48, 64, 80, 96, 112], splits);
        Assert.Equal([3, 5], CentreLists.DefaultStages(512)); // 64 and 96 groups: half and three quarters
        const int groups = 128;
        // Nothing settles anywhere: any stop only adds its cost (none: 128 + 40 per pair).
        Assert.Empty(Int8Stages.CheapestStages(splits, groups, new double[7]));
        // Everything settles at the first split: stop there (16 + 40 = 56 against 168); a second stop costs nothing
        // more (no pair left open) and is not taken on a tie.
        Assert.Equal([0], Int8Stages.CheapestStages(splits, groups, [1, 1, 1, 1, 1, 1, 1]));
        // Half settles at 64 groups, the rest at 96. Worked out with TileShare(0.5) = 46/64 (open rows k ~ Bin(6, 1/2),
        // min(1.5k, 6)/6 per tile): none 168; [3] 64 + 40 + 64·46/64 + 40/2 = 170; [5] 96 + 40 = 136;
        // [3, 5] 64 + 40 + 32·46/64 + 20 = 147; [4] 80 + 40 + 48·46/64 + 20 = 174.5; [0, 5] 16 + 40 + 80 + 40 = 176.
        // The cheapest is the single late stop: an early one that settles half the pairs does not pay for itself.
        Assert.Equal([5], Int8Stages.CheapestStages(splits, groups, [0, 0, 0, 0.5, 0.5, 1, 1]));
        // 95% settle at 48 groups, the rest by 96; TileShare(0.05) = 0.0750: [2] 48 + 40 + 80·0.075 + 2 = 96.0;
        // [2, 5] 48 + 40 + 48·0.075 + 2 + 0 = 93.6; [2, 6] 94.8; [2, 4] 95.8: a second, late stop pays here.
        Assert.Equal([2, 5], Int8Stages.CheapestStages(splits, groups, [0, 0, 0.95, 0.96, 0.97, 1, 1]));
    }

    /// <summary>Both kernels where the machine has vpdpbusd (AVX-VNNI, or AVX512-VNNI through Int8VnniCode; the AVX2 ones are
    /// forced off it); the AVX2 ones elsewhere;
    /// items at 127 levels (the widening kernels on AVX2) and at <see cref="Int8Product.NarrowLevels"/> (the byte ones).</summary>
    public static TheoryData<int, int, bool, int> SumCases()
    {
        var data = new TheoryData<int, int, bool, int>();
        foreach (bool vnni in Int8Product.HasVnni ? new[] { true, false } : [false])
            foreach (int levels in new[] { 127, Int8Product.NarrowLevels })
            {
                data.Add(21, 8, vnni, levels);  // d not a multiple of 4, a partial item block
                data.Add(21, 1, vnni, levels);  // one item: the one-row kernel
                data.Add(516, 7, vnni, levels); // a long depth; the extreme rows below sum to ±255·127·516 over it
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(SumCases))]
    public void IntegerSumsAreTheScalarLoopsOverTheSameBytes(int d, int m, bool vnni, int levels)
    {
        if (!Supported) return;
        bool before = Int8Product.UseVnni;
        Int8Product.UseVnni = vnni; // only speed depends on it, so tests running meanwhile are unaffected
        try { IntegerSums(d, m, levels); }
        finally { Int8Product.UseVnni = before; }
    }

    private static void IntegerSums(int d, int m, int levels)
    {
        // With scales of 1 the score's dot is exactly Σ q_x·q_c: build rows and items from integers in [-127, 127].
        // Row 1 is all -127 and row 2 all 127, item 0 all 127 (byte 255): the largest products of either sign, where a
        // 16-bit pair sum would saturate (2·255·127 > 32767); the AVX2 kernels must widen before adding. At 63 levels
        // item 0 is all 63 (byte 127) and the pair sums reach ±2·127·127 = ±32,258, just inside 16 bits.
        const int n = 19;
        var rng = new Random(5 + d + m);
        var q = new QuantizedRows(d, n);
        var cols = new int[n][];
        for (int j = 0; j < n; j++)
        {
            cols[j] = Enumerable.Range(0, d).Select(k => j == 1 ? -127 : j == 2 || k == 0 ? 127 : rng.Next(-127, 128)).ToArray();
            q.Set(j, cols[j].Select(v => (double)v).ToArray()); // max 127: scale exactly 1
            Assert.Equal(1f, q.Scales[j]);
        }
        var items = new float[m * d];
        for (int i = 0; i < m; i++)
            for (int k = 0; k < d; k++) items[i * d + k] = i == 0 ? levels : k == 0 ? -levels : rng.Next(-levels, levels + 1);
        var quantized = Int8Product.Quantize(items, m, d, levels: levels);
        Assert.Equal(levels, quantized.Levels);
        Assert.All(quantized.Scales, s => Assert.Equal(1f, s));
        Assert.All(quantized.Residuals, r => Assert.True(r < 1e-20));
        // Euclidean with zero norms passed in: score = -2·Σ q_x·q_c, so the integer sum is read back exactly.
        var scores = new float[m * n];
        for (int j = 0; j < n; j++) q.SetNorm(j, 0);
        Int8Product.Scores(DistanceMetric.Euclidean, quantized, new double[m], q, n, d, scores);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long sum = 0;
                for (int k = 0; k < d; k++) sum += (long)items[i * d + k] * cols[j][k];
                Assert.Equal(-2.0 * sum, scores[i * n + j]);
            }
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, false, 0.08)]
    [InlineData(DistanceMetric.Cosine, true, 0.08)]
    [InlineData(DistanceMetric.Euclidean, false, 2.8)]
    public void BatchesDecideAsTheFloat32PathTheSingleItemPathAndTheReferenceLoop(DistanceMetric metric, bool firstWithin, double eps)
    {
        // Clumped stream: many items join (and move) clusters within a chunk, others open new ones; 900 items in
        // chunks of 256 exercise moved rows, rows opened in the chunk and rows opened in earlier chunks.
        var x = OnlineTestData.Clumps(1300, 48, 40, 0.25, seed: 11);
        var rng = new Random(12);
        for (int i = 400; i + 3 < 1300; i += 25)
        {
            // A fresh direction, and a near copy three items later: it joins a cluster opened in the same chunk.
            for (int k = 0; k < 48; k++) x.Data[i * 48 + k] = (float)OnlineTestData.Gauss(rng);
            for (int k = 0; k < 48; k++) x.Data[(i + 3) * 48 + k] = x.Data[i * 48 + k] + (float)(0.01 * OnlineTestData.Gauss(rng));
        }
        var init = OnlineTestData.Rows(x, 0, 400);
        var (labels, core) = DbscanOracle.FitCoreRows(init, eps, 3, metric);
        var tables = ClusterTables.Initialise(OnlineTestData.Ids(0, 400), init, labels, core, metric);
        var options = new NearestCentroidOptions { Eps = eps, FirstWithinEps = firstWithin };
        var stream = OnlineTestData.Rows(x, 400, 900);
        var ids = OnlineTestData.Ids(400, 900);

        var withInt8 = new NearestCentroidAssigner(tables.Clone(), options);
        // The float32 path reports exact nearest distances (it never caps at eps): the int8 path's bounds are checked against it.
        var withFloat = new NearestCentroidAssigner(tables.Clone(), options) { UseInt8Screening = false };
        // Stopping at every split, and the exact option (the whole product), decide the same.
        var everyStop = new NearestCentroidAssigner(tables.Clone(), options) { StagesOverride = [.. Enumerable.Range(0, Int8Product.SplitGroups(48).Length)] };
        var exact = new NearestCentroidAssigner(tables.Clone(), options with { ExactNearestDistance = true });
        var single = new NearestCentroidAssigner(tables.Clone(), options);
        var reference = new OnlineTestData.ReferenceLoop(init, tables.ItemClusterIds.ToArray(), metric, eps, firstWithin);
        var predicted = withInt8.PredictBatch(ids, stream);
        var a = withInt8.AssignBatch(ids, stream);
        var b = withFloat.AssignBatch(ids, stream);
        OnlineTestData.AssertOpenerBounds(a, b, eps);
        OnlineTestData.AssertOpenerBounds(everyStop.AssignBatch(ids, stream), b, eps);
        Assert.Equal(b, exact.AssignBatch(ids, stream));
        var singles = Enumerable.Range(0, 900).Select(i => single.Assign(ids[i], stream.Row(i))).ToList();
        OnlineTestData.AssertOpenerBounds(singles, b, eps);
        for (int i = 0; i < 900; i++)
        {
            var (id, isNew) = reference.Assign(stream.Row(i).ToArray());
            Assert.Equal(id, a[i].ClusterId);
            Assert.Equal(isNew, a[i].CreatedCluster);
        }
        Assert.True(withInt8.Tables.SameStateAs(withFloat.Tables));
        // Predictions against the initial tables, too: the first item's prediction is its assignment.
        Assert.Equal(OnlineTestData.Decision(a[0]), OnlineTestData.Decision(predicted[0]));
        int created = a.Count(r => r.CreatedCluster);
        Assert.InRange(created, 20, 880); // both kinds of decision occur
    }

    [Fact]
    public void AfterABatchEveryInt8RowIsTheQuantizationOfItsCentre()
    {
        // A batch repacks the int8 copy of the centres it moved or opened once per chunk, at the chunk's end: after
        // it every row (values, scale, error, sums, panel bytes) must equal a fresh quantization of the centre.
        const int d = 40;
        var x = OnlineTestData.Clumps(1000, d, 30, 0.25, seed: 21);
        var init = OnlineTestData.Rows(x, 0, 300);
        var (labels, core) = DbscanOracle.FitCoreRows(init, 0.08, 3, DistanceMetric.Cosine);
        var tables = ClusterTables.Initialise(OnlineTestData.Ids(0, 300), init, labels, core, DistanceMetric.Cosine);
        var assigner = new NearestCentroidAssigner(tables, new NearestCentroidOptions { Eps = 0.08 });
        var a = assigner.AssignBatch(OnlineTestData.Ids(300, 400), OnlineTestData.Rows(x, 300, 400));
        Assert.Contains(a, r => r.CreatedCluster);
        Assert.Contains(a, r => !r.CreatedCluster);
        int n = tables.ClusterCount;
        var got = tables.Index.Quantized;
        var fresh = new QuantizedRows(d, n);
        var centres = tables.CentreValues.ToArray();
        for (int j = 0; j < n; j++)
        {
            fresh.Set(j, centres.AsSpan(j * d, d));
            fresh.SetNorm(j, tables.CentreNorm(j));
        }
        Assert.Equal(fresh.Values.AsSpan(0, n * d).ToArray(), got.Values.AsSpan(0, n * d).ToArray());
        Assert.Equal(fresh.Scales.AsSpan(0, n).ToArray(), got.Scales.AsSpan(0, n).ToArray());
        Assert.Equal(fresh.Errors.AsSpan(0, n).ToArray(), got.Errors.AsSpan(0, n).ToArray());
        Assert.Equal(fresh.Sums.AsSpan(0, n).ToArray(), got.Sums.AsSpan(0, n).ToArray());
        Assert.Equal(fresh.ScaleOverNorm.AsSpan(0, n).ToArray(), got.ScaleOverNorm.AsSpan(0, n).ToArray());
        int bytes = Int8Product.PanelBytes(n, d);
        Assert.Equal(fresh.Panels.AsSpan(0, bytes).ToArray(), got.Panels.AsSpan(0, bytes).ToArray());
        // The index's running maxima bound every row, as screening assumes.
        Assert.True(tables.Index.MaxQuantError >= got.Errors.AsSpan(0, n).ToArray().Max());
        // And the next batch, screened with the repacked rows, still decides as one item at a time does.
        var next = OnlineTestData.Rows(x, 700, 300);
        var single = tables.Clone();
        var b = assigner.AssignBatch(OnlineTestData.Ids(700, 300), next);
        var one = new NearestCentroidAssigner(single, new NearestCentroidOptions { Eps = 0.08 });
        for (int i = 0; i < 300; i++) Assert.Equal(OnlineTestData.Decision(one.Assign(700 + i, next.Row(i))), OnlineTestData.Decision(b[i]));
    }

    [Fact]
    public void ACentreMovedInTheChunkIsFoundByALaterItemWhoseSnapshotPairWasSettled()
    {
        // Centre C (a cluster of one) at angle 0 in the plane of dims 0 and 1; A at 24° joins it (cosine distance 0.086,
        // eps 0.1) and moves it to about 12°; B at 36° is 0.19 from C as it was (the staged product settles that pair
        // at its first stop: all of the energy is in the head) but 0.086 from C as moved, so B must join C too. Thirty
        // other centres lie in dims 8.. (far from all three), so the table is large enough for the int8 product.
        const int d = 64;
        const double eps = 0.1;
        var rng = new Random(3);
        var centres = EmbeddingMatrix.Zeros(31, d);
        centres.Row(0)[0] = 1f;
        for (int r = 1; r < 31; r++)
            for (int k = 8; k < d; k++) centres.Row(r)[k] = (float)OnlineTestData.Gauss(rng);
        var items = EmbeddingMatrix.Zeros(2, d);
        foreach (var (row, degrees) in new[] { (0, 24.0), (1, 36.0) })
        {
            items.Row(row)[0] = (float)Math.Cos(degrees * Math.PI / 180);
            items.Row(row)[1] = (float)Math.Sin(degrees * Math.PI / 180);
        }
        var t = ClusterTables.Initialise(OnlineTestData.Ids(0, 31), centres, Enumerable.Range(0, 31).ToArray());
        var one = t.Clone();
        var options = new NearestCentroidOptions { Eps = eps };
        var batched = new NearestCentroidAssigner(t, options) { StagesOverride = [0] }.AssignBatch([100, 101], items);
        var single = new NearestCentroidAssigner(one, options);
        var expected = new[] { single.Assign(100, items.Row(0)), single.Assign(101, items.Row(1)) };
        Assert.Equal(expected, batched); // both join: no opened cluster, so every field is exact
        Assert.False(batched[1].CreatedCluster);
        Assert.Equal(batched[0].ClusterId, batched[1].ClusterId);
        Assert.Equal(1 - Math.Cos(24 * Math.PI / 180), batched[0].Distance, 6);
        Assert.True(t.SameStateAs(one));
    }

    [Fact]
    public void TheSparseNearestScreenMatchesTheDenseOne()
    {
        // NearestBoundedSparse over the rows that have a score must give NearestBounded's answer over the table with
        // +∞ elsewhere: same row (lowest on ties), same distance, with changed rows given as bounded extras.
        var rng = new Random(4);
        var norms = Enumerable.Range(0, 200).Select(_ => 1.0).ToArray();
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 200);
            var exactD = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 0.5, 2)).ToArray(); // ties occur
            var dense = Enumerable.Repeat(float.PositiveInfinity, n).ToArray();
            var rows = Enumerable.Range(0, n).Where(_ => rng.NextDouble() < 0.1).ToArray();
            foreach (int j in rows) dense[j] = (float)exactD[j];
            if (trial % 7 == 0) foreach (int j in rows.Take(2)) dense[j] = float.PositiveInfinity; // changed since: +∞ in both
            var rowScores = rows.Select(j => dense[j]).ToArray();
            var extras = Enumerable.Range(0, n).Where(j => float.IsPositiveInfinity(dense[j]) && rng.NextDouble() < 0.05).ToArray();
            var lo = extras.Select(j => exactD[j] - 0.01).ToArray();
            var hi = extras.Select(j => exactD[j] + 0.01).ToArray();
            double Exact(int j) => exactD[j];
            var expected = Screening.NearestBounded(DistanceMetric.Cosine, dense, 1e-7, 1, norms, null, 1e-6, extras, lo, hi, Exact, []);
            var got = Screening.NearestBoundedSparse(DistanceMetric.Cosine, rows, rowScores, 1e-7, 1, norms, 1e-6, extras, lo, hi, Exact);
            Assert.Equal(expected, got);
        }
    }
}
