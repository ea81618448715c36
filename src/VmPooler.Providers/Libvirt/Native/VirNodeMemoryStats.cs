using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary><c>virNodeMemoryStats</c>: one named host memory figure in KiB ("total", "free", "buffers", "cached").</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirNodeMemoryStats
{
    public FieldBuffer Field;
    public ulong Value;

    [InlineArray(80)]
    public struct FieldBuffer
    {
        private byte _first;
    }
}
