using System.Xml.Linq;
using VmPooler.Core.Configuration;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

internal sealed partial class LibvirtProvider
{
    public async Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
    {
        if (sizeGb is < 1 or > 65536)
        {
            return false;
        }

        var storagePool = PoolOptionsFor(pool).StoragePool;
        return await OnOwnDomainAsync(pool, vmName, "adding a disk", c => AddDisk(c, vmName, storagePool, sizeGb), cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => OnOwnDomainAsync(pool, vmName, "taking a snapshot", c => Snapshot(c, vmName, snapshotName), cancellationToken);

    public Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
        => OnOwnDomainAsync(pool, vmName, "reverting to a snapshot", c => Revert(c, vmName, snapshotName), cancellationToken);

    /// <summary>Runs <paramref name="action"/> on the host of a vmpooler domain of the pool; false when there is none or it fails.</summary>
    private async Task<bool> OnOwnDomainAsync(PoolOptions pool, string vm, string what, Func<ConnectHandle, bool> action, CancellationToken cancellationToken)
    {
        try
        {
            var found = await LocateAsync(pool, vm, cancellationToken).ConfigureAwait(false);
            if (found?.Metadata?.Pool != pool.Name)
            {
                return false;
            }

            return await found.Host.CallAsync(what, _options.StartTimeout, action, cancellationToken).ConfigureAwait(false);
        }
        catch (LibvirtNotFoundException)
        {
            return false;
        }
        catch (LibvirtException ex)
        {
            LibvirtLog.OperationFailed(_logger, pool.Name, what, vm, ex.Message);
            return false;
        }
    }

    /// <summary>A new empty qcow2 volume <c>VM-diskN.qcow2</c> in the pool's storage pool, attached live (and to the definition).</summary>
    private static bool AddDisk(ConnectHandle connection, string vm, string storagePoolName, int sizeGb)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm) ?? throw new LibvirtNotFoundException($"'{vm}' not found", LibvirtErrorCode.NoDomain);
        using var storagePool = LibvirtCalls.StoragePool(connection, storagePoolName);
        var n = 1;
        while (LibvirtCalls.TryVolume(storagePool, $"{vm}-disk{n}.qcow2") is { } existing)
        {
            existing.Dispose();
            n++;
        }

        var name = $"{vm}-disk{n}.qcow2";
        using var volume = LibvirtCalls.CreateVolume(storagePool, DomainXml.NewVolume(name, (ulong)sizeGb << 30, null, null), name);
        try
        {
            var target = DomainXml.NextTarget(LibvirtCalls.DomainXml(domain, 0, $"reading '{vm}'"));
            var flags = LibvirtNative.AffectConfig | (LibvirtCalls.State(domain) == LibvirtNative.DomainRunning ? LibvirtNative.AffectLive : 0);
            LibvirtCalls.Check(LibvirtNative.virDomainAttachDeviceFlags(domain, DomainXml.DiskDevice(LibvirtCalls.VolumePath(volume), target), flags), $"attaching '{name}' to '{vm}'");
            return true;
        }
        catch (LibvirtException)
        {
            LibvirtNative.virStorageVolDelete(volume, 0);
            throw;
        }
    }

    private static bool Snapshot(ConnectHandle connection, string vm, string name)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm) ?? throw new LibvirtNotFoundException($"'{vm}' not found", LibvirtErrorCode.NoDomain);
        var xml = new XElement("domainsnapshot", new XElement("name", name)).ToString(SaveOptions.DisableFormatting);
        using var snapshot = LibvirtCalls.Check(LibvirtNative.virDomainSnapshotCreateXML(domain, xml, 0), $"snapshot '{name}' of '{vm}'");
        return true;
    }

    private static bool Revert(ConnectHandle connection, string vm, string name)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm) ?? throw new LibvirtNotFoundException($"'{vm}' not found", LibvirtErrorCode.NoDomain);
        using var snapshot = LibvirtCalls.Check(LibvirtNative.virDomainSnapshotLookupByName(domain, name, 0), $"snapshot '{name}' of '{vm}'");
        const uint running = 1; // VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING: the VM runs after the revert
        LibvirtCalls.Check(LibvirtNative.virDomainRevertToSnapshot(snapshot, running), $"reverting '{vm}' to '{name}'");
        return true;
    }
}
