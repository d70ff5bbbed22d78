namespace LabelAssignment.Ids;

/// <summary>
/// A labelling of items: each item id (a <see cref="long"/>, unique) carries one label, a cluster ID &gt;= 0 or -1 for
/// noise. This is the one input type of everything that compares or remaps labellings (the overlap, the remapper, the
/// match rate, the evaluations), so the rules are checked here once. Immutable: the constructor copies its inputs.
/// </summary>
public sealed class Labeling
{
    /// <summary>The label of an item in no cluster.</summary>
    public const int Noise = -1;

    private readonly long[] _itemIds;
    private readonly int[] _labels;
    private readonly Dictionary<long, int> _indexOf;
    private int[]? _clusterIds;

    /// <summary>Validates and copies the item ids and their labels.</summary>
    /// <param name="itemIds">The items, each id once.</param>
    /// <param name="labels">The label of each item (same length): a cluster ID &gt;= 0, or -1 for noise.</param>
    /// <exception cref="ArgumentException">No items, lengths that differ, or an id that repeats (the id and both
    /// indices are named).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label below -1 (its index is named).</exception>
    public Labeling(ReadOnlySpan<long> itemIds, ReadOnlySpan<int> labels)
    {
        if (itemIds.IsEmpty)
            throw new ArgumentException("itemIds is empty: a labelling needs at least one item.", nameof(itemIds));
        if (labels.Length != itemIds.Length)
            throw new ArgumentException(
                $"labels has {labels.Length} entries but itemIds has {itemIds.Length}: one label per item.", nameof(labels));
        for (int k = 0; k < labels.Length; k++)
            if (labels[k] < Noise)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[k],
                    $"labels[{k}] = {labels[k]}: a label is a cluster ID >= 0, or -1 for noise.");
        _indexOf = new Dictionary<long, int>(itemIds.Length);
        for (int k = 0; k < itemIds.Length; k++)
            if (!_indexOf.TryAdd(itemIds[k], k))
                throw new ArgumentException(
                    $"itemIds holds item id {itemIds[k]} twice (at index {_indexOf[itemIds[k]]} and {k}): each item has one label.",
                    nameof(itemIds));
        _itemIds = itemIds.ToArray();
        _labels = labels.ToArray();
    }

    /// <summary>Number of items.</summary>
    public int Count => _itemIds.Length;

    /// <summary>The item ids, in the order given.</summary>
    public ReadOnlySpan<long> ItemIds => _itemIds;

    /// <summary>The label of each item, aligned with <see cref="ItemIds"/> (-1 noise).</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>The distinct cluster IDs (every label except -1), ascending.</summary>
    public ReadOnlySpan<int> ClusterIds => _clusterIds ??= DistinctClusters(_labels);

    /// <summary>The label of item <paramref name="itemId"/>, if the labelling holds it.</summary>
    public bool TryGetLabel(long itemId, out int label)
    {
        if (_indexOf.TryGetValue(itemId, out int k))
        {
            label = _labels[k];
            return true;
        }
        label = Noise;
        return false;
    }

    /// <summary>
    /// The one join of two days by item id: the items both labellings hold, in <paramref name="today"/>'s order, with
    /// each one's label on either day (noise included). Empty when they share no item.
    /// </summary>
    public static JoinedLabelings Join(Labeling yesterday, Labeling today)
    {
        ArgumentNullException.ThrowIfNull(yesterday);
        ArgumentNullException.ThrowIfNull(today);
        int capacity = Math.Min(yesterday.Count, today.Count);
        var ids = new long[capacity];
        var before = new int[capacity];
        var after = new int[capacity];
        int shared = 0;
        for (int k = 0; k < today._itemIds.Length; k++)
        {
            if (!yesterday._indexOf.TryGetValue(today._itemIds[k], out int y)) continue;
            ids[shared] = today._itemIds[k];
            before[shared] = yesterday._labels[y];
            after[shared] = today._labels[k];
            shared++;
        }
        if (shared < capacity)
        {
            Array.Resize(ref ids, shared);
            Array.Resize(ref before, shared);
            Array.Resize(ref after, shared);
        }
        return new JoinedLabelings(yesterday, today, ids, before, after);
    }

    private static int[] DistinctClusters(int[] labels)
    {
        var set = new HashSet<int>();
        foreach (int l in labels) if (l != Noise) set.Add(l);
        var ids = set.ToArray();
        Array.Sort(ids);
        return ids;
    }
}

/// <summary>
/// Two labellings joined by item id (<see cref="Labeling.Join"/>): the shared items and their label on each day.
/// </summary>
public sealed class JoinedLabelings
{
    private readonly long[] _itemIds;
    private readonly int[] _yesterdayLabels;
    private readonly int[] _todayLabels;

    internal JoinedLabelings(Labeling yesterday, Labeling today, long[] itemIds, int[] yesterdayLabels, int[] todayLabels)
    {
        Yesterday = yesterday;
        Today = today;
        _itemIds = itemIds;
        _yesterdayLabels = yesterdayLabels;
        _todayLabels = todayLabels;
    }

    /// <summary>Yesterday's whole labelling.</summary>
    public Labeling Yesterday { get; }

    /// <summary>Today's whole labelling.</summary>
    public Labeling Today { get; }

    /// <summary>Number of items present on both days.</summary>
    public int Count => _itemIds.Length;

    /// <summary>The shared items, in today's order.</summary>
    public ReadOnlySpan<long> ItemIds => _itemIds;

    /// <summary>Yesterday's label of each shared item (-1 noise).</summary>
    public ReadOnlySpan<int> YesterdayLabels => _yesterdayLabels;

    /// <summary>Today's label of each shared item (-1 noise).</summary>
    public ReadOnlySpan<int> TodayLabels => _todayLabels;
}
