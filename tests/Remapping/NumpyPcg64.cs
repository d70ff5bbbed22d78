namespace LabelAssignment.Tests.Remapping;

/// <summary>
/// numpy's <c>np.random.default_rng(seed_list).random(n)</c> (SeedSequence + PCG64 XSL-RR), reimplemented so a test can
/// regenerate the anchor cost matrices of ../shared/anchors/make_data.py (<c>default_rng([seed, r, c, 2]).random((r, c))</c>)
/// instead of committing megabytes. Checked byte for byte against the committed lsa_100x100.npy.
/// </summary>
internal sealed class NumpyPcg64
{
    private static readonly UInt128 Multiplier = new(0x2360ED051FC65DA4UL, 0x4385DF649FCCF645UL);
    private UInt128 _state;
    private readonly UInt128 _inc;

    public NumpyPcg64(params uint[] entropy)
    {
        // SeedSequence(entropy).generate_state(4, uint64), pool size 4.
        const uint InitA = 0x43b0d7e5, MultA = 0x931e8875, InitB = 0x8b51f9dd, MultB = 0x58f38ded;
        const uint MixL = 0xca01f9dd, MixR = 0x4973f715;
        uint hashConst = InitA;
        uint HashMix(uint value)
        {
            value ^= hashConst;
            hashConst *= MultA;
            value *= hashConst;
            return value ^ (value >> 16);
        }
        static uint Mix(uint x, uint y)
        {
            uint r = MixL * x - MixR * y;
            return r ^ (r >> 16);
        }
        var pool = new uint[4];
        for (int i = 0; i < pool.Length; i++)
            pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0u);
        for (int src = 0; src < pool.Length; src++)
            for (int dst = 0; dst < pool.Length; dst++)
                if (src != dst) pool[dst] = Mix(pool[dst], HashMix(pool[src]));
        for (int src = pool.Length; src < entropy.Length; src++)
            for (int dst = 0; dst < pool.Length; dst++)
                pool[dst] = Mix(pool[dst], HashMix(entropy[src]));

        var words = new uint[8];
        uint hb = InitB;
        for (int i = 0; i < words.Length; i++)
        {
            uint v = pool[i % pool.Length];
            v ^= hb;
            hb *= MultB;
            v *= hb;
            words[i] = v ^ (v >> 16);
        }
        ulong W(int k) => words[2 * k] | ((ulong)words[2 * k + 1] << 32);
        var seed = new UInt128(W(0), W(1));
        var inc = new UInt128(W(2), W(3));
        // pcg_setseq_128_srandom_r
        _state = 0;
        _inc = (inc << 1) | 1;
        Step();
        _state += seed;
        Step();
    }

    private void Step() => _state = _state * Multiplier + _inc;

    public ulong NextUInt64()
    {
        Step();
        ulong hi = (ulong)(_state >> 64), lo = (ulong)_state;
        int rot = (int)(_state >> 122);
        return ulong.RotateRight(hi ^ lo, rot);
    }

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>make_data.py's LSA matrix: uniform [0, 1) of shape rows x columns, row-major.</summary>
    public static double[] AnchorCostMatrix(int rows, int columns, uint seed = 20250418)
    {
        var rng = new NumpyPcg64(seed, (uint)rows, (uint)columns, 2);
        var m = new double[rows * columns];
        for (int k = 0; k < m.Length; k++) m[k] = rng.NextDouble();
        return m;
    }
}
