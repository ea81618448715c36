using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.VSphere;

/// <summary>
/// The vSphere provider (spec §6.1 against vCenter's SOAP API): a pool is a VM folder, a VM is a clone of the pool's
/// template. Inventory reads take one PropertyCollector round trip per pool; clones are full or linked (from the
/// template's current snapshot) and are powered on explicitly when the clone leaves them off; every VM in a pool's
/// folder is reported, so VMs the inventory does not know are adopted and destroyed by the manager.
/// </summary>
internal sealed partial class VSphereProvider : IVmProvider, IAsyncDisposable
{
    private const string PoweredOn = "poweredOn";
    private static readonly TimeSpan TcpCheckTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan IpPollInterval = TimeSpan.FromSeconds(1);

    private static readonly string[] VmProperties =
        ["name", "runtime.powerState", "runtime.bootTime", "guest.ipAddress", "guest.hostName", "guest.toolsRunningStatus"];

    private readonly VSphereProviderOptions _options;
    private readonly IReadOnlyList<PoolOptions> _configuredPools;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, VSpherePoolOptions> _poolOptions = new(StringComparer.Ordinal);
    private readonly HostSelector _hosts;
    private readonly SemaphoreSlim _purgeGate = new(1, 1);
    private readonly SemaphoreSlim _hostGate = new(1, 1);
    private string? _firstDatacenter;
    private bool _purged;

    public VSphereProvider(
        string name,
        VSphereProviderOptions options,
        IReadOnlyList<PoolOptions> configuredPools,
        TimeProvider timeProvider,
        ILogger logger)
    {
        Name = name;
        _options = options;
        _configuredPools = configuredPools;
        _time = timeProvider;
        _logger = logger;
        Client = new VSphereClient(options.Connection, timeProvider, logger);
        _hosts = new HostSelector(options.UtilizationLimit, options.HostSelectionMaxAge, timeProvider);
    }

    public string Name { get; }

    /// <summary>The SOAP client (tests use it to inspect vCenter and to end the session).</summary>
    public VSphereClient Client { get; }

    /// <summary>The host the most recent clone was placed on when host selection is managed (for tests and diagnostics).</summary>
    public string? LastSelectedHost { get; private set; }

    public async Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        await EnsurePurgedAsync(cancellationToken);
        var options = OptionsOf(pool);
        var datacenter = await DatacenterAsync(options, cancellationToken);
        var folder = await Client.FindByInventoryPathAsync(VmPath(datacenter, options.Folder), cancellationToken);
        if (folder is null)
        {
            return [];
        }

        var vms = await Client.RetrieveChildrenAsync(folder.Value, "VirtualMachine", ["name"], cancellationToken);
        return [.. vms.Select(vm => vm.String("name")).OfType<string>()];
    }

    public async Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        while (true)
        {
            var vm = await FindVmAsync(pool, vmName, cancellationToken);
            if (vm is null)
            {
                return null;
            }

            if (vm.String("guest.ipAddress") is { Length: > 0 } ip)
            {
                return ip;
            }

            if (_time.GetElapsedTime(started) + IpPollInterval > _options.IpWaitTimeout)
            {
                return null;
            }

            await Task.Delay(IpPollInterval, _time, cancellationToken);
        }
    }

    public async Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var options = OptionsOf(pool);
        var vm = await FindVmAsync(pool, vmName, cancellationToken);
        if (vm is null)
        {
            return ReadyCheckResult.NotReady($"no VM '{vmName}' in folder '{options.Folder}'");
        }

        var power = vm.String("runtime.powerState") ?? "unknown";
        if (power != PoweredOn)
        {
            return ReadyCheckResult.NotReady($"power state is {power}");
        }

        switch (options.ReadyCheck)
        {
            case VSphereReadyCheck.PoweredOn:
                return ReadyCheckResult.Ready;
            case VSphereReadyCheck.Tools:
                var tools = vm.String("guest.toolsRunningStatus") ?? "unknown";
                return tools == "guestToolsRunning" ? ReadyCheckResult.Ready : ReadyCheckResult.NotReady($"VMware Tools not running ({tools})");
            default:
                return vm.String("guest.ipAddress") is { Length: > 0 } ip
                    ? await CheckTcpAsync(ip, 22, cancellationToken)
                    : ReadyCheckResult.NotReady("no IP address reported by VMware Tools yet");
        }
    }

    public async Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, cancellationToken);
        return vm is null ? null : ToProviderVm(pool, vm);
    }

    public async Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        var vm = await FindVmAsync(pool, vmName, cancellationToken);
        if (vm is null)
        {
            return true;
        }

        try
        {
            await DestroyAsync(vm, cancellationToken);
        }
        catch (VSphereException ex) when (ex.IsManagedObjectNotFound)
        {
            // Gone meanwhile: that is what we wanted.
        }

        return true;
    }

    /// <summary>Powers a VM off when it is on, then destroys it.</summary>
    private async Task DestroyAsync(ObjectContent vm, CancellationToken cancellationToken)
    {
        if (vm.String("runtime.powerState") == PoweredOn)
        {
            try
            {
                await WaitAsync(await Client.PowerOffVmAsync(vm.Obj, cancellationToken), cancellationToken);
            }
            catch (VSphereException ex) when (ex.FaultType == "InvalidPowerState")
            {
                // Already off.
            }
        }

        await WaitAsync(await Client.DestroyAsync(vm.Obj, cancellationToken), cancellationToken);
    }

    /// <summary>The VM <paramref name="vmName"/> in the pool's folder, with <see cref="VmProperties"/>; null when it is not there.</summary>
    private Task<ObjectContent?> FindVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => FindVmAsync(pool, vmName, [], cancellationToken);

    private async Task<ObjectContent?> FindVmAsync(PoolOptions pool, string vmName, IReadOnlyList<string> extra, CancellationToken cancellationToken)
    {
        var options = OptionsOf(pool);
        var datacenter = await DatacenterAsync(options, cancellationToken);
        var found = await Client.FindByInventoryPathAsync(VmPath(datacenter, options.Folder + "/" + vmName), cancellationToken);
        if (found is not { Type: "VirtualMachine" } vm)
        {
            return null;
        }

        return await Client.RetrieveAsync(vm, [.. VmProperties, .. extra], cancellationToken);
    }

    private static ProviderVm ToProviderVm(PoolOptions pool, ObjectContent vm) => new()
    {
        Name = vm.String("name") ?? "",
        Hostname = vm.String("guest.hostName") ?? "",
        Template = pool.Template,
        PoolName = pool.Name,
        BootTime = vm.Time("runtime.bootTime"),
        PowerState = vm.String("runtime.powerState") ?? "",
        Ip = vm.String("guest.ipAddress") is { Length: > 0 } ip ? ip : null,
    };

    private async Task<ReadyCheckResult> CheckTcpAsync(string ip, int port, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(TcpCheckTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(ip, port, linked.Token);
            return ReadyCheckResult.Ready;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return ReadyCheckResult.NotReady($"TCP {port} on {ip}: no answer within {TcpCheckTimeout.TotalSeconds:0} s");
        }
        catch (SocketException ex)
        {
            return ReadyCheckResult.NotReady($"TCP {port} on {ip}: {ex.Message}");
        }
    }

    private Task WaitAsync(MoRef task, CancellationToken cancellationToken)
        => Client.WaitForTaskAsync(task, _options.TaskTimeout, cancellationToken);

    private VSpherePoolOptions OptionsOf(PoolOptions pool)
        => _poolOptions.GetOrAdd(pool.Name, _ => VSpherePoolOptions.Parse(pool, "pools." + pool.Name, new List<string>()));

    /// <summary>The pool's datacenter: its own, the provider's, or else the first datacenter of the vCenter.</summary>
    private async Task<string> DatacenterAsync(VSpherePoolOptions pool, CancellationToken cancellationToken)
    {
        if ((pool.Datacenter ?? _options.Datacenter) is { Length: > 0 } configured)
        {
            return configured;
        }

        if (_firstDatacenter is { } first)
        {
            return first;
        }

        var content = await Client.GetServiceContentAsync(cancellationToken);
        var datacenters = await Client.RetrieveChildrenAsync(content.RootFolder, "Datacenter", ["name"], cancellationToken);
        _firstDatacenter = datacenters.Select(d => d.String("name")).FirstOrDefault(n => n is not null)
            ?? throw new VSphereException($"vCenter at {Client.SdkUrl.Host} has no datacenter");
        return _firstDatacenter;
    }

    private static string VmPath(string datacenter, string path) => datacenter + "/vm/" + path.Trim('/');

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        _purgeGate.Dispose();
        _hostGate.Dispose();
    }
}
