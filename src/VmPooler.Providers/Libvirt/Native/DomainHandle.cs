using Microsoft.Win32.SafeHandles;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>A libvirt object reference, released with <c>virDomainFree</c> when the last user lets go.</summary>
internal sealed class DomainHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DomainHandle()
        : base(ownsHandle: true)
    {
    }

    public DomainHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) >= 0;
}
