using Microsoft.Win32.SafeHandles;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>A libvirt object reference, released with <c>virDomainSnapshotFree</c> when the last user lets go.</summary>
internal sealed class SnapshotHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SnapshotHandle()
        : base(ownsHandle: true)
    {
    }

    public SnapshotHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => LibvirtNative.virDomainSnapshotFree(handle) >= 0;
}
