using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// Synchronous libvirt operations on one connection, each turning a failure into a typed <see cref="LibvirtException"/>.
/// They run on the calling pool thread inside <see cref="LibvirtHost.CallAsync{T}"/>.
/// </summary>
internal static unsafe class LibvirtCalls
{
    public static int Check(int result, string what) => result < 0 ? throw LibvirtException.FromLastError(what) : result;

    public static T Check<T>(T handle, string what)
        where T : SafeHandle
    {
        if (!handle.IsInvalid)
        {
            return handle;
        }

        handle.Dispose();
        throw LibvirtException.FromLastError(what);
    }

    public static string CheckString(IntPtr text, string what)
        => LibvirtNative.TakeString(text) ?? throw LibvirtException.FromLastError(what);

    /// <summary>The domain, or null when there is none of that name.</summary>
    public static DomainHandle? TryDomain(ConnectHandle connection, string name)
    {
        try
        {
            return Check(LibvirtNative.virDomainLookupByName(connection, name), $"looking up domain '{name}'");
        }
        catch (LibvirtNotFoundException)
        {
            return null;
        }
    }

    public static string DomainXml(DomainHandle domain, uint flags, string what)
        => CheckString(LibvirtNative.virDomainGetXMLDesc(domain, flags), what);

    /// <summary>The vmpooler metadata of a domain, or null when it has none (a domain vmpooler did not create).</summary>
    public static VmMetadata? Metadata(DomainHandle domain)
    {
        var text = LibvirtNative.virDomainGetMetadata(domain, LibvirtNative.DomainMetadataElement, VmMetadata.Namespace, 0);
        if (text == IntPtr.Zero)
        {
            var error = LibvirtException.FromLastError("reading metadata");
            return error.Code == LibvirtErrorCode.NoDomainMetadata ? null : throw error;
        }

        return VmMetadata.Parse(LibvirtNative.TakeString(text)!);
    }

    /// <summary>Every domain of the host that carries vmpooler metadata, with it.</summary>
    public static List<(string Name, VmMetadata Metadata)> OurDomains(ConnectHandle connection)
    {
        var count = Check(LibvirtNative.virConnectListAllDomains(connection, out var domains, 0), "listing domains");
        var result = new List<(string, VmMetadata)>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                using var domain = new DomainHandle(domains[i]);
                domains[i] = IntPtr.Zero;
                try
                {
                    if (Metadata(domain) is { } metadata)
                    {
                        result.Add((LibvirtNative.BorrowString(LibvirtNative.virDomainGetName(domain)) ?? "", metadata));
                    }
                }
                catch (LibvirtNotFoundException)
                {
                    // undefined meanwhile
                }
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                if (domains[i] != IntPtr.Zero)
                {
                    LibvirtNative.virDomainFree(domains[i]);
                }
            }

            NativeMemory.Free(domains);
        }

        return result;
    }

    /// <summary>
    /// The host's memory: total and available (free plus buffers and page cache, which the kernel gives back), in bytes.
    /// Drivers without memory statistics fall back to free memory; those that do not count that either (libvirt's
    /// <c>test:///</c> answers 0, which libvirt also reports as an unknown error) get total less what their running
    /// domains were given.
    /// </summary>
    public static (ulong Total, ulong Free) NodeMemory(ConnectHandle connection)
    {
        Check(LibvirtNative.virNodeGetInfo(connection, out var info), "reading node info");
        var total = (ulong)info.MemoryKiB * 1024;
        if (AvailableMemory(connection) is { } available)
        {
            return (total, Math.Min(total, available));
        }

        LibvirtNative.virResetLastError();
        var free = LibvirtNative.virNodeGetFreeMemory(connection);
        if (free == 0)
        {
            // 0 is also libvirt's error answer; a lost connection fails the listing below as well.
            LibvirtNative.virResetLastError();
            var given = RunningDomainsMemory(connection);
            free = total > given ? total - given : 0;
        }

        return (total, free);
    }

    private static ulong? AvailableMemory(ConnectHandle connection)
    {
        const int allCells = -1; // VIR_NODE_MEMORY_STATS_ALL_CELLS
        var count = 0;
        if (LibvirtNative.virNodeGetMemoryStats(connection, allCells, null, ref count, 0) < 0 || count is <= 0 or > 16)
        {
            return null;
        }

        var stats = stackalloc VirNodeMemoryStats[count];
        if (LibvirtNative.virNodeGetMemoryStats(connection, allCells, stats, ref count, 0) < 0)
        {
            return null;
        }

        ulong free = 0;
        var found = false;
        for (var i = 0; i < count; i++)
        {
            var name = Marshal.PtrToStringUTF8((IntPtr)Unsafe.AsPointer(ref stats[i].Field));
            if (name is "free" or "buffers" or "cached")
            {
                free += stats[i].Value * 1024;
                found |= name == "free";
            }
        }

        return found ? free : null;
    }

    private static ulong RunningDomainsMemory(ConnectHandle connection)
    {
        const uint active = 1; // VIR_CONNECT_LIST_DOMAINS_ACTIVE
        var count = Check(LibvirtNative.virConnectListAllDomains(connection, out var domains, active), "listing running domains");
        ulong sum = 0;
        for (var i = 0; i < count; i++)
        {
            using var domain = new DomainHandle(domains[i]);
            sum += (ulong)LibvirtNative.virDomainGetMaxMemory(domain) * 1024;
        }

        NativeMemory.Free(domains);
        LibvirtNative.virResetLastError();
        return sum;
    }

    public static int State(DomainHandle domain)
    {
        Check(LibvirtNative.virDomainGetState(domain, out var state, out _, 0), "reading domain state");
        return state;
    }

    public static string PowerState(int state) => state switch
    {
        LibvirtNative.DomainRunning => "running",
        LibvirtNative.DomainPaused => "paused",
        LibvirtNative.DomainShutoff => "shutoff",
        2 => "blocked",
        4 => "shutdown",
        6 => "crashed",
        7 => "pmsuspended",
        _ => "unknown",
    };

    /// <summary>The guest's first IPv4 address from the DHCP lease, the guest agent or the ARP table (in that order).</summary>
    public static string? Address(DomainHandle domain)
    {
        foreach (var source in new[] { LibvirtNative.InterfaceAddressesLease, LibvirtNative.InterfaceAddressesAgent, LibvirtNative.InterfaceAddressesArp })
        {
            var count = LibvirtNative.virDomainInterfaceAddresses(domain, out var interfaces, source, 0);
            if (count < 0)
            {
                LibvirtNative.virResetLastError(); // no agent, no leases: try the next source
                continue;
            }

            string? found = null;
            for (var i = 0; i < count; i++)
            {
                var iface = (VirDomainInterface*)interfaces[i];
                for (var a = 0; a < iface->AddressCount && found is null; a++)
                {
                    var text = LibvirtNative.BorrowString(iface->Addresses[a].Address);
                    if (iface->Addresses[a].Type == 0 && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(ip))
                    {
                        found = text;
                    }
                }

                LibvirtNative.virDomainInterfaceFree(interfaces[i]);
            }

            NativeMemory.Free(interfaces);
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    public static StoragePoolHandle StoragePool(ConnectHandle connection, string name)
        => Check(LibvirtNative.virStoragePoolLookupByName(connection, name), $"looking up storage pool '{name}'");

    public static VolumeHandle? TryVolume(StoragePoolHandle pool, string name)
    {
        try
        {
            return Check(LibvirtNative.virStorageVolLookupByName(pool, name), $"looking up volume '{name}'");
        }
        catch (LibvirtNotFoundException)
        {
            return null;
        }
    }

    public static string VolumePath(VolumeHandle volume) => CheckString(LibvirtNative.virStorageVolGetPath(volume), "reading volume path");

    public static string VolumeXml(VolumeHandle volume) => CheckString(LibvirtNative.virStorageVolGetXMLDesc(volume, 0), "reading volume");

    public static VolumeHandle CreateVolume(StoragePoolHandle pool, string xml, string name)
        => Check(LibvirtNative.virStorageVolCreateXML(pool, xml, 0), $"creating volume '{name}'");

    /// <summary>Deletes every volume of the pool whose name is <paramref name="vm"/> followed by '.' or '-'; returns how many.</summary>
    public static int DeleteVolumesOf(StoragePoolHandle pool, string vm)
    {
        var count = Check(LibvirtNative.virStoragePoolListAllVolumes(pool, out var volumes, 0), "listing volumes");
        var deleted = 0;
        LibvirtException? failure = null;
        try
        {
            for (var i = 0; i < count; i++)
            {
                using var volume = new VolumeHandle(volumes[i]);
                volumes[i] = IntPtr.Zero;
                var name = LibvirtNative.BorrowString(LibvirtNative.virStorageVolGetName(volume)) ?? "";
                if (name.Length > vm.Length && name.StartsWith(vm, StringComparison.Ordinal) && name[vm.Length] is '.' or '-')
                {
                    if (LibvirtNative.virStorageVolDelete(volume, 0) < 0)
                    {
                        failure = LibvirtException.FromLastError($"deleting volume '{name}'");
                    }
                    else
                    {
                        deleted++;
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(volumes);
        }

        return failure is null ? deleted : throw failure;
    }
}
