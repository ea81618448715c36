using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary><c>virDomainInterface</c>: one guest interface and its addresses.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VirDomainInterface
{
    public IntPtr Name;
    public IntPtr HardwareAddress;
    public uint AddressCount;
    public VirDomainIpAddress* Addresses;
}
