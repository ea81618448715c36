using System.Xml.Linq;
using VmPooler.Core.Configuration;

namespace VmPooler.Providers.VSphere;

/// <summary>Disks, snapshots, and the purge of folders that belong to no configured pool.</summary>
internal sealed partial class VSphereProvider
{
    private const int MaxUnitsPerController = 16;
    private const int DisksPerController = 15;

    public async Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
    {
        if (sizeGb <= 0)
        {
            return false;
        }

        var vm = await FindVmAsync(pool, vmName, ["config.hardware.device", "datastore"], cancellationToken);
        if (vm is null)
        {
            return false;
        }

        try
        {
            var options = OptionsOf(pool);
            var datacenter = await DatacenterAsync(options, cancellationToken);
            string datastoreName;
            MoRef? datastore;
            if (options.Datastore is { Length: > 0 } configured)
            {
                datastoreName = configured;
                datastore = await Client.FindByInventoryPathAsync($"{datacenter}/datastore/{configured}", cancellationToken)
                    ?? throw new VSphereException($"datastore '{configured}' not found in datacenter '{datacenter}'");
            }
            else
            {
                datastore = vm.Refs("datastore").FirstOrDefault();
                datastoreName = datastore is { } ds ? (await Client.RetrieveAsync(ds, ["name"], cancellationToken))?.String("name") ?? "" : "";
                if (datastoreName.Length == 0)
                {
                    throw new VSphereException("the pool has no datastore and the VM's datastore is unknown");
                }
            }

            var (controller, unit) = FreeScsiSlot(vm.Element("config.hardware.device"))
                ?? throw new VSphereException("no SCSI controller with a free slot");
            var spec = new VirtualDiskSpec(controller, unit, (long)sizeGb * 1024 * 1024, datastoreName, datastore);
            await WaitAsync(await Client.AddDiskAsync(vm.Obj, spec, cancellationToken), cancellationToken);
            return true;
        }
        catch (VSphereException ex)
        {
            VSphereLog.OperationFailed(_logger, pool.Name, "adding a disk", vmName, ex.Message);
            return false;
        }
    }

    public async Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, ["snapshot"], cancellationToken);
        if (vm is null || FindSnapshot(vm.Element("snapshot"), snapshotName) is not null)
        {
            return false;
        }

        try
        {
            await WaitAsync(await Client.CreateSnapshotAsync(vm.Obj, snapshotName, "vmpooler", memory: true, quiesce: true, cancellationToken), cancellationToken);
            return true;
        }
        catch (VSphereException ex)
        {
            VSphereLog.OperationFailed(_logger, pool.Name, "snapshot " + snapshotName, vmName, ex.Message);
            return false;
        }
    }

    public async Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, ["snapshot"], cancellationToken);
        if (vm is null || FindSnapshot(vm.Element("snapshot"), snapshotName) is not { } snapshot)
        {
            return false;
        }

        try
        {
            await WaitAsync(await Client.RevertToSnapshotAsync(snapshot, cancellationToken), cancellationToken);
            return true;
        }
        catch (VSphereException ex)
        {
            VSphereLog.OperationFailed(_logger, pool.Name, "revert to " + snapshotName, vmName, ex.Message);
            return false;
        }
    }

    /// <summary>The names of the VM's snapshots, depth first (for tests and diagnostics).</summary>
    public async Task<IReadOnlyList<string>> SnapshotNamesAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, ["snapshot"], cancellationToken);
        return vm?.Element("snapshot") is { } info ? [.. SnapshotTrees(info).Select(t => t.ChildValue("name") ?? "")] : [];
    }

    /// <summary>The capacities (KB) of the VM's disks (for tests and diagnostics).</summary>
    public async Task<IReadOnlyList<long>> DiskCapacitiesKbAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, ["config.hardware.device"], cancellationToken);
        return vm?.Element("config.hardware.device") is { } devices
            ? [.. devices.Elements().Where(d => VimXml.TypeOf(d) == "VirtualDisk").Select(d => d.ChildLong("capacityInKB") ?? 0)]
            : [];
    }

    private static MoRef? FindSnapshot(XElement? info, string name)
        => info is null ? null : SnapshotTrees(info).Where(t => t.ChildValue("name") == name).Select(t => t.Child("snapshot")).OfType<XElement>().Select(VimXml.ToRef).Cast<MoRef?>().FirstOrDefault();

    private static IEnumerable<XElement> SnapshotTrees(XElement info)
    {
        var stack = new Stack<XElement>(info.ChildrenNamed("rootSnapshotList").Reverse());
        while (stack.Count > 0)
        {
            var tree = stack.Pop();
            yield return tree;
            foreach (var child in tree.ChildrenNamed("childSnapshotList").Reverse())
            {
                stack.Push(child);
            }
        }
    }

    /// <summary>The first SCSI controller with room for a disk and its lowest free unit number (7 is the controller's own).</summary>
    private static (int Controller, int Unit)? FreeScsiSlot(XElement? devices)
    {
        if (devices is null)
        {
            return null;
        }

        var all = devices.Elements().ToList();
        var controllers = all.Where(d => d.Child("scsiCtlrUnitNumber") is not null).OrderBy(d => d.ChildInt("busNumber") ?? 0);
        foreach (var controller in controllers)
        {
            var key = controller.ChildInt("key");
            var used = all.Where(d => d.ChildInt("controllerKey") == key).Select(d => d.ChildInt("unitNumber")).OfType<int>().ToHashSet();
            used.Add(controller.ChildInt("scsiCtlrUnitNumber") ?? 7);
            if (key is null || used.Count > DisksPerController)
            {
                continue;
            }

            for (var unit = 0; unit < MaxUnitsPerController; unit++)
            {
                if (!used.Contains(unit))
                {
                    return (key.Value, unit);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Purges, once, the folders of pools no longer configured (when <c>purge_unconfigured_resources</c> is on): every
    /// sub-folder of a folder holding configured pool folders is destroyed with its VMs, unless it is a configured
    /// pool's folder (or leads to one) or its name is in <c>resources_allowlist</c>. The original does this at start-up.
    /// </summary>
    public async Task PurgeUnconfiguredFoldersAsync(CancellationToken cancellationToken)
    {
        var byDatacenter = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var pool in _configuredPools)
        {
            var options = OptionsOf(pool);
            var datacenter = await DatacenterAsync(options, cancellationToken);
            if (!byDatacenter.TryGetValue(datacenter, out var set))
            {
                byDatacenter[datacenter] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            set.Add(options.Folder);
        }

        foreach (var (datacenter, configured) in byDatacenter)
        {
            var bases = configured.Select(f => f.Contains('/', StringComparison.Ordinal) ? f[..f.LastIndexOf('/')] : "").ToHashSet(StringComparer.Ordinal);
            foreach (var basePath in bases)
            {
                var baseFolder = await Client.FindByInventoryPathAsync(basePath.Length == 0 ? datacenter + "/vm" : VmPath(datacenter, basePath), cancellationToken);
                if (baseFolder is null)
                {
                    continue;
                }

                foreach (var child in await Client.RetrieveChildrenAsync(baseFolder.Value, "Folder", ["name"], cancellationToken))
                {
                    var name = child.String("name") ?? "";
                    var path = basePath.Length == 0 ? name : basePath + "/" + name;
                    var leadsToConfigured = configured.Any(f => f == path || f.StartsWith(path + "/", StringComparison.Ordinal));
                    if (leadsToConfigured || _options.ResourcesAllowlist.Contains(name, StringComparer.Ordinal))
                    {
                        continue;
                    }

                    await PurgeFolderAsync(child.Obj, VmPath(datacenter, path), cancellationToken);
                }
            }
        }
    }

    private async Task PurgeFolderAsync(MoRef folder, string path, CancellationToken cancellationToken)
    {
        var vms = await Client.RetrieveChildrenAsync(folder, "VirtualMachine", ["name", "runtime.powerState"], cancellationToken);
        var subfolders = await Client.RetrieveChildrenAsync(folder, "Folder", ["name"], cancellationToken);
        VSphereLog.PurgingFolder(_logger, path, vms.Count);
        foreach (var vm in vms)
        {
            await DestroyAsync(vm, cancellationToken);
        }

        foreach (var sub in subfolders)
        {
            await PurgeFolderAsync(sub.Obj, path + "/" + sub.String("name"), cancellationToken);
        }

        await WaitAsync(await Client.DestroyAsync(folder, cancellationToken), cancellationToken);
    }

    private async Task EnsurePurgedAsync(CancellationToken cancellationToken)
    {
        if (!_options.PurgeUnconfiguredFolders || Volatile.Read(ref _purged))
        {
            return;
        }

        await _purgeGate.WaitAsync(cancellationToken);
        try
        {
            if (_purged)
            {
                return;
            }

            try
            {
                await PurgeUnconfiguredFoldersAsync(cancellationToken);
            }
            catch (VSphereException ex) when (ex.FaultType is not null && ex is not VSphereLoginException)
            {
                // vCenter refused part of the purge: tried once, as the original does at start-up; the pools themselves keep working.
                VSphereLog.PurgeFailed(_logger, ex.Message);
            }

            Volatile.Write(ref _purged, true);
        }
        finally
        {
            _purgeGate.Release();
        }
    }
}
