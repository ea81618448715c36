using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

internal sealed partial class LibvirtProvider
{
    /// <summary>What a clone is assumed to need until it runs, when the pool does not set <c>memory</c>.</summary>
    private const ulong DefaultCloneMemory = 512UL << 20;

    private readonly Lock _reservationGate = new();
    private readonly Dictionary<LibvirtHost, ulong> _reservedMemory = [];
    private readonly HashSet<(string Address, int Port)> _reservedPorts = [];

    public async Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var options = PoolOptionsFor(pool);
        var memory = options.MemoryMiB is { } mib ? (ulong)mib << 20 : DefaultCloneMemory;
        var host = await ChooseHostAsync(memory, cancellationToken).ConfigureAwait(false);
        var started = _time.GetTimestamp();
        (string, int)? port = null;
        try
        {
            if (options.Network == LibvirtNetwork.Forward)
            {
                port = await ReservePortAsync(host, cancellationToken).ConfigureAwait(false);
            }

            var metadata = new VmMetadata(pool.Name, options.Template, _time.GetUtcNow(), port?.Item2);
            await CloneOnAsync(host, pool, vmName, options, metadata, cancellationToken).ConfigureAwait(false);
            _where[vmName] = host;
            LibvirtLog.Cloned(_logger, pool.Name, vmName, options.Template, host.Uri, (long)_time.GetElapsedTime(started).TotalMilliseconds);
            return new ProviderVm
            {
                Name = vmName,
                Hostname = vmName,
                Template = options.Template,
                PoolName = pool.Name,
                BootTime = metadata.Created,
                PowerState = "running",
                Ip = port is null ? null : host.Address,
                SshPort = port?.Item2,
            };
        }
        finally
        {
            lock (_reservationGate)
            {
                _reservedMemory[host] -= memory;
                if (port is { } p)
                {
                    _reservedPorts.Remove(p);
                }
            }
        }
    }

    private async Task CloneOnAsync(LibvirtHost host, PoolOptions pool, string vm, LibvirtPoolOptions options, VmMetadata metadata, CancellationToken cancellationToken)
    {
        try
        {
            var forward = options.Network == LibvirtNetwork.Forward ? _options.ForwardAddress : null;
            await host.CallAsync("defining a clone", _options.CallTimeout, c => Define(c, vm, options, metadata, forward), cancellationToken).ConfigureAwait(false);
            await host.CallAsync("starting a clone", _options.StartTimeout, c => Start(c, vm), cancellationToken).ConfigureAwait(false);
        }
        catch (LibvirtException ex) when (ex.Code is not (LibvirtErrorCode.DomainExists or LibvirtErrorCode.StorageVolumeExists))
        {
            // Whatever was made (volume, definition) goes, so a failed clone leaves nothing behind.
            LibvirtLog.CloneFailed(_logger, pool.Name, vm, host.Uri, ex.Message);
            try
            {
                await host.CallAsync("cleaning up a failed clone", _options.StartTimeout, c => DestroyOn(c, vm, options.StoragePool), CancellationToken.None).ConfigureAwait(false);
            }
            catch (LibvirtException cleanup)
            {
                LibvirtLog.OperationFailed(_logger, pool.Name, "cleanup", vm, cleanup.Message);
            }

            throw;
        }
    }

    /// <summary>Creates the overlay volume on the template's disk and defines the clone's domain.</summary>
    private static int Define(ConnectHandle connection, string vm, LibvirtPoolOptions options, VmMetadata metadata, string? forwardAddress)
    {
        using var template = LibvirtCalls.TryDomain(connection, options.Template)
            ?? throw new LibvirtNotFoundException($"template domain '{options.Template}' not found", LibvirtErrorCode.NoDomain);
        var templateXml = LibvirtCalls.DomainXml(template, LibvirtNative.DomainXmlInactive | LibvirtNative.DomainXmlSecure, $"reading template '{options.Template}'");
        using var storagePool = LibvirtCalls.StoragePool(connection, options.StoragePool);
        using var baseVolume = BaseVolume(connection, storagePool, templateXml, options);
        var (capacity, format, _) = DomainXml.Volume(LibvirtCalls.VolumeXml(baseVolume));
        var basePath = LibvirtCalls.VolumePath(baseVolume);
        using var overlay = LibvirtCalls.CreateVolume(storagePool, DomainXml.NewVolume(vm + ".qcow2", capacity, basePath, format), vm + ".qcow2");
        var spec = new DomainXml.CloneSpec(vm, LibvirtCalls.VolumePath(overlay), metadata, options.MemoryMiB, options.Cpus, forwardAddress);
        using var domain = LibvirtCalls.Check(LibvirtNative.virDomainDefineXML(connection, DomainXml.Clone(templateXml, spec)), $"defining '{vm}'");
        return 0;
    }

    private static VolumeHandle BaseVolume(ConnectHandle connection, StoragePoolHandle storagePool, string templateXml, LibvirtPoolOptions options)
    {
        if (options.TemplateVolume is { } name)
        {
            return LibvirtCalls.TryVolume(storagePool, name)
                ?? throw new LibvirtNotFoundException($"template volume '{name}' not found in storage pool '{options.StoragePool}'", LibvirtErrorCode.NoStorageVolume);
        }

        var disk = DomainXml.Disks(templateXml).FirstOrDefault();
        if (disk.Pool is { } poolName && disk.Volume is { } volumeName)
        {
            using var other = LibvirtCalls.StoragePool(connection, poolName);
            return LibvirtCalls.TryVolume(other, volumeName)
                ?? throw new LibvirtNotFoundException($"template disk volume '{poolName}/{volumeName}' not found", LibvirtErrorCode.NoStorageVolume);
        }

        if (disk.File is { } path)
        {
            return LibvirtCalls.Check(LibvirtNative.virStorageVolLookupByPath(connection, path), $"template disk '{path}' is not a volume of a storage pool (set template_volume or move it into one)");
        }

        throw new LibvirtNotFoundException($"template domain '{options.Template}' has no disk with a file or volume source", LibvirtErrorCode.NoStorageVolume);
    }

    private static int Start(ConnectHandle connection, string vm)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm) ?? throw new LibvirtNotFoundException($"'{vm}' vanished before it started", LibvirtErrorCode.NoDomain);
        return LibvirtCalls.Check(LibvirtNative.virDomainCreate(domain), $"starting '{vm}'");
    }

    /// <summary>
    /// The reachable host with the most free memory (less what clones in flight will take) below
    /// <c>utilization_limit</c>; reserves <paramref name="memory"/> on it. Down and full hosts are skipped and logged.
    /// </summary>
    private async Task<LibvirtHost> ChooseHostAsync(ulong memory, CancellationToken cancellationToken)
    {
        var readings = await Task.WhenAll(_hosts.Select(async h =>
        {
            try
            {
                var (total, free) = await h.CallAsync("reading memory", _options.CallTimeout, LibvirtCalls.NodeMemory, cancellationToken).ConfigureAwait(false);
                return (Host: h, Total: total, Free: free, Error: (string?)null);
            }
            catch (LibvirtException ex)
            {
                return (Host: h, Total: 0UL, Free: 0UL, Error: ex.Message);
            }
        })).ConfigureAwait(false);

        var reasons = new List<string>();
        lock (_reservationGate)
        {
            LibvirtHost? best = null;
            ulong bestFree = 0;
            foreach (var (host, total, free, error) in readings)
            {
                var reserved = _reservedMemory.GetValueOrDefault(host);
                var available = free > reserved ? free - reserved : 0;
                var used = total == 0 ? 100 : 100.0 * (total - Math.Min(total, available)) / total;
                var reason = error ?? (used >= _options.UtilizationLimit ? $"{used:0.#}% of its memory in use (utilization_limit {_options.UtilizationLimit})" : null);
                if (reason is not null)
                {
                    LibvirtLog.HostSkipped(_logger, host.Uri, reason);
                    reasons.Add($"{host.Uri}: {reason}");
                }
                else if (best is null || available > bestFree)
                {
                    (best, bestFree) = (host, available);
                }
            }

            if (best is null)
            {
                throw new LibvirtConnectionException("no host can take a clone: " + string.Join("; ", reasons), LibvirtErrorCode.NoConnect);
            }

            _reservedMemory[best] = _reservedMemory.GetValueOrDefault(best) + memory;
            return best;
        }
    }

    /// <summary>A forwarded port of <paramref name="host"/> no domain there uses and no clone in flight has taken.</summary>
    private async Task<(string, int)> ReservePortAsync(LibvirtHost host, CancellationToken cancellationToken)
    {
        var domains = await host.CallAsync("listing domains", _options.CallTimeout, LibvirtCalls.OurDomains, cancellationToken).ConfigureAwait(false);
        var used = domains.Select(d => d.Metadata.SshPort).OfType<int>().ToHashSet();
        lock (_reservationGate)
        {
            for (var port = _options.ForwardPorts.Min; port <= _options.ForwardPorts.Max; port++)
            {
                if (!used.Contains(port) && _reservedPorts.Add((host.Address, port)))
                {
                    return (host.Address, port);
                }
            }
        }

        throw new LibvirtException($"{host.Uri}: every port of forward_ports {_options.ForwardPorts.Min}-{_options.ForwardPorts.Max} is taken", LibvirtErrorCode.OperationFailed);
    }
}
