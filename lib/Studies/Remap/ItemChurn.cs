namespace LabelAssignment.Studies;

/// <summary>
/// Which items of a pool each day clusters, as positions into the pool (row numbers of its embedding matrix, ascending),
/// not item ids: map a position to its item id through the pool's <c>long</c> item ids.
/// </summary>
/// <param name="Yesterday">Items clustered yesterday.</param>
/// <param name="Today">Items clustered today: yesterday's minus <paramref name="Gone"/> plus <paramref name="Added"/>.</param>
/// <param name="Gone">Yesterday's items that are no longer there today.</param>
/// <param name="Added">Items new today (never seen yesterday).</param>
public sealed record DayItems(int[] Yesterday, int[] Today, int[] Gone, int[] Added);

/// <summary>
/// Deterministic item sets for the "realistic" re-clustering experiment: between two days some items disappear and
/// new ones arrive, so the two clusterings label different (overlapping) item sets.
/// </summary>
public static class ItemChurn
{
    /// <summary>
    /// Splits a pool of <paramref name="poolSize"/> items into yesterday's and today's sets. Yesterday holds
    /// round(poolSize / (1 + newFraction)) items drawn at random; the rest of the pool are today's new items; a share
    /// <paramref name="goneFraction"/> of yesterday's items (rounded) is gone today. With both fractions 0.1 the two
    /// days have the same size and share 90% of yesterday's items.
    /// </summary>
    /// <param name="poolSize">Items available (e.g. rows of an embedding file), at least 2.</param>
    /// <param name="goneFraction">Share of yesterday's items missing today, in [0, 1).</param>
    /// <param name="newFraction">New items today, as a share of yesterday's count, in [0, 1].</param>
    /// <param name="seed">The same seed gives the same split (System.Random's seeded sequence).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or fraction out of range.</exception>
    public static DayItems Split(int poolSize, double goneFraction, double newFraction, int seed)
    {
        if (poolSize < 2)
            throw new ArgumentOutOfRangeException(nameof(poolSize), poolSize, "poolSize must be >= 2 (one item for each day at least).");
        if (!(goneFraction >= 0 && goneFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(goneFraction), goneFraction, "goneFraction must be in [0, 1): some of yesterday's items must remain.");
        if (!(newFraction >= 0 && newFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(newFraction), newFraction, "newFraction must be in [0, 1].");
        int yesterday = (int)Math.Round(poolSize / (1 + newFraction), MidpointRounding.AwayFromZero);
        yesterday = Math.Clamp(yesterday, 1, poolSize);
        int gone = Math.Min((int)Math.Round(goneFraction * yesterday, MidpointRounding.AwayFromZero), yesterday - 1);
        var order = Sample(poolSize, poolSize, seed);
        var y = order[..yesterday];
        var goneItems = y[..gone];
        var added = order[yesterday..];
        var today = y[gone..].Concat(added).ToArray();
        Array.Sort(y);
        Array.Sort(goneItems);
        Array.Sort(added);
        Array.Sort(today);
        return new DayItems(y, today, goneItems, added);
    }

    /// <summary>
    /// <paramref name="count"/> distinct positions out of <paramref name="poolSize"/>, in the random order a seeded
    /// Fisher-Yates shuffle gives them (sort them for a subset in pool order).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">count outside [0, poolSize].</exception>
    public static int[] Sample(int poolSize, int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(poolSize);
        if (count < 0 || count > poolSize)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count must be in [0, poolSize={poolSize}].");
        var order = Enumerable.Range(0, poolSize).ToArray();
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int j = random.Next(i, poolSize);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..count];
    }
}
