using Microsoft.Win32.SafeHandles;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>A libvirt object reference, released with <c>virStoragePoolFree</c> when the last user lets go.</summary>
internal sealed class StoragePoolHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public StoragePoolHandle()
        : base(ownsHandle: true)
    {
    }

    public StoragePoolHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => LibvirtNative.virStoragePoolFree(handle) >= 0;
}
