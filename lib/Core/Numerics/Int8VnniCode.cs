using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LabelAssignment.Numerics;

/// <summary>
/// <see cref="Int8Product"/>'s two micro-kernels for AVX512-VNNI (<c>vpdpbusd</c> on 512-bit registers) as machine
/// code, compiled from <c>tools/NativeKernels/int8_vnni.c</c> into <c>Int8VnniCode.g.cs</c>. .NET 10 emits
/// <c>vpdpbusd</c> only through <see cref="AvxVnni"/> (VEX), which AMD Zen 4 lacks while it has AVX512-VNNI; there
/// these kernels do about 2.2 times the multiply-adds of the AVX2 byte kernels. The code is copied once into pages
/// mapped read-write, which are then made read-execute (never both at once).
/// Only on Linux x64 (the System V calling convention it was compiled for) with AVX-512 F and BW enabled in the
/// runtime and AVX512-VNNI in CPUID; elsewhere, or when the mapping is refused, the pointers stay null and the product
/// keeps its managed kernels, as it does under <see cref="SwitchVariable"/>=0.
/// Concurrency: nothing changes after the type initializer, and the kernels only read their inputs and write the tile
/// they are given, so any number of threads may call them at once. The calls skip the GC transition: a call runs for
/// at most the depth of one row (16,384 groups at <see cref="Int8Product.MaxDimension"/>, some tens of microseconds),
/// which is how long it can hold off a collection.
/// </summary>
internal static unsafe partial class Int8VnniCode
{
    /// <summary>The 6x16 tile of a block against a panel: (block bytes, panel bytes, groups, tile, add).</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, int, int*, int, void> Tile;

    /// <summary>One item (its 4 bytes every 24) against a panel into the tile's first row: same arguments.</summary>
    public static readonly delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, int, int*, int, void> Row;

    /// <summary>Whether the kernels are mapped and this machine runs them.</summary>
    public static bool IsAvailable => Tile != null;

    /// <summary>Why they are not, for diagnostics (null when they are).</summary>
    public static string? Unavailable { get; }

    static Int8VnniCode()
    {
        Unavailable = Check();
        if (Unavailable is not null) return;
        byte* code = Map(Text);
        if (code == null) { Unavailable = $"mapping executable memory failed (errno {Marshal.GetLastPInvokeError()})"; return; }
        Tile = (delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, int, int*, int, void>)(code + TileOffset);
        Row = (delegate* unmanaged[SuppressGCTransition]<byte*, sbyte*, int, int*, int, void>)(code + RowOffset);
    }

    /// <summary>Set to 0 to keep the managed kernels (where policy forbids mapping code, or to compare the two).</summary>
    public const string SwitchVariable = "LABELASSIGNMENT_NATIVE_KERNELS";

    private static string? Check()
    {
        if (Environment.GetEnvironmentVariable(SwitchVariable) == "0") return $"{SwitchVariable}=0";
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "not Linux x64";
        // The runtime reports AVX-512 only where the OS saves its registers (and not when DOTNET_EnableAVX512F=0).
        if (!Avx512F.IsSupported || !Avx512BW.IsSupported) return "no AVX-512 F and BW";
        const int avx512Vnni = 1 << 11; // CPUID leaf 7, sub-leaf 0, ECX bit 11
        if ((X86Base.CpuId(7, 0).Ecx & avx512Vnni) == 0) return "no AVX512-VNNI";
        return null;
    }

    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;

    /// <summary>The code in pages of its own, read-execute; null if the OS refuses either step.</summary>
    private static byte* Map(ReadOnlySpan<byte> text)
    {
        nuint size = (nuint)text.Length;
        byte* at = (byte*)mmap(null, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (at == (byte*)-1) return null;
        text.CopyTo(new Span<byte>(at, text.Length));
        if (mprotect(at, size, ProtRead | ProtExec) != 0) { munmap(at, size); return null; }
        return at;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial void* mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(void* addr, nuint length, int prot);

    [LibraryImport("libc")]
    private static partial int munmap(void* addr, nuint length);
}
