using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary><c>virDomainIPAddress</c>: type 0 = IPv4, 1 = IPv6.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainIpAddress
{
    public int Type;
    public IntPtr Address;
    public uint Prefix;
}
