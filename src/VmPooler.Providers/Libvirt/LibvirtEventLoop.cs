using System.Runtime.InteropServices;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// libvirt's default event loop, run on one background thread for the whole process: keep-alive messages
/// (<c>virConnectSetKeepAlive</c>) are only sent and checked while it runs. It must be registered before the first
/// connection opens. Also silences libvirt's default error printer (errors are read with <c>virGetLastError</c>).
/// </summary>
internal static unsafe class LibvirtEventLoop
{
    private static readonly Lock Gate = new();
    private static bool _started;

    public static void EnsureStarted()
    {
        lock (Gate)
        {
            if (_started)
            {
                return;
            }

            LibvirtNative.virSetErrorFunc(IntPtr.Zero, &IgnoreError);
            if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
            {
                throw LibvirtException.FromLastError("registering libvirt's event loop");
            }

            var thread = new Thread(Run) { IsBackground = true, Name = "libvirt-events" };
            thread.Start();
            _started = true;
        }
    }

    private static void Run()
    {
        while (true)
        {
            if (LibvirtNative.virEventRunDefaultImpl() < 0)
            {
                LibvirtNative.virResetLastError();
            }
        }
    }

    [UnmanagedCallersOnly]
    private static void IgnoreError(IntPtr userData, IntPtr error)
    {
    }
}
