using System.Numerics.Tensors;
using LabelAssignment.Numerics;

namespace LabelAssignment.Online;

/// <summary>Options of the <see cref="NearestCentroidAssigner"/>, e.g. <c>new NearestCentroidOptions { Eps = 0.25 }</c>.</summary>
public sealed record NearestCentroidOptions
{
    /// <summary>Join a cluster only when its centre is within this distance (the DBSCAN eps, usually); default 0.5,
    /// <see cref="Clustering.DbscanOptions"/>' default.</summary>
    public double Eps { get; init; } = 0.5;

    /// <summary>False (default): the nearest centre within eps wins. True: the first centre within eps in
    /// centre-table order wins, as the article's loop does; kept to reproduce it.</summary>
    public bool FirstWithinEps { get; init; }

    /// <summary>False (default): an item that opens a cluster reports a lower bound on its nearest distance, above eps
    /// (<see cref="Assignment.NearestDistance"/>), which lets the scan stop reading a centre as soon as it is provably
    /// beyond eps. True: the exact nearest distance of every item, from the whole product over every centre (never the
    /// list index; slower). The decisions are the same either way.</summary>
    public bool ExactNearestDistance { get; init; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Eps"/> is not a finite number &gt; 0.</summary>
    public void Validate() => AssignerChecks.ValidateEpsOption(Eps, null);

    /// <summary><see cref="Validate()"/>, and under cosine also <see cref="Eps"/> &lt;= 2 (the range of the distance).</summary>
    internal void Validate(DistanceMetric metric) => AssignerChecks.ValidateEpsOption(Eps, metric);
}

/// <summary>
/// The article's "nearest neighbour" method: a new item joins the cluster whose centre is within eps (the nearest
/// such centre, or the first in table order with <see cref="NearestCentroidOptions.FirstWithinEps"/>) and that
/// centre moves by a running-mean step (O(d), with a member count per cluster); otherwise the item opens a new
/// cluster with a fresh ID and is its centre. This is an approximation of re-clustering: an item inside a large
/// cluster but farther than eps from its centre opens a new cluster, and a non-convex cluster's centre may lie
/// outside it (measure both with <see cref="OnlineDiagnostics"/>).
/// <see cref="Assign"/> and <see cref="AssignBatch"/> commit into the tables given to the constructor;
/// <see cref="Predict"/> and <see cref="PredictBatch"/> never change them.
/// </summary>
/// <remarks>
/// <para>Thread-safe, through the lock the <see cref="ClusterTables"/> own (so two assigners over the same tables
/// are safe too): predictions run in parallel with each other; each <see cref="Assign"/> or <see cref="AssignBatch"/>
/// is one commit that runs alone, a batch atomically (no reader sees part of it; progress is reported inside it);
/// concurrent commits take effect in the order they took the lock. A prediction answers for the tables as they were
/// between two commits.</para>
/// <para>Batches are exact: distances of the whole chunk to the centres as they were at its start come from one
/// product (integer dot products of int8 copies, <see cref="Int8Product"/>, where the machine has AVX-VNNI or AVX2; a float32
/// <see cref="Gemm"/> otherwise), and those of the chunk's items to each other from a second, small one. Int8 scores
/// carry a wide bound (about 0.02 in cosine distance), so the rows it cannot rule out are narrowed again, against the
/// centres' int8 copy and then their float32 rows, for every item of the chunk in parallel before any commit. On AVX2
/// machines without AVX-VNNI the chunk's items are quantized to 63 levels, which the byte kernels multiply without
/// widening (<see cref="Int8Product.ScanLevels"/>); the bound doubles, so the rows it leaves are first re-scored
/// with the item at 127 levels by an exact integer dot. While the items are then
/// resolved in order, a centre moved or opened by an earlier item of the chunk is an affine combination of its
/// snapshot and chunk items, so its distance is bounded from those products without reading it again, and every
/// decision is confirmed with exact float64 distances. The commits refresh a moved or opened centre's float32 row and
/// norm at once and its int8 copy once per chunk, at the chunk's end (nothing in the chunk screens changed rows with
/// it). A single item is screened against an int8 copy of the centres (by the same integer product, one row at a
/// time) (a quarter of the memory traffic of float32) with a rigorous error bound, and decided the same exact way.</para>
/// <para>Under the nearest rule only centres within eps can decide, so the integer product is staged: it stops at a
/// split of the depth (a pilot picks it per call) and reads no further of a panel of 16 centres once every partial
/// score, less the Cauchy-Schwarz bound on the rest, puts them beyond eps; on 1,408-dimensional embeddings at eps 0.1
/// that is after a quarter of the depth for almost every far pair. The nearest distance of an item that opens a
/// cluster is then a lower bound above eps (<see cref="NearestCentroidOptions.ExactNearestDistance"/> keeps the whole
/// product and the exact value).</para>
/// <para>Tables of at least 20,000 centres (the article's method makes every DBSCAN noise point a centre) are
/// searched through an exact within-eps list index (<see cref="CentreLists"/>), batches and single items alike: a
/// chunk of items is scored against the list centroids with one integer product, each item scans only the lists
/// whose bounding ball comes within eps of it (and, inside them, the centres whose ring around the centroid does),
/// in parallel, and the items are then committed in order, a centre moved or opened earlier in the chunk re-tested
/// against its current ring. No centre within eps is skipped, so the chosen cluster and its distance are those of
/// the full scan; a chunk whose probed lists would hold more than 1/16 of the table (a large eps on clustered data)
/// takes the full scan instead. <see cref="Assignment.NearestDistance"/> is then exact when it is within eps; for an
/// item that opens a cluster through the lists it is a lower bound on the nearest distance (still above eps, the
/// evidence for the new cluster) rather than its exact value, which only the full scan gives.</para>
/// </remarks>
public sealed partial class NearestCentroidAssigner : IOnlineAssigner
{
    /// <summary>
    /// An assigner that commits into <paramref name="tables"/>: every <see cref="Assign"/> and
    /// <see cref="AssignBatch"/> adds its items to the label table and moves or opens centres in place (clone the
    /// tables first to try something without keeping it, or use <see cref="Predict"/>).
    /// </summary>
    /// <param name="tables">The tables to search and to commit into.</param>
    /// <param name="options">Eps and the tie rule; validated here (Eps &lt;= 2 under cosine).</param>
    public NearestCentroidAssigner(ClusterTables tables, NearestCentroidOptions options)
    {
        ArgumentNullException.ThrowIfNull(tables);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(tables.Metric);
        Tables = tables;
        Options = options;
    }

    /// <inheritdoc/>
    public ClusterTables Tables { get; }

    /// <summary>The options.</summary>
    public NearestCentroidOptions Options { get; }

    /// <inheritdoc/>
    public Assignment Predict(long itemId, ReadOnlySpan<float> embedding) =>
        PredictBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> PredictBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        CancellationToken cancellationToken = default)
    {
        using var shared = Tables.ReadLock();
        Tables.ValidateBatch(itemIds, embeddings);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count, n = t.ClusterCount;
        var index = t.Index;
        var norms = ItemNorms(embeddings);
        var results = new Assignment[total];
        var buffer = new List<int>();
        float[] scoreBuffer = [], refineBuffer = [];
        int fresh = -1; // the ID an item that opens a cluster would get: the same for every item, nothing is issued
        Assignment Result(int item, int chosen, double chosenD, double nearD)
        {
            if (chosen >= 0) return new Assignment(itemIds[item], t.ClusterIdAtRow(chosen), chosenD, false, nearD);
            if (fresh < 0) fresh = t.Allocator.Peek();
            return new Assignment(itemIds[item], fresh, 0.0, true, nearD);
        }
        var listScratch = new ListScratch();
        var scan = new StagedScan();
        int scanUntil = 0; // items before this go through the full scan (the lists did not pay for their chunk)
        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (start >= scanUntil && !Options.ExactNearestDistance && t.Lists() is { } lists)
            {
                // A large table: each item probes only the lists that can hold a centre within eps.
                int lm = Math.Min(ListChunkRows, total - start);
                if (PredictListChunk(lists, itemIds, embeddings, norms, results, start, lm, listScratch)) { start += lm; continue; }
                scanUntil = start + lm;
            }
            int limit = start < scanUntil ? scanUntil : total;
            int m = Math.Min(AssignerChecks.ChunkRows(n), limit - start);
            var scores = ScoreBuffer(ref scoreBuffer, (long)m * n);
            var quantizedItems = ChunkScores(embeddings.Data.AsSpan(start * d, m * d), m, norms[start..(start + m)], n, scores, m == 1, scan);
            bool staged = quantizedItems is not null && scan.Stages.Length > 0;
            // An overflowed score bounds nothing: then every row is measured (settled pairs are +∞ by design).
            bool trusted = staged ? !scan.NonFinite : Screening.AllFinite(scores.AsSpan(0, m * n));
            for (int i = 0; i < m; i++)
            {
                int item = start + i;
                var (chosen, chosenD, nearD) = Decide(embeddings.Data, item, norms[item], scores.AsSpan(i * n, n), m == 1,
                    Int8Error(quantizedItems, i, norms[item]), quantizedItems?.Residuals[i] ?? double.NaN, quantizedItems?.Levels ?? 127,
                    default, default, default, buffer, trusted, ref refineBuffer, null, staged ? scan : null, i);
                results[item] = Result(item, chosen, chosenD, nearD);
            }
            start += m;
        }
        return results;
    }

    /// <inheritdoc/>
    public Assignment Assign(long itemId, ReadOnlySpan<float> embedding) =>
        AssignBatch([itemId], Tables.SingleRow(embedding))[0];

    /// <inheritdoc/>
    public IReadOnlyList<Assignment> AssignBatch(IReadOnlyList<long> itemIds, EmbeddingMatrix embeddings,
        IProgress<WorkProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var exclusive = Tables.WriteLock(); // the whole batch is one commit
        Tables.ValidateBatch(itemIds, embeddings);
        Tables.ReserveItems(embeddings.Count);
        var t = Tables;
        int d = t.Dimension, total = embeddings.Count;
        var metric = t.Metric;
        var results = new Assignment[total];
        var norms = ItemNorms(embeddings);
        double factor = DistanceKernels.DotErrorFactor(d);
        var buffer = new List<int>();
        float[] scoreBuffer = [], refineBuffer = [], gramBuffer = []; // grown once per call, reused across its chunks

        var listScratch = new ListScratch();
        var scan = new StagedScan();
        int scanUntil = 0; // items before this go through the full scan (the lists did not pay for their chunk)
        for (int start = 0; start < total; )
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (start >= scanUntil && !Options.ExactNearestDistance && t.Lists() is { } lists)
            {
                // A large table: each item probes only the lists that can hold a centre within eps (the lists follow
                // every move and open, so the next item sees it).
                int lm = Math.Min(ListChunkRows, total - start);
                if (AssignListChunk(lists, itemIds, embeddings, norms, results, start, lm, listScratch))
                {
                    start += lm;
                    progress?.Report(new WorkProgress("nearest centroid assignment", start, total));
                    continue;
                }
                scanUntil = start + lm;
            }
            int limit = start < scanUntil ? scanUntil : total;
            int n0 = t.ClusterCount; // centres as at the start of the chunk: the snapshot the scores are against
            int m = Math.Min(AssignerChecks.ChunkRows(n0), limit - start);
            bool single = m == 1; // one item alone is screened with the int8 copy (nothing can move within its chunk)
            var chunk = embeddings.Data.AsSpan(start * d, m * d);
            var chunkNorms = norms[start..(start + m)];
            var scores = ScoreBuffer(ref scoreBuffer, (long)m * n0);
            var quantizedItems = ChunkScores(chunk, m, chunkNorms, n0, scores, single, scan);
            bool staged = quantizedItems is not null && scan.Stages.Length > 0; // settled pairs: +∞, bounded in scan
            // The clusters the chunk's items open are those items: their scores, as opened, are the chunk's Gram matrix.
            float[] gram = [];
            double[] snapNorms = [];
            if (!single)
            {
                gram = ScoreBuffer(ref gramBuffer, (long)m * m);
                DistanceKernels.LowerGram(metric, chunk, m, chunkNorms, d, gram);
                snapNorms = t.Index.Norms.AsSpan(0, n0).ToArray();
            }
            bool trusted = (staged ? !scan.NonFinite : Screening.AllFinite(scores.AsSpan(0, m * n0)))
                && Screening.AllFinite(gram.AsSpan(0, single ? 0 : m * m)); // else every row is measured
            double cap = ScoreCap();
            // The float32 re-scoring of int8 candidates does not depend on the chunk's commits: run it in parallel.
            Int8Candidates?[] candidates = new Int8Candidates?[m];
            if (quantizedItems is not null && trusted)
            {
                var scoreArray = scores;
                var data = embeddings.Data;
                Parallel.For(0, m, i => candidates[i] = Int8Refine(data.AsSpan((start + i) * d, d), norms[start + i],
                    quantizedItems.Residuals[i], quantizedItems.Levels, scoreArray.AsSpan(i * n0, n0), Int8Error(quantizedItems, i, norms[start + i]), default,
                    cap));
            }
            // Rows changed since the snapshot (moved rows < n0, every row opened in the chunk) are affine combinations
            // of their snapshot (a centre, or the chunk item that opened it) and chunk items: c = α·base + Σ β·x_q.
            // Their dot with an item follows from scores already computed (the Gemm's and the Gram's), with an error
            // bound, so no centre is re-read.
            // (One item alone changes nothing before its own decision: no bookkeeping to allocate.)
            var alpha = single ? [] : new double[n0 + m];
            var terms = single ? [] : new List<(int Item, double Beta)>?[n0 + m];
            var dirty = single ? [] : new bool[n0];
            var dirtyRows = new List<int>();
            var openedBy = new int[m];
            var extraRows = new int[m];
            var extraLo = new double[m];
            var extraHi = new double[m];
            // The chunk's commits screen changed rows from bounds, not from their int8 copy: repack those once, at the end.
            if (!single) t.DeferQuantized();
            try
            {
                for (int i = 0; i < m; i++)
                {
                    int item = start + i;
                    var x = embeddings.Data.AsSpan(item * d, d);
                    double xn = norms[item];
                    int count = t.ClusterCount;
                    var row = scores.AsSpan(i * n0, n0);
                    double int8Error = Int8Error(quantizedItems, i, xn);
                    int ne = 0;
                    foreach (int j in dirtyRows)
                    {
                        if (staged && float.IsPositiveInfinity(row[j]))
                        {
                            // Settled at the snapshot: only a lower bound on its score there, so only one on the moved row's.
                            (extraLo[ne], extraHi[ne]) = SettledChangedRowBounds(metric, factor, xn, snapNorms[j], scan.LowerOf(i, j), alpha[j], terms[j],
                                gram.AsSpan(i * m, m), chunkNorms, t.CentreNorm(j));
                            extraRows[ne++] = j;
                            continue;
                        }
                        double baseError = double.IsNaN(int8Error)
                            ? DistanceKernels.ScoreError(metric, factor, xn, snapNorms[j], row[j])
                            : int8Error + 1e-6 * (Math.Abs(row[j]) + 1.0);
                        (extraLo[ne], extraHi[ne]) = ChangedRowBounds(metric, factor, xn, snapNorms[j], row[j], baseError, alpha[j], terms[j],
                            gram.AsSpan(i * m, m), chunkNorms, t.CentreNorm(j));
                        extraRows[ne++] = j;
                        row[j] = float.PositiveInfinity;
                    }
                    for (int r = n0; r < count; r++)
                    {
                        int src = openedBy[r - n0];
                        (extraLo[ne], extraHi[ne]) = ChangedRowBounds(metric, factor, xn, chunkNorms[src], gram[i * m + src],
                            DistanceKernels.ScoreError(metric, factor, xn, chunkNorms[src], gram[i * m + src]), alpha[r], terms[r],
                            gram.AsSpan(i * m, m), chunkNorms, t.CentreNorm(r));
                        extraRows[ne++] = r;
                    }

                    var (chosen, chosenD, nearD) = Decide(embeddings.Data, item, xn, row, single, int8Error,
                        quantizedItems?.Residuals[i] ?? double.NaN, quantizedItems?.Levels ?? 127,
                        extraRows.AsSpan(0, ne), extraLo.AsSpan(0, ne), extraHi.AsSpan(0, ne), buffer, trusted, ref refineBuffer, candidates[i],
                        staged ? scan : null, i);
                    long id = itemIds[item];
                    if (chosen >= 0)
                    {
                        t.JoinCluster(id, x, chosen);
                        if (!single)
                        {
                            if (chosen < n0 && !dirty[chosen]) { dirty[chosen] = true; dirtyRows.Add(chosen); alpha[chosen] = 1; }
                            // Running mean: c ← (1 - 1/n)·c + (1/n)·x.
                            double inv = 1.0 / t.CountAtRow(chosen), keep = 1 - inv;
                            alpha[chosen] *= keep;
                            var list = terms[chosen] ??= [];
                            for (int q = 0; q < list.Count; q++) list[q] = (list[q].Item, list[q].Beta * keep);
                            list.Add((i, inv));
                        }
                        results[item] = new Assignment(id, t.ClusterIdAtRow(chosen), chosenD, false, nearD);
                    }
                    else
                    {
                        int r = t.OpenCluster(id, x);
                        if (!single) { openedBy[r - n0] = i; alpha[r] = 1; }
                        results[item] = new Assignment(id, t.ClusterIdAtRow(r), 0.0, true, nearD);
                    }
                }
            }
            finally
            {
                t.FlushQuantized();
            }
            start += m;
            progress?.Report(new WorkProgress("nearest centroid assignment", start, total));
        }
        return results;
    }

    /// <summary>Lists probed so far by items decided through the list index (a bench figure; not synchronised).</summary>
    internal long ListsProbed { get; private set; }

    /// <summary>
    /// The exact dot product x·c lies in [mid - radius, mid + radius], given the screening score of x against c
    /// (norm <paramref name="cn"/>) and its error bound <paramref name="e"/>.
    /// </summary>
    private static (double Mid, double Radius) DotInterval(DistanceMetric metric, double xn, double cn, float score, double e)
    {
        if (metric == DistanceMetric.Cosine)
            return cn == 0 ? (0, 0) : (xn * cn * (1 - score), xn * cn * e);
        return ((xn * xn + cn * cn - score) / 2, e / 2);
    }

    /// <summary>
    /// Bounds [lo, hi] on the score (cosine distance, or squared euclidean) of a changed row c = α·base + Σ β·x_q,
    /// from the item's screening score against the base (error bound <paramref name="baseError"/>) and its Gram scores
    /// against the chunk items x_q.
    /// </summary>
    private static (double Lo, double Hi) ChangedRowBounds(DistanceMetric metric, double factor, double xn, double baseNorm,
        float baseScore, double baseError, double alpha, List<(int Item, double Beta)>? terms, ReadOnlySpan<float> gramRow, double[] chunkNorms, double cn)
    {
        var (mid, radius) = DotInterval(metric, xn, baseNorm, baseScore, baseError);
        double dot = alpha * mid, err = Math.Abs(alpha) * radius, size = Math.Abs(alpha * mid);
        if (terms is not null)
            foreach (var (q, beta) in terms)
            {
                var (mq, rq) = DotInterval(metric, xn, chunkNorms[q], gramRow[q],
                    DistanceKernels.ScoreError(metric, factor, xn, chunkNorms[q], gramRow[q]));
                dot += beta * mq;
                err += Math.Abs(beta) * rq;
                size += Math.Abs(beta * mq);
            }
        // Rounding of this sum and of the running-mean updates themselves (the stored centre is the affine
        // combination only up to a few ulps per coordinate and step).
        err += 1e-9 * (size + xn * cn) + 1e-300;
        if (!double.IsFinite(dot) || !double.IsFinite(err)) return (double.NegativeInfinity, double.PositiveInfinity);
        if (metric == DistanceMetric.Cosine)
        {
            if (cn == 0 || xn == 0) return (double.NegativeInfinity, double.PositiveInfinity); // distance 1 by convention
            double scale = xn * cn;
            return (1 - (dot + err) / scale, 1 - (dot - err) / scale);
        }
        double sq = xn * xn + cn * cn, slack = 1e-9 * sq;
        return (sq - 2 * (dot + err) - slack, sq - 2 * (dot - err) + slack);
    }

    /// <summary>
    /// The rule, from one item's screening scores against the rows it has a valid score for (+∞ for the rest) and
    /// bounds for the rows changed since (<paramref name="extraRows"/>): the chosen row (-1: open a cluster), its
    /// exact distance, and the exact nearest distance.
    /// </summary>
    private (int Chosen, double ChosenDistance, double NearestDistance) Decide(float[] xa, int item, double xn,
        ReadOnlySpan<float> scores, bool quantized, double int8Error, double residual, int levels, ReadOnlySpan<int> extraRows, ReadOnlySpan<double> extraLo,
        ReadOnlySpan<double> extraHi, List<int> buffer, bool trusted, ref float[] refineBuffer, Int8Candidates? pre = null,
        StagedScan? settled = null, int chunkItem = -1)
    {
        var t = Tables;
        var metric = t.Metric;
        var index = t.Index;
        int d = t.Dimension, off = item * d;
        double eps = Options.Eps, factor = DistanceKernels.DotErrorFactor(d);
        if (!double.IsNaN(int8Error) && trusted)
        {
            // Int8 scores: keep only the rows the int8 bound cannot rule out, re-scored in float32 (+∞ elsewhere),
            // then decide on those exactly as for float32 scores. The candidates were found before the chunk's
            // commits; they still hold when none of the rows that set their bounds has changed since (a superset: rows
            // changed since are +∞ in the scores, bounded among the extras, and extras only lower the bound).
            // Under the nearest rule only centres within eps matter (unless the exact nearest distance is asked for):
            // the scores are capped at eps's, so an item far from every centre has no candidates at all.
            double cap = ScoreCap();
            var c = pre is not null && pre.StillHolds(scores) ? pre
                : Int8Refine(xa.AsSpan(off, d), xn, residual, levels, scores, int8Error, extraHi, cap);
            if (c.Finite && !Options.FirstWithinEps)
            {
                // The nearest rule needs only the candidates: no pass over the whole table (this loop runs alone).
                var rowScores = c.Scores;
                for (int k = 0; k < c.Rows.Length; k++)
                    if (float.IsPositiveInfinity(scores[c.Rows[k]])) { rowScores = ChangedSince(c, scores); break; }
                double fe = Screening.MaxRowError(metric, factor, xn, index.MaxNorm, false, index.MaxQuantError, index.MaxQuantErrorOverNorm);
                var (row, dist) = Screening.NearestBoundedSparse(metric, c.Rows, rowScores, factor, xn, index.Norms, fe,
                    extraRows, extraLo, extraHi, j => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, t.CentreRowSpan(j), t.CentreNorm(j)), cap);
                if (dist <= eps) return (row, dist, dist);
                if (double.IsFinite(cap))
                    dist = OpenerLowerBound(xa.AsSpan(off, d), xn, scores, residual, settled?.SettledMin(chunkItem) ?? double.PositiveInfinity,
                        extraRows, extraLo, dist, buffer);
                return (-1, double.PositiveInfinity, dist);
            }
            if (refineBuffer.Length < scores.Length) refineBuffer = new float[Math.Max(scores.Length, 2 * refineBuffer.Length)];
            var refined = refineBuffer.AsSpan(0, scores.Length);
            refined.Fill(float.PositiveInfinity);
            for (int k = 0; k < c.Rows.Length; k++)
            {
                int j = c.Rows[k];
                if (!float.IsPositiveInfinity(scores[j])) refined[j] = c.Scores[k];
            }
            scores = refined;
            quantized = false;
            trusted = c.Finite; // an overflowed float32 score bounds nothing: then every row is measured
        }
        var cn = index.Norms;
        double[]? quantErr = quantized ? index.Quantized.Errors : null;
        double maxErr = Screening.MaxRowError(metric, factor, xn, index.MaxNorm, quantized, index.MaxQuantError, index.MaxQuantErrorOverNorm);
        double Exact(int j) => DistanceKernels.Distance(metric, xa.AsSpan(off, d), xn, t.CentreRowSpan(j), t.CentreNorm(j));
        var (nearRow, nearD) = Screening.NearestBounded(metric, scores, factor, xn, cn, quantErr, maxErr,
            extraRows, extraLo, extraHi, Exact, buffer, trusted);
        int chosen;
        double chosenD;
        if (Options.FirstWithinEps)
            (chosen, chosenD) = Screening.FirstWithinBounded(metric, scores, factor, xn, cn, quantErr, maxErr, eps,
                extraRows, extraLo, Exact, buffer, trusted);
        else
            (chosen, chosenD) = nearD <= eps ? (nearRow, nearD) : (-1, double.PositiveInfinity);
        return (chosen, chosenD, nearD);
    }

    /// <summary>The candidates' scores with +∞ for rows changed since they were found (the caller bounds those).</summary>
    private static float[] ChangedSince(Int8Candidates c, ReadOnlySpan<float> scores)
    {
        var r = (float[])c.Scores.Clone();
        for (int k = 0; k < r.Length; k++)
            if (float.IsPositiveInfinity(scores[c.Rows[k]])) r[k] = float.PositiveInfinity;
        return r;
    }

    /// <summary>
    /// Whether batches screen with the int8 product (<see cref="Int8Product"/>) where the machine has it; false keeps
    /// the float32 <see cref="Gemm"/> (tests compare the two).
    /// </summary>
    internal bool UseInt8Screening { get; set; } = Int8Product.IsSupported;

    /// <summary>Whether the full scan may stop reading centres beyond eps (<see cref="StagedScores"/>); false keeps the
    /// whole product (tests compare the two; only speed and an opened cluster's nearest-distance bound depend on it).</summary>
    internal bool UseStagedScan { get; set; } = true;

    private static float[] ScoreBuffer(ref float[] buffer, long length)
    {
        // Geometric growth: the table grows chunk by chunk within a batch, and every fresh large array costs its page
        // faults again (about a third of the product's time on a VM where faults are dear).
        if (buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(checked((int)Math.Min(Math.Max(length, 3L * buffer.Length / 2), Array.MaxLength)));
        return buffer;
    }

    /// <summary>
    /// Screening scores of a chunk against the first <paramref name="n"/> centres: int8 products for a batch where
    /// enabled (returns the quantized items, whose bounds <see cref="Int8Error"/> gives), float32 otherwise (null).
    /// </summary>
    private Int8Product.Items? ChunkScores(ReadOnlySpan<float> chunk, int m, double[] chunkNorms, int n, float[] scores, bool single,
        StagedScan scan)
    {
        var t = Tables;
        int d = t.Dimension;
        scan.Stages = [];
        if (UseInt8Screening && Int8Product.IsSupported && d <= Int8Product.MaxDimension && n >= Int8Product.PanelRows)
        {
            bool staged = CapAtEps && UseStagedScan && t.Index.Quantized.Staged;
            var items = Int8Product.Quantize(chunk, m, d, staged, levels: Int8Product.ScanLevels);
            if (staged) StagedScores(items, chunkNorms, n, scores, scan);
            else Int8Product.Scores(t.Metric, items, chunkNorms, t.Index.Quantized, n, d, scores);
            return items;
        }
        DistanceKernels.Scores(t.Metric, chunk, m, chunkNorms, t.Index.Rows, n, t.Index.Norms, d, scores, single ? t.Index.Quantized : null);
        return null;
    }

    /// <summary>An item's rows that int8 screening could not rule out, with their float32 scores.</summary>
    private sealed class Int8Candidates
    {
        /// <summary>The row with the smallest int8 score (its bound set the threshold).</summary>
        public int Nearest = -1;
        public int[] Rows = [];
        public float[] Scores = [];
        /// <summary>Whether every float32 score is finite (else their bounds hold nothing).</summary>
        public bool Finite = true;
        /// <summary>The rows whose scores set the upper bounds that ruled rows out, at each step (the nearest int8
        /// score's, and the least upper bound of each re-scoring; -1: none). A row that moves after the candidates
        /// were found no longer bounds the nearest distance, so the candidates hold only while none of these has.</summary>
        public int BoundByFine = -1, BoundBySecond = -1;

        /// <summary>Whether the candidates still hold against <paramref name="scores"/> (+∞ for rows changed since).</summary>
        public bool StillHolds(ReadOnlySpan<float> scores) =>
            (Nearest < 0 || float.IsFinite(scores[Nearest])) && (BoundByFine < 0 || float.IsFinite(scores[BoundByFine]))
            && (BoundBySecond < 0 || float.IsFinite(scores[BoundBySecond]));
    }

    /// <summary>
    /// The rows whose int8 score could be the nearest (or within eps under
    /// <see cref="NearestCentroidOptions.FirstWithinEps"/>), narrowed in two steps and re-scored in float32: the
    /// item-by-centre int8 scores (each row's bound: <see cref="Int8Product.RowScoreError"/>; all of them at most
    /// <paramref name="int8Error"/>, which one SIMD pass uses first), then the item's float32 values against the
    /// int8 copy (<see cref="QuantizedRows.Dot(ReadOnlySpan{float}, int)"/>: only the centre's rounding remains, about half the bound), and
    /// the float32 rows for what is left. Rows scored +∞ (changed since the scores) are left to the caller's extras,
    /// whose upper bounds <paramref name="extraHi"/> may lower the threshold.
    /// </summary>
    private Int8Candidates Int8Refine(ReadOnlySpan<float> x, double xn, double residual, int levels, ReadOnlySpan<float> scores, double int8Error,
        ReadOnlySpan<double> extraHi, double cap)
    {
        var t = Tables;
        var metric = t.Metric;
        var index = t.Index;
        var quant = index.Quantized;
        var errors = quant.Errors;
        var norms = index.Norms;
        int d = t.Dimension;
        var result = new Int8Candidates();
        double Err1(int j, float sj) => Int8Product.RowScoreError(metric, xn, residual, norms[j], errors[j]) + 1e-6 * (Math.Abs(sj) + 1.0);
        double upper = double.PositiveInfinity;
        if (scores.Length > 0)
        {
            result.Nearest = TensorPrimitives.IndexOfMin(scores);
            float smin = scores[result.Nearest];
            if (float.IsFinite(smin)) upper = smin + Err1(result.Nearest, smin);
        }
        // Capped at eps: then the nearest int8 row no longer sets the bound, and its moving later changes nothing.
        if (!(upper < cap)) { upper = cap; result.Nearest = -1; }
        foreach (double hi in extraHi) upper = Math.Min(upper, hi);
        double thr = DistanceKernels.ToScore(metric, Options.Eps);
        bool first = Options.FirstWithinEps;
        float threshold = Screening.CandidateThreshold(upper, int8Error);
        if (first) threshold = Math.Max(threshold, Screening.CandidateThreshold(thr, int8Error));
        var rows = new List<int>();
        Screening.CollectAtMost(scores, threshold, rows);
        if (levels < 127 && rows.Count > FineRescoreFrom)
            (upper, result.BoundByFine) = FineRescore(x, xn, scores, rows, upper, first, thr);
        // Step 1: each row's own int8 bound. Step 2: the float32 item against the row's int8 copy.
        var second = new List<(int Row, double Score, double Error)>();
        double upper2 = upper;
        foreach (int j in rows)
        {
            float sj = scores[j];
            if (float.IsPositiveInfinity(sj)) continue;
            double lo1 = sj - Err1(j, sj);
            if (lo1 > upper && !(first && lo1 <= thr)) continue;
            double cn = norms[j];
            double dot = quant.Dot(x, j);
            double s2 = metric == DistanceMetric.Cosine ? (cn == 0 ? 1.0 : 1.0 - dot / (xn * cn)) : xn * xn + cn * cn - 2.0 * dot;
            double e2 = DistanceKernels.QuantizedScoreError(metric, errors[j], xn, cn, s2);
            if (!double.IsFinite(s2) || !double.IsFinite(e2))
            {
                second.Add((j, double.NaN, double.NaN)); // overflowed: it bounds nothing, so the row stays
                continue;
            }
            second.Add((j, s2, e2));
            if (s2 + e2 < upper2) { upper2 = s2 + e2; result.BoundBySecond = j; }
        }
        var kept = new List<int>();
        foreach (var (j, s2, e2) in second)
        {
            double lo2 = s2 - e2;
            if (lo2 <= upper2 || (first && lo2 <= thr) || double.IsNaN(lo2)) kept.Add(j);
        }
        // Step 3: float32 scores of the rows left, for the caller's float32 screening and exact decision.
        result.Rows = kept.ToArray();
        result.Scores = new float[result.Rows.Length];
        var data = index.Rows;
        for (int k = 0; k < result.Rows.Length; k++)
        {
            int j = result.Rows[k];
            // Tiny rows (|x|·|c| below 1e-30): float32 products would underflow, which the bound does not cover, so
            // the dot is summed in float64 there (every product of two float32 values is exact in it).
            double dot = xn * norms[j] < 1e-30 ? DistanceKernels.Dot(x, data.AsSpan(j * d, d)) : TensorPrimitives.Dot(x, data.AsSpan(j * d, d));
            float r = DistanceKernels.ScoreFromDot(metric, dot, xn, norms[j]);
            result.Scores[k] = r;
            result.Finite &= float.IsFinite(r);
        }
        return result;
    }

    /// <summary>Candidates from a narrow product (<see cref="Int8Product.NarrowLevels"/>) above which they are first
    /// re-scored at 127 levels (<see cref="FineRescore"/>): an integer dot is a fraction of the float32-by-int8 one.</summary>
    private const int FineRescoreFrom = 4;

    /// <summary>Candidate rows ahead of the one being re-scored whose int8 values are asked for: the rows are scattered
    /// over the table, so each one's first lines would otherwise miss.</summary>
    private const int PrefetchAhead = 2;

    /// <summary>
    /// The rows of <paramref name="rows"/> (collected from a narrow product's scores) that can still be the nearest
    /// (or within eps under <see cref="NearestCentroidOptions.FirstWithinEps"/>) once re-scored with the item at 127
    /// levels against each row's int8 copy (<see cref="QuantizedRows.IntDot"/>: an exact integer dot, so the
    /// bound is <see cref="Int8Product.RowScoreError"/> at half the narrow residual); filters
    /// <paramref name="rows"/> in place and returns the upper bound on the nearest score, lowered by what it saw, and
    /// the row that lowered it last (-1: none did).
    /// </summary>
    private (double Upper, int BoundRow) FineRescore(ReadOnlySpan<float> x, double xn, ReadOnlySpan<float> scores, List<int> rows, double upper, bool first, double thr)
    {
        var t = Tables;
        var metric = t.Metric;
        var index = t.Index;
        var quant = index.Quantized;
        var errors = quant.Errors;
        var scales = quant.Scales;
        var norms = index.Norms;
        int d = t.Dimension;
        sbyte[]? rented = d > 4096 ? System.Buffers.ArrayPool<sbyte>.Shared.Rent(d) : null;
        Span<sbyte> qx = rented is null ? stackalloc sbyte[d] : rented.AsSpan(0, d);
        try
        {
            var (sx, rx) = Int8Product.QuantizeRow(x, qx);
            int boundRow = -1;
            if (sx == 0 || !double.IsFinite(rx)) return (upper, boundRow); // no 127-level copy: keep the rows as they are
            var lo = new double[rows.Count];
            for (int k = 0; k < rows.Count; k++)
            {
                int j = rows[k];
                if (k + PrefetchAhead < rows.Count) quant.Prefetch(rows[k + PrefetchAhead]); // rows are scattered: hide the first miss
                if (float.IsPositiveInfinity(scores[j])) { lo[k] = double.PositiveInfinity; continue; } // changed since: the caller's extras
                double cn = norms[j];
                double dot = (double)sx * scales[j] * quant.IntDot(qx, j); // exact up to one rounding
                double sj = metric == DistanceMetric.Cosine ? (cn == 0 || xn == 0 ? 1.0 : 1.0 - dot / (xn * cn)) : xn * xn + cn * cn - 2.0 * dot;
                double e = Int8Product.RowScoreError(metric, xn, rx, cn, errors[j]) + 1e-6 * (Math.Abs(sj) + 1.0);
                if (!double.IsFinite(sj) || !double.IsFinite(e)) { lo[k] = double.NegativeInfinity; continue; } // bounds nothing: keep
                lo[k] = sj - e;
                if (sj + e < upper) { upper = sj + e; boundRow = j; }
            }
            int keep = 0;
            for (int k = 0; k < rows.Count; k++)
                if (lo[k] <= upper || (first && lo[k] <= thr) || float.IsPositiveInfinity(scores[rows[k]])) rows[keep++] = rows[k];
            rows.RemoveRange(keep, rows.Count - keep);
            return (upper, boundRow);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<sbyte>.Shared.Return(rented);
        }
    }

    /// <summary>The int8 bound E of chunk item <paramref name="i"/>'s scores (NaN for float32 scores).</summary>
    private double Int8Error(Int8Product.Items? items, int i, double xn)
    {
        if (items is null) return double.NaN;
        var index = Tables.Index;
        return Int8Product.ItemScoreError(Tables.Metric, xn, items.Residuals[i], index.MaxNorm, index.MaxQuantError, index.MaxQuantErrorOverNorm);
    }

    private static double[] ItemNorms(EmbeddingMatrix embeddings)
    {
        int d = embeddings.Dimension;
        var norms = new double[embeddings.Count];
        for (int i = 0; i < norms.Length; i++) norms[i] = DistanceKernels.Norm(embeddings.Data.AsSpan(i * d, d));
        return norms;
    }
}
