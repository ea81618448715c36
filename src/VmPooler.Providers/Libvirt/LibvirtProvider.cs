using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Libvirt.Native;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// VMs on one or more libvirt hosts (KVM/QEMU locally or over <c>qemu+ssh://</c>/<c>qemu+tls://</c>, or libvirt's
/// <c>test:///</c> driver) through libvirt's C API. A clone is a qcow2 overlay volume on the template domain's disk plus
/// a domain defined from the template's XML (new name, UUID, MACs, disk; vmpooler metadata naming its pool), then
/// started. VMs are found by their metadata, so a restarted process finds every VM of a pool, leaked ones included.
/// </summary>
internal sealed partial class LibvirtProvider : IVmProvider, IDisposable
{
    private readonly LibvirtProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<LibvirtHost> _hosts;
    private readonly ConcurrentDictionary<string, LibvirtHost> _where = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(LibvirtHost Host, string Pool), IReadOnlyList<string>> _lastListing = new();

    public LibvirtProvider(string name, LibvirtProviderOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        Name = name;
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _hosts = [.. options.Hosts.Select(h => new LibvirtHost(h, options.MaxConcurrentPerHost, timeProvider, _logger))];
    }

    public string Name { get; }

    /// <summary>Each host's URI and why it is down (null while it is up), as last seen.</summary>
    public IReadOnlyList<(string Uri, string? DownReason)> HostStatus => [.. _hosts.Select(h => (h.Uri, h.DownReason))];

    /// <summary>The URI of the host <paramref name="vm"/> was last seen on, if any.</summary>
    internal string? HostOf(string vm) => _where.TryGetValue(vm, out var host) ? host.Uri : null;

    /// <summary>
    /// The pool's VMs on every host. A host that cannot be listed contributes the VMs it had when last listed (they are
    /// unreachable, not gone); one never listed since start makes the call fail, so no VM of it is taken for lost.
    /// </summary>
    public async Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        var lists = await Task.WhenAll(_hosts.Select(h => ListAsync(h, pool.Name, cancellationToken))).ConfigureAwait(false);
        var failures = lists.Where(l => l.Error is not null).Select(l => l.Error!).ToList();
        if (failures.Count > 0)
        {
            throw new LibvirtConnectionException(string.Join("; ", failures), LibvirtErrorCode.NoConnect);
        }

        return [.. lists.SelectMany(l => l.Names).Distinct(StringComparer.Ordinal)];
    }

    private async Task<(IReadOnlyList<string> Names, string? Error)> ListAsync(LibvirtHost host, string pool, CancellationToken cancellationToken)
    {
        try
        {
            var domains = await host.CallAsync("listing domains", _options.CallTimeout, LibvirtCalls.OurDomains, cancellationToken).ConfigureAwait(false);
            var names = domains.Where(d => d.Metadata.Pool == pool).Select(d => d.Name).ToList();
            foreach (var name in names)
            {
                _where[name] = host;
            }

            _lastListing[(host, pool)] = names;
            return (names, null);
        }
        catch (LibvirtConnectionException ex)
        {
            if (_lastListing.TryGetValue((host, pool), out var cached))
            {
                LibvirtLog.ListingFromCache(_logger, pool, host.Uri, cached.Count, ex.Message);
                return (cached, null);
            }

            return ([], $"{ex.Message} (its VMs of pool {pool} are unknown until it answers)");
        }
    }

    public async Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var found = await LocateAsync(pool, vmName, cancellationToken).ConfigureAwait(false);
        if (found?.Metadata is not { } metadata || metadata.Pool != pool.Name)
        {
            return null;
        }

        var address = await AddressAsync(found, PoolOptionsFor(pool), cancellationToken).ConfigureAwait(false);
        return new ProviderVm
        {
            Name = vmName,
            Hostname = vmName,
            Template = metadata.Template,
            PoolName = metadata.Pool,
            BootTime = metadata.Created,
            PowerState = LibvirtCalls.PowerState(found.State),
            Ip = address?.Host,
            SshPort = address is { Port: not 22 } a ? a.Port : null,
        };
    }

    public async Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var found = await LocateAsync(pool, vmName, cancellationToken).ConfigureAwait(false);
        return found?.Metadata is null ? null : (await AddressAsync(found, PoolOptionsFor(pool), cancellationToken).ConfigureAwait(false))?.Host;
    }

    public async Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var found = await LocateAsync(pool, vmName, cancellationToken).ConfigureAwait(false);
        if (found?.Metadata is null)
        {
            return ReadyCheckResult.NotReady($"no vmpooler domain '{vmName}' on any host");
        }

        if (found.State != LibvirtNative.DomainRunning)
        {
            return ReadyCheckResult.NotReady($"domain '{vmName}' is {LibvirtCalls.PowerState(found.State)}");
        }

        var options = PoolOptionsFor(pool);
        if (await AddressAsync(found, options, cancellationToken).ConfigureAwait(false) is not { } address)
        {
            return ReadyCheckResult.NotReady($"domain '{vmName}' has no address yet");
        }

        return options.ReadyCheck switch
        {
            LibvirtReadyCheck.Running => ReadyCheckResult.Ready,
            var check => await SshProbe.CheckAsync(address.Host, address.Port, check == LibvirtReadyCheck.Ssh, _time, cancellationToken).ConfigureAwait(false),
        };
    }

    public async Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var found = await LocateAsync(pool, vmName, cancellationToken).ConfigureAwait(false);
        if (found is null)
        {
            return true;
        }

        if (found.Metadata is null)
        {
            throw new LibvirtException($"{found.Host.Uri}: domain '{vmName}' was not created by vmpooler (no vmpooler metadata); not destroying it", LibvirtErrorCode.OperationInvalid);
        }

        var storagePool = PoolOptionsFor(pool).StoragePool;
        var deleted = await found.Host.CallAsync("destroying", _options.StartTimeout, c => DestroyOn(c, vmName, storagePool), cancellationToken).ConfigureAwait(false);
        _where.TryRemove(vmName, out _);
        LibvirtLog.Destroyed(_logger, pool.Name, vmName, found.Host.Uri, deleted);
        return true;
    }

    /// <summary>Stops and undefines the domain (with its snapshots, managed save and NVRAM) and deletes its volumes.</summary>
    private static int DestroyOn(ConnectHandle connection, string vm, string storagePool)
    {
        using (var domain = LibvirtCalls.TryDomain(connection, vm))
        {
            if (domain is not null)
            {
                if (LibvirtCalls.State(domain) != LibvirtNative.DomainShutoff && LibvirtNative.virDomainDestroy(domain) < 0)
                {
                    var error = LibvirtException.FromLastError($"stopping '{vm}'");
                    if (error.Code != LibvirtErrorCode.OperationInvalid)
                    {
                        throw error;
                    }
                }

                const uint all = LibvirtNative.UndefineManagedSave | LibvirtNative.UndefineSnapshotsMetadata | LibvirtNative.UndefineNvram | LibvirtNative.UndefineCheckpointsMetadata;
                if (LibvirtNative.virDomainUndefineFlags(domain, all) < 0)
                {
                    LibvirtNative.virResetLastError(); // drivers without NVRAM or checkpoints refuse those flags
                    LibvirtCalls.Check(LibvirtNative.virDomainUndefineFlags(domain, LibvirtNative.UndefineManagedSave | LibvirtNative.UndefineSnapshotsMetadata), $"undefining '{vm}'");
                }
            }
        }

        using var pool = LibvirtCalls.StoragePool(connection, storagePool);
        return LibvirtCalls.DeleteVolumesOf(pool, vm);
    }

    /// <summary>Where a domain of that name is, with its metadata (null: not vmpooler's) and state; null when on no host.</summary>
    private sealed record Located(string Name, LibvirtHost Host, VmMetadata? Metadata, int State);

    private async Task<Located?> LocateAsync(PoolOptions pool, string vm, CancellationToken cancellationToken)
    {
        var order = _where.TryGetValue(vm, out var cached) ? [cached, .. _hosts.Where(h => h != cached)] : _hosts;
        var failures = new List<string>();
        foreach (var host in order)
        {
            try
            {
                var seen = await host.CallAsync("looking up a domain", _options.CallTimeout, c => Inspect(c, vm), cancellationToken).ConfigureAwait(false);
                if (seen is { } s)
                {
                    _where[vm] = host;
                    return new Located(vm, host, s.Metadata, s.State);
                }
            }
            catch (LibvirtConnectionException ex)
            {
                failures.Add(ex.Message);
            }
        }

        _where.TryRemove(vm, out _);
        return failures.Count == 0 ? null
            : throw new LibvirtConnectionException($"'{vm}' of pool {pool.Name} is on no reachable host, and some are unreachable: {string.Join("; ", failures)}", LibvirtErrorCode.NoConnect);
    }

    private static (VmMetadata? Metadata, int State)? Inspect(ConnectHandle connection, string vm)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm);
        return domain is null ? null : (LibvirtCalls.Metadata(domain), LibvirtCalls.State(domain));
    }

    private async Task<(string Host, int Port)?> AddressAsync(Located found, LibvirtPoolOptions options, CancellationToken cancellationToken)
    {
        if (options.Network == LibvirtNetwork.Forward && found.Metadata?.SshPort is { } port)
        {
            return (found.Host.Address, port);
        }

        var address = await found.Host.CallAsync("reading addresses", _options.CallTimeout, c => AddressOf(c, found.Name), cancellationToken).ConfigureAwait(false);
        return address is null ? null : (address, options.SshPort);
    }

    private static string? AddressOf(ConnectHandle connection, string vm)
    {
        using var domain = LibvirtCalls.TryDomain(connection, vm);
        return domain is null ? null : LibvirtCalls.Address(domain);
    }

    private LibvirtPoolOptions PoolOptionsFor(PoolOptions pool)
    {
        var errors = new List<string>();
        var parsed = LibvirtPoolOptions.Parse(pool, _options.PoolDefaults, $"pools[{pool.Name}]", errors);
        return errors.Count == 0 ? parsed : throw new LibvirtException($"pool {pool.Name} is misconfigured: {string.Join("; ", errors)}", LibvirtErrorCode.InvalidArgument);
    }

    public void Dispose()
    {
        foreach (var host in _hosts)
        {
            host.Dispose();
        }
    }
}
