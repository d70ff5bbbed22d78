using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LabelAssignment.Numerics;

namespace LabelAssignment.Tests.Numerics;

/// <summary>
/// The AVX512-VNNI kernels in machine code (<see cref="Int8VnniCode"/>): compiled from the C source in the
/// repository, mapped where the machine has the instructions, and giving the integer sums of the scalar loop over the
/// same bytes, across the whole byte ranges (vpdpbusd sums four products of an unsigned and a signed byte into 32
/// bits without saturation).
/// </summary>
public sealed class Int8VnniCodeTests
{
    [Fact]
    public void TheMachineCodeIsCompiledFromTheSourceInTheRepository()
    {
        // generate.sh records the hash of the source it compiled; an edit to the C without regenerating fails here.
        var source = File.ReadAllBytes(Path.Combine(TestPaths.RepoRoot, "tools", "NativeKernels", "int8_vnni.c"));
        Assert.Equal(Int8VnniCode.SourceSha256, Convert.ToHexStringLower(SHA256.HashData(source)));
    }

    [Fact]
    public void TheKernelsAreMappedWhereTheMachineHasAvx512Vnni()
    {
        bool expected = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
            && System.Runtime.Intrinsics.X86.Avx512BW.IsSupported
            && (System.Runtime.Intrinsics.X86.X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0
            && Environment.GetEnvironmentVariable(Int8VnniCode.SwitchVariable) != "0";
        Assert.True(expected == Int8VnniCode.IsAvailable, Int8VnniCode.Unavailable ?? "mapped where not expected");
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(3, true)]
    [InlineData(7, true)]
    [InlineData(128, false)]
    [InlineData(353, true)] // 1,412 dimensions: the bench's 1,408 padded, an odd count for the row kernel's steps of 4
    public unsafe void TileAndRowAreTheScalarSums(int groups, bool add)
    {
        if (!Int8VnniCode.IsAvailable) return;
        var rng = new Random(31 + groups);
        var a = new byte[Math.Max(1, groups) * Int8Product.ItemRows * 4];
        var b = new sbyte[Math.Max(1, groups) * Int8Product.PanelRows * 4];
        rng.NextBytes(a);
        for (int k = 0; k < b.Length; k++) b[k] = (sbyte)rng.Next(-128, 128);
        // Extremes: item 0 all 255 against row 0 all -128 and row 1 all 127 (the largest products of either sign).
        for (int g = 0; g < groups; g++)
        {
            for (int t = 0; t < 4; t++) a[g * 24 + t] = 255;
            for (int t = 0; t < 4; t++) { b[g * 64 + t] = -128; b[g * 64 + 4 + t] = 127; }
        }
        var start = new int[Int8Product.ItemRows * Int8Product.PanelRows];
        for (int k = 0; k < start.Length; k++) start[k] = rng.Next(-1_000_000, 1_000_000);
        long Sum(int r, int j)
        {
            long s = add ? start[r * 16 + j] : 0;
            for (int g = 0; g < groups; g++)
                for (int t = 0; t < 4; t++) s += a[g * 24 + r * 4 + t] * b[g * 64 + j * 4 + t];
            return s;
        }
        var tile = (int[])start.Clone();
        var row = (int[])start.Clone();
        fixed (byte* pa = a)
        fixed (sbyte* pb = b)
        fixed (int* pt = tile, pr = row)
        {
            Int8VnniCode.Tile(pa, pb, groups, pt, add ? 1 : 0);
            Int8VnniCode.Row(pa + 3 * 4, pb, groups, pr + 3 * 16, add ? 1 : 0); // item 3 into its own row of the tile
        }
        for (int r = 0; r < Int8Product.ItemRows; r++)
            for (int j = 0; j < Int8Product.PanelRows; j++)
            {
                Assert.Equal(Sum(r, j), tile[r * 16 + j]);
                Assert.Equal(r == 3 ? Sum(3, j) : start[r * 16 + j], row[r * 16 + j]); // the row kernel writes one row
            }
    }
}
