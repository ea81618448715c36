using System.Globalization;
using System.Text.Json;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.VSphere;

/// <summary>Cloning: template, folder, datastore, clone target and host, then the clone and an explicit power-on.</summary>
internal sealed partial class VSphereProvider
{
    public async Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var options = OptionsOf(pool);
        var datacenter = await DatacenterAsync(options, cancellationToken);

        var template = await Client.FindByInventoryPathAsync(VmPath(datacenter, options.Template), cancellationToken);
        if (template is not { Type: "VirtualMachine" } templateVm)
        {
            throw new VSphereException($"pool {pool.Name}: template '{options.Template}' not found at '{VmPath(datacenter, options.Template)}'");
        }

        var linked = options.CreateLinkedClone ?? _options.CreateLinkedClones;
        MoRef? snapshot = null;
        if (linked)
        {
            var info = await Client.RetrieveAsync(templateVm, ["snapshot"], cancellationToken);
            snapshot = info?.Element("snapshot")?.Child("currentSnapshot") is { } current
                ? VimXml.ToRef(current)
                : throw new VSphereException(
                    $"pool {pool.Name}: template '{options.Template}' has no snapshot, which a linked clone needs (take one, or set create_linked_clone: false)");
        }

        var folder = await EnsureFolderAsync(datacenter, options.Folder, cancellationToken);
        MoRef? datastore = null;
        if (options.Datastore is { Length: > 0 } datastoreName)
        {
            datastore = await Client.FindByInventoryPathAsync($"{datacenter}/datastore/{datastoreName}", cancellationToken)
                ?? throw new VSphereException($"pool {pool.Name}: datastore '{datastoreName}' not found in datacenter '{datacenter}'");
        }

        var targetName = options.CloneTarget ?? _options.DefaultCloneTarget
            ?? throw new VSphereException($"pool {pool.Name}: no clone target (set clone_target on the pool or in :config:)");
        var target = await Client.FindByInventoryPathAsync($"{datacenter}/host/{targetName}", cancellationToken)
            ?? throw new VSphereException($"pool {pool.Name}: clone target '{targetName}' not found in datacenter '{datacenter}'");
        var resourcePool = (await Client.RetrieveAsync(target, ["resourcePool"], cancellationToken))?.Ref("resourcePool")
            ?? throw new VSphereException($"pool {pool.Name}: clone target '{targetName}' has no resource pool (is it a cluster or a host?)");
        HostUsage? host = null;
        if (_options.ManageHostSelection)
        {
            host = await SelectHostAsync(target, targetName, cancellationToken);
            LastSelectedHost = host.Name;
        }

        var extraConfig = new List<KeyValuePair<string, string>> { new("guestinfo.hostname", vmName) };
        if (options.SnapshotMainMemIoBlockPages is { } ioBlockPages)
        {
            extraConfig.Add(new("mainMem.ioBlockPages", ioBlockPages));
        }

        if (options.SnapshotMainMemIoWait is { } ioWait)
        {
            extraConfig.Add(new("mainMem.iowait", ioWait));
        }

        extraConfig.AddRange(options.ExtraConfig);
        var spec = new VmCloneSpec
        {
            Datastore = datastore,
            ResourcePool = resourcePool,
            Host = host?.Host,
            LinkedFromSnapshot = snapshot,
            Annotation = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["name"] = vmName,
                ["created_by"] = _options.Connection.Username,
                ["base_template"] = options.Template,
                ["creation_timestamp"] = _time.GetUtcNow().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
            }),
            ExtraConfig = extraConfig,
            PowerOn = true,
        };

        var result = await Client.WaitForTaskAsync(
            await Client.CloneVmAsync(templateVm, folder, vmName, spec, cancellationToken),
            _options.TaskTimeout,
            cancellationToken);
        MoRef? clone = result is null ? null : VimXml.ToRef(result);
        VSphereLog.Cloned(_logger, pool.Name, vmName, options.Template, linked ? "linked" : "full", host?.Name ?? targetName);

        // govmomi's simulator (and a vCenter whose power-on fails quietly) leaves the clone off although powerOn was asked.
        var vm = clone is { } cloneRef ? await Client.RetrieveAsync(cloneRef, VmProperties, cancellationToken) : null;
        vm ??= await FindVmAsync(pool, vmName, cancellationToken)
            ?? throw new VSphereException($"pool {pool.Name}: the clone of '{vmName}' finished but the VM is not in folder '{options.Folder}'");
        if (vm.String("runtime.powerState") != PoweredOn)
        {
            VSphereLog.PoweringOn(_logger, pool.Name, vmName);
            await WaitAsync(await Client.PowerOnVmAsync(vm.Obj, cancellationToken), cancellationToken);
            vm = await Client.RetrieveAsync(vm.Obj, VmProperties, cancellationToken) ?? vm;
        }

        return ToProviderVm(pool, vm);
    }

    /// <summary>The pool's folder, created (with any missing parents) when <c>create_folders</c> is on.</summary>
    private async Task<MoRef> EnsureFolderAsync(string datacenter, string folderPath, CancellationToken cancellationToken)
    {
        if (await Client.FindByInventoryPathAsync(VmPath(datacenter, folderPath), cancellationToken) is { } existing)
        {
            return existing;
        }

        if (!_options.CreateFolders)
        {
            throw new VSphereException(
                $"folder '{folderPath}' does not exist in datacenter '{datacenter}' (create it, or set create_folders: true in :config:)");
        }

        var parent = await Client.FindByInventoryPathAsync(datacenter + "/vm", cancellationToken)
            ?? throw new VSphereException($"datacenter '{datacenter}' not found");
        var path = "";
        foreach (var part in folderPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = path.Length == 0 ? part : path + "/" + part;
            var next = await Client.FindByInventoryPathAsync(VmPath(datacenter, path), cancellationToken);
            if (next is null)
            {
                try
                {
                    next = await Client.CreateFolderAsync(parent, part, cancellationToken);
                    VSphereLog.FolderCreated(_logger, VmPath(datacenter, path));
                }
                catch (VSphereException ex) when (ex.FaultType == "DuplicateName")
                {
                    // Another clone created it first.
                    next = await Client.FindByInventoryPathAsync(VmPath(datacenter, path), cancellationToken)
                        ?? throw new VSphereException($"folder '{path}' was reported as created by someone else (DuplicateName) but is not at its inventory path", ex.FaultType, ex);
                }
            }

            parent = next.Value;
        }

        return parent;
    }

    /// <summary>The next host for a clone onto <paramref name="target"/>, re-reading host usage when the ranking is old.</summary>
    private async Task<HostUsage> SelectHostAsync(MoRef target, string targetName, CancellationToken cancellationToken)
    {
        if (_hosts.NeedsRanking(targetName))
        {
            await _hostGate.WaitAsync(cancellationToken);
            try
            {
                if (_hosts.NeedsRanking(targetName))
                {
                    var hosts = await Client.RetrieveRelatedAsync(
                        target,
                        "host",
                        "HostSystem",
                        [
                            "name", "overallStatus", "runtime.inMaintenanceMode", "runtime.connectionState",
                            "summary.quickStats.overallCpuUsage", "summary.quickStats.overallMemoryUsage",
                            "summary.hardware.cpuMhz", "summary.hardware.numCpuCores", "summary.hardware.memorySize",
                        ],
                        cancellationToken);
                    var usage = hosts.Select(ToHostUsage).ToList();
                    _hosts.Update(targetName, usage);
                    VSphereLog.HostRanking(
                        _logger,
                        targetName,
                        string.Join(", ", usage.Select(h => $"{h.Name} {h.Utilization:0}%{(h.Exclusion(_options.UtilizationLimit) is { } why ? " (" + why + ")" : "")}")));
                }
            }
            finally
            {
                _hostGate.Release();
            }
        }

        return _hosts.Next(targetName);
    }

    private static HostUsage ToHostUsage(ObjectContent host)
    {
        var cpuCapacity = (double)(host.Long("summary.hardware.cpuMhz") ?? 0) * (host.Long("summary.hardware.numCpuCores") ?? 0);
        var memoryMb = (host.Long("summary.hardware.memorySize") ?? 0) / 1024.0 / 1024.0;
        return new HostUsage
        {
            Host = host.Obj,
            Name = host.String("name") ?? host.Obj.Value,
            OverallStatus = host.String("overallStatus") ?? "gray",
            InMaintenanceMode = host.Bool("runtime.inMaintenanceMode") ?? false,
            ConnectionState = host.String("runtime.connectionState") ?? "connected",
            CpuPercent = cpuCapacity > 0 ? (host.Long("summary.quickStats.overallCpuUsage") ?? 0) * 100.0 / cpuCapacity : 0,
            MemoryPercent = memoryMb > 0 ? (host.Long("summary.quickStats.overallMemoryUsage") ?? 0) * 100.0 / memoryMb : 0,
        };
    }
}
