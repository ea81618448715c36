using Microsoft.Win32.SafeHandles;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>A libvirt object reference, released with <c>virConnectClose</c> when the last user lets go.</summary>
internal sealed class ConnectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ConnectHandle()
        : base(ownsHandle: true)
    {
    }

    public ConnectHandle(IntPtr handle)
        : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}
