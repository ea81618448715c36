using System.Runtime.InteropServices;

namespace VmPooler.Providers.Libvirt.Native;

/// <summary>
/// The part of libvirt's stable C API (<c>libvirt.so.0</c>, Debian package libvirt0) the provider uses, bound with
/// source-generated P/Invoke. Handles come back as <see cref="SafeHandle"/>s; strings libvirt allocates come back as
/// raw pointers and are freed by <see cref="TakeString"/>. Every function that fails leaves its error in the calling
/// thread's <c>virGetLastError</c>, so a caller reads it on the same thread (see <see cref="LibvirtException.FromLastError"/>).
/// </summary>
internal static unsafe partial class LibvirtNative
{
    public const string Library = "libvirt.so.0";

    public const uint DomainXmlSecure = 1;
    public const uint DomainXmlInactive = 2;
    public const int DomainMetadataElement = 2;
    public const uint AffectLive = 1;
    public const uint AffectConfig = 2;
    public const uint UndefineManagedSave = 1;
    public const uint UndefineSnapshotsMetadata = 2;
    public const uint UndefineNvram = 4;
    public const uint UndefineCheckpointsMetadata = 16;
    public const uint InterfaceAddressesLease = 0;
    public const uint InterfaceAddressesAgent = 1;
    public const uint InterfaceAddressesArp = 2;
    public const int DomainRunning = 1;
    public const int DomainPaused = 3;
    public const int DomainShutoff = 5;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial ConnectHandle virConnectOpen(string? name);

    [LibraryImport(Library)]
    public static partial int virConnectClose(IntPtr conn);

    [LibraryImport(Library)]
    public static partial int virConnectIsAlive(ConnectHandle conn);

    [LibraryImport(Library)]
    public static partial int virConnectSetKeepAlive(ConnectHandle conn, int interval, uint count);

    [LibraryImport(Library)]
    public static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Library)]
    public static partial int virEventRunDefaultImpl();

    [LibraryImport(Library)]
    public static partial void virSetErrorFunc(IntPtr userData, delegate* unmanaged<IntPtr, IntPtr, void> handler);

    [LibraryImport(Library)]
    public static partial VirError* virGetLastError();

    [LibraryImport(Library)]
    public static partial void virResetLastError();

    [LibraryImport(Library)]
    public static partial int virNodeGetInfo(ConnectHandle conn, out VirNodeInfo info);

    [LibraryImport(Library)]
    public static partial int virNodeGetMemoryStats(ConnectHandle conn, int cellNum, VirNodeMemoryStats* parameters, ref int count, uint flags);

    [LibraryImport(Library)]
    public static partial ulong virNodeGetFreeMemory(ConnectHandle conn);

    [LibraryImport(Library)]
    public static partial int virConnectListAllDomains(ConnectHandle conn, out IntPtr* domains, uint flags);

    [LibraryImport(Library)]
    public static partial nuint virDomainGetMaxMemory(DomainHandle domain);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial DomainHandle virDomainLookupByName(ConnectHandle conn, string name);

    [LibraryImport(Library)]
    public static partial int virDomainFree(IntPtr domain);

    [LibraryImport(Library)]
    public static partial IntPtr virDomainGetName(DomainHandle domain);

    [LibraryImport(Library)]
    public static partial IntPtr virDomainGetXMLDesc(DomainHandle domain, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial DomainHandle virDomainDefineXML(ConnectHandle conn, string xml);

    [LibraryImport(Library)]
    public static partial int virDomainCreate(DomainHandle domain);

    [LibraryImport(Library)]
    public static partial int virDomainDestroy(DomainHandle domain);

    [LibraryImport(Library)]
    public static partial int virDomainUndefineFlags(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    public static partial int virDomainGetState(DomainHandle domain, out int state, out int reason, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial IntPtr virDomainGetMetadata(DomainHandle domain, int type, string? uri, uint flags);

    [LibraryImport(Library)]
    public static partial int virDomainInterfaceAddresses(DomainHandle domain, out IntPtr* interfaces, uint source, uint flags);

    [LibraryImport(Library)]
    public static partial void virDomainInterfaceFree(IntPtr iface);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int virDomainAttachDeviceFlags(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SnapshotHandle virDomainSnapshotCreateXML(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial SnapshotHandle virDomainSnapshotLookupByName(DomainHandle domain, string name, uint flags);

    [LibraryImport(Library)]
    public static partial int virDomainRevertToSnapshot(SnapshotHandle snapshot, uint flags);

    [LibraryImport(Library)]
    public static partial int virDomainSnapshotFree(IntPtr snapshot);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial StoragePoolHandle virStoragePoolLookupByName(ConnectHandle conn, string name);

    [LibraryImport(Library)]
    public static partial int virStoragePoolFree(IntPtr pool);

    [LibraryImport(Library)]
    public static partial int virStoragePoolIsActive(StoragePoolHandle pool);

    [LibraryImport(Library)]
    public static partial int virStoragePoolRefresh(StoragePoolHandle pool, uint flags);

    [LibraryImport(Library)]
    public static partial int virStoragePoolListAllVolumes(StoragePoolHandle pool, out IntPtr* volumes, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial VolumeHandle virStorageVolLookupByName(StoragePoolHandle pool, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial VolumeHandle virStorageVolLookupByPath(ConnectHandle conn, string path);

    [LibraryImport(Library)]
    public static partial IntPtr virStorageVolGetName(VolumeHandle volume);

    [LibraryImport(Library)]
    public static partial IntPtr virStorageVolGetPath(VolumeHandle volume);

    [LibraryImport(Library)]
    public static partial IntPtr virStorageVolGetXMLDesc(VolumeHandle volume, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial VolumeHandle virStorageVolCreateXML(StoragePoolHandle pool, string xml, uint flags);

    [LibraryImport(Library)]
    public static partial int virStorageVolDelete(VolumeHandle volume, uint flags);

    [LibraryImport(Library)]
    public static partial int virStorageVolFree(IntPtr volume);

    /// <summary>Copies a string libvirt allocated and frees it; null stays null.</summary>
    public static string? TakeString(IntPtr text)
    {
        if (text == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(text);
        }
        finally
        {
            NativeMemory.Free((void*)text);
        }
    }

    /// <summary>Copies a string libvirt owns (not to be freed).</summary>
    public static string? BorrowString(IntPtr text) => text == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(text);
}
