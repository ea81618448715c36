using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary><c>virNodeInfo</c>: the host's model, memory (KiB) and CPU topology.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirNodeInfo
{
    public ModelBuffer Model;
    public nuint MemoryKiB;
    public uint Cpus;
    public uint Mhz;
    public uint Nodes;
    public uint Sockets;
    public uint Cores;
    public uint Threads;

    [InlineArray(32)]
    public struct ModelBuffer
    {
        private byte _first;
    }
}
