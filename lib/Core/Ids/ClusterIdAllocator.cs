using System.Text.Json;
using LabelAssignment.IO;

namespace LabelAssignment.Ids;

/// <summary>Which IDs a <see cref="ClusterIdAllocator"/> may hand out again.</summary>
public enum IdReusePolicy
{
    /// <summary>The smallest non-negative ID that no live cluster holds (the article's rule: IDs stay small).</summary>
    SmallestFree,

    /// <summary>Only IDs above every ID ever issued or seen (a persisted high-water mark): a retired ID never returns.</summary>
    NeverReuse,
}

/// <summary>
/// Issues cluster IDs that never collide with a live cluster's ID. IDs are non-negative; -1 is reserved for
/// "noise / none" and is never issued. State is small and explicit (the live set and the high-water mark) so it
/// can be saved next to the tables and reloaded.
/// Not thread-safe on its own: the <c>ClusterTables</c> that own one call it only under their write lock.
/// </summary>
public sealed class ClusterIdAllocator
{
    private readonly HashSet<int> _live;
    private int _searchFrom; // every ID below this is live (SmallestFree fast path)

    /// <summary>Starts from the IDs already live (e.g. yesterday's clusters) and an optional persisted high-water mark.</summary>
    /// <param name="liveIds">IDs in use; each must be >= 0. Duplicates are allowed and count once.</param>
    /// <param name="policy">Whether retired IDs may be issued again.</param>
    /// <param name="highWaterMark">Largest ID ever issued before (-1 for none); raised to the largest live ID.</param>
    public ClusterIdAllocator(IEnumerable<int> liveIds, IdReusePolicy policy = IdReusePolicy.SmallestFree, int highWaterMark = -1)
    {
        ArgumentNullException.ThrowIfNull(liveIds);
        if (!Enum.IsDefined(policy))
            throw new ArgumentOutOfRangeException(nameof(policy), policy, "policy must be SmallestFree or NeverReuse.");
        if (highWaterMark < -1)
            throw new ArgumentOutOfRangeException(nameof(highWaterMark), highWaterMark, "highWaterMark must be >= -1 (-1: nothing issued yet).");
        _live = [];
        foreach (int id in liveIds)
        {
            if (id < 0)
                throw new ArgumentOutOfRangeException(nameof(liveIds), id, "live cluster IDs must be >= 0 (-1 means noise and is never an ID).");
            _live.Add(id);
            highWaterMark = Math.Max(highWaterMark, id);
        }
        Policy = policy;
        HighWaterMark = highWaterMark;
    }

    /// <summary>The reuse policy.</summary>
    public IdReusePolicy Policy { get; }

    /// <summary>The largest ID ever issued or seen live (-1 when none).</summary>
    public int HighWaterMark { get; private set; }

    /// <summary>The IDs currently live.</summary>
    public IReadOnlyCollection<int> LiveIds => _live;

    /// <summary>Whether <paramref name="id"/> is held by a live cluster.</summary>
    public bool IsLive(int id) => _live.Contains(id);

    /// <summary>Returns a fresh ID, marked live, that no live cluster holds (and, under NeverReuse, above every ID ever seen).</summary>
    public int Allocate()
    {
        int id;
        if (Policy == IdReusePolicy.NeverReuse)
        {
            if (HighWaterMark == int.MaxValue)
                throw new InvalidOperationException("cluster IDs are exhausted: the high-water mark is int.MaxValue.");
            id = HighWaterMark + 1;
        }
        else
        {
            id = _searchFrom;
            while (_live.Contains(id))
                id = checked(id + 1);
            _searchFrom = id + 1;
        }
        _live.Add(id);
        HighWaterMark = Math.Max(HighWaterMark, id);
        return id;
    }

    /// <summary>The ID <see cref="Allocate"/> would return now, without issuing it (nothing changes).</summary>
    public int Peek()
    {
        if (Policy == IdReusePolicy.NeverReuse)
            return HighWaterMark == int.MaxValue
                ? throw new InvalidOperationException("cluster IDs are exhausted: the high-water mark is int.MaxValue.")
                : HighWaterMark + 1;
        int id = _searchFrom;
        while (_live.Contains(id))
            id = checked(id + 1);
        return id;
    }

    /// <summary>Marks a live ID as retired: its cluster is gone. Under SmallestFree it may be issued again.</summary>
    public void Retire(int id)
    {
        if (!_live.Remove(id))
            throw new ArgumentException($"cluster ID {id} is not live, so it cannot be retired.", nameof(id));
        if (id < _searchFrom)
            _searchFrom = id;
    }

    /// <summary>Marks an existing ID as live (e.g. a kept ID); throws when it already is.</summary>
    public void Claim(int id)
    {
        if (id < 0)
            throw new ArgumentOutOfRangeException(nameof(id), id, "cluster IDs must be >= 0.");
        if (!_live.Add(id))
            throw new ArgumentException($"cluster ID {id} is already live: two clusters cannot share it.", nameof(id));
        HighWaterMark = Math.Max(HighWaterMark, id);
    }

    /// <summary>An independent copy (for trying a remap without committing it).</summary>
    public ClusterIdAllocator Clone() => new(_live, Policy, HighWaterMark);

    /// <summary>Saves the live IDs, policy and high-water mark as JSON, atomically.</summary>
    public void Save(string path)
    {
        var state = new State(Policy.ToString(), HighWaterMark, [.. _live.Order()]);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(state));
    }

    /// <summary>Loads what <see cref="Save"/> wrote; a corrupt file throws <see cref="InvalidDataException"/> naming it.</summary>
    public static ClusterIdAllocator Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>The same from <paramref name="stream"/>, read once to its end (decoded as <see cref="File.ReadAllText(string)"/>
    /// does); <paramref name="path"/> names it in errors.</summary>
    internal static ClusterIdAllocator Load(Stream stream, string path)
    {
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return Parse(reader.ReadToEnd(), path);
    }

    private static ClusterIdAllocator Parse(string text, string path)
    {
        State? state;
        try
        {
            state = JsonSerializer.Deserialize<State>(text);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a cluster ID allocator state ({e.Message}).", e);
        }
        if (state is null || state.LiveIds is null || !Enum.TryParse<IdReusePolicy>(state.Policy, out var policy))
            throw new InvalidDataException($"{path}: not a cluster ID allocator state (missing policy or live IDs).");
        try
        {
            return new ClusterIdAllocator(state.LiveIds, policy, state.HighWaterMark);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: invalid allocator state: {e.Message}", e);
        }
    }

    private sealed record State(string Policy, int HighWaterMark, int[] LiveIds);
}
