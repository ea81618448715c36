using Microsoft.Win32.SafeHandles;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>A libvirt object reference, released with <c>virStorageVolFree</c> when the last user lets go.</summary>
internal sealed class VolumeHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public VolumeHandle()
        : base(ownsHandle: true)
    {
    }

    public VolumeHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => LibvirtNative.virStorageVolFree(handle) >= 0;
}
