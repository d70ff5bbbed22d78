/*
 * The int8 product's two micro-kernels for AVX512-VNNI (EVEX vpdpbusd on 512-bit registers), compiled by
 * generate.sh into the machine code that lib/Core/Numerics/Int8VnniCode.g.cs holds.
 *
 * Why machine code: .NET 10 emits vpdpbusd only as AVX-VNNI (VEX, System.Runtime.Intrinsics.X86.AvxVnni), which
 * AMD Zen 4 lacks while it has AVX512-VNNI; AvxVnni.V512 arrives in .NET 11 (dotnet/runtime#128365). On a Zen 4
 * core these kernels do about 2.2 times the multiply-adds per second of the AVX2 byte kernels (vpmaddubsw then
 * vpmaddwd), measured in C side by side.
 *
 * Layout (Int8Product): a block holds 6 items x 4 bytes per group of 4 depths (unsigned: value + 128), a panel
 * 16 rows x 4 bytes per group (signed), so one group of a panel is one 64-byte register and each 32-bit lane k of
 * the accumulator gets row k's 4 products. The tile is 6 x 16 int32, row-major; add != 0 adds to what it holds.
 * Rules for this file: no calls, no globals, no constants in memory (generate.sh checks that the object has no
 * relocations), so the code runs wherever it is copied.
 */
#include <immintrin.h>
#include <stdint.h>

#define LOAD_TILE(r) (add ? _mm512_loadu_si512(tile + 16 * (r)) : _mm512_setzero_si512())
#define ITEM(r) _mm512_set1_epi32(((const int32_t *)a)[r])

/* 6 items against 16 rows: six independent accumulators, one group per step (unrolling two groups into twelve
 * measured no faster). */
void int8_vnni_tile(const uint8_t *a, const int8_t *b, int groups, int32_t *tile, int add)
{
    __m512i c0 = LOAD_TILE(0), c1 = LOAD_TILE(1), c2 = LOAD_TILE(2), c3 = LOAD_TILE(3), c4 = LOAD_TILE(4), c5 = LOAD_TILE(5);
    for (int g = 0; g < groups; g++)
    {
        __m512i rows = _mm512_loadu_si512(b);
        c0 = _mm512_dpbusd_epi32(c0, ITEM(0), rows); c1 = _mm512_dpbusd_epi32(c1, ITEM(1), rows);
        c2 = _mm512_dpbusd_epi32(c2, ITEM(2), rows); c3 = _mm512_dpbusd_epi32(c3, ITEM(3), rows);
        c4 = _mm512_dpbusd_epi32(c4, ITEM(4), rows); c5 = _mm512_dpbusd_epi32(c5, ITEM(5), rows);
        a += 6 * 4;
        b += 16 * 4;
    }
    _mm512_storeu_si512(tile, c0);
    _mm512_storeu_si512(tile + 16, c1);
    _mm512_storeu_si512(tile + 32, c2);
    _mm512_storeu_si512(tile + 48, c3);
    _mm512_storeu_si512(tile + 64, c4);
    _mm512_storeu_si512(tile + 80, c5);
}

/* One item (its 4 bytes every 24, as in a block) against 16 rows into the tile's first row: four groups per step
 * into four accumulators. */
void int8_vnni_row(const uint8_t *a, const int8_t *b, int groups, int32_t *tile, int add)
{
    __m512i p = LOAD_TILE(0), q = _mm512_setzero_si512(), r = q, s = q;
    int g = 0;
    for (; g + 4 <= groups; g += 4)
    {
        p = _mm512_dpbusd_epi32(p, ITEM(0), _mm512_loadu_si512(b));
        q = _mm512_dpbusd_epi32(q, ITEM(6), _mm512_loadu_si512(b + 64));
        r = _mm512_dpbusd_epi32(r, ITEM(12), _mm512_loadu_si512(b + 128));
        s = _mm512_dpbusd_epi32(s, ITEM(18), _mm512_loadu_si512(b + 192));
        a += 4 * 6 * 4;
        b += 4 * 16 * 4;
    }
    for (; g < groups; g++)
    {
        p = _mm512_dpbusd_epi32(p, ITEM(0), _mm512_loadu_si512(b));
        a += 6 * 4;
        b += 16 * 4;
    }
    _mm512_storeu_si512(tile, _mm512_add_epi32(_mm512_add_epi32(p, q), _mm512_add_epi32(r, s)));
}
