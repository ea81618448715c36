using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// Real VMs on this host: one <c>qemu-system-x86_64</c> process per VM, driven over its QMP socket, with a qcow2
/// overlay on the pool's base image and the guest's SSH port forwarded to loopback (user-mode networking). All state
/// lives under <c>run_dir/POOL/VM</c>, so another instance or process (a restarted service) finds the VMs again; the
/// QEMU processes are daemonized and outlive the service. Clones restore a saved golden state of their pool when
/// there is one (sub-second; sharing its RAM file copy-on-write by default), at most <c>max_concurrent_restores</c> at
/// once, else cold-boot, at most <c>max_concurrent_boots</c> at once.
/// </summary>
public sealed partial class QemuProvider : IVmProvider
{
    private const string PoweredOn = "PoweredOn";
    private const string PoweredOff = "PoweredOff";
    private static readonly TimeSpan QmpTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SlowQmpTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CreatingGrace = TimeSpan.FromMinutes(5);
    private static readonly JsonSerializerOptions RecordJson = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly QemuProviderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _bootSlots;
    private readonly SemaphoreSlim _restoreSlots;
    private readonly ConcurrentDictionary<string, QemuPoolOptions> _pools = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _vmLocks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _creating = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _reservedEndpoints = new(StringComparer.Ordinal);
    private readonly HostKeyPool _hostKeys;

    public QemuProvider(string name, QemuProviderOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        Name = name;
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _bootSlots = new SemaphoreSlim(options.MaxConcurrentBoots, options.MaxConcurrentBoots);
        _restoreSlots = new SemaphoreSlim(options.MaxConcurrentRestores, options.MaxConcurrentRestores);

        // As many keys ahead as clones can restore at once; dropbearkey writes each into run_dir for a moment (what a
        // killed process left there is removed at start; a key takes milliseconds, so ten minutes spares any in the making).
        DropbearHostKey.RemoveLeftovers(options.RunDir, TimeSpan.FromMinutes(10), timeProvider.GetUtcNow());
        _hostKeys = new HostKeyPool(
            ct => DropbearHostKey.GenerateAsync(options.DropbearKeyBinary, Directory.CreateDirectory(options.RunDir).FullName, StartTimeout, timeProvider, ct),
            options.MaxConcurrentRestores);
    }

    public string Name { get; }

    public QemuProviderOptions Options => _options;

    /// <summary>The directory of a VM (whether or not it exists).</summary>
    public string VmDirectory(string pool, string vm) => Path.Combine(_options.RunDir, pool, vm);

    public Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        var poolDir = Path.Combine(_options.RunDir, pool.Name);
        if (!Directory.Exists(poolDir))
        {
            return Task.FromResult<IReadOnlyList<string>>([]);
        }

        var names = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(poolDir))
        {
            var vm = Path.GetFileName(dir);
            if (!IsValidName(vm))
            {
                continue;
            }

            switch (Liveness(new VmFiles(dir)))
            {
                case VmLiveness.Running:
                case VmLiveness.Creating:
                    names.Add(vm);
                    break;
                default:
                    // It died (or its creation was abandoned): nothing runs, so its files go, and the manager drops it.
                    if (TryRemoveDirectory(dir))
                    {
                        QemuLog.Reaped(_logger, pool.Name, vm);
                    }

                    break;
            }
        }

        return Task.FromResult<IReadOnlyList<string>>(names);
    }

    public async Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (!IsValidName(vmName) || !IsValidName(pool.Name))
        {
            throw new ArgumentException($"qemu provider: invalid VM or pool name '{pool.Name}/{vmName}' (letters, digits, '-' and '_' only)");
        }

        var poolOptions = PoolOptionsOf(pool);
        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        files.Check();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(files.Directory)!);
            if (Directory.Exists(files.Directory))
            {
                throw new InvalidOperationException($"qemu provider: a VM named '{vmName}' already exists in pool '{pool.Name}'");
            }

            Directory.CreateDirectory(files.Directory);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"qemu provider: cannot create {files.Directory}: {ex.Message}", ex);
        }

        _creating[files.Directory] = 0;
        _hostKeys.Refill();
        var vmLock = LockOf(files.Directory);

        // The directory is new, so nobody else holds its lock: this wait never blocks, and the cleanup below always runs.
        await vmLock.WaitAsync(CancellationToken.None);
        try
        {
            var saved = poolOptions.SavedState != SavedStateMode.Off && poolOptions.Template?.Kernel is not null
                ? await SavedStateForAsync(pool.Name, poolOptions, cancellationToken)
                : null;
            var record = saved is null ? null : await RestoreAsync(pool, poolOptions, vmName, files, saved, cancellationToken);
            record ??= await ColdBootAsync(pool, poolOptions, vmName, files, cancellationToken);
            return ToProviderVm(pool, record, PoweredOn);
        }
        catch
        {
            // Nothing half-made is left behind: the process (if any) and the files go.
            await StopAsync(files, CancellationToken.None);
            TryRemoveDirectory(files.Directory);
            throw;
        }
        finally
        {
            vmLock.Release();
            _creating.TryRemove(files.Directory, out _);
        }
    }

    public Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
        => Task.FromResult(ReadRecord(pool, vmName)?.Ip);

    public async Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (!IsValidName(vmName) || !IsValidName(pool.Name))
        {
            return ReadyCheckResult.NotReady($"qemu provider: invalid VM name '{vmName}'");
        }

        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        var liveness = Directory.Exists(files.Directory) ? Liveness(files) : (VmLiveness?)null;
        var record = ReadRecord(files);
        return (liveness, record) switch
        {
            // No QEMU runs it and none is starting it (the manager that cloned it died, or QEMU did): it can never become
            // ready, so the manager replaces it at once instead of waiting for the pool's timeout.
            (VmLiveness.Dead, null) => ReadyCheckResult.CloneAbandoned($"qemu provider: the clone of '{vmName}' did not finish (no QEMU process, nothing creating it)"),
            (VmLiveness.Dead, _) => ReadyCheckResult.CloneAbandoned($"qemu provider: the QEMU process of '{vmName}' is gone"),
            (VmLiveness.Creating, _) => ReadyCheckResult.NotReady($"qemu provider: '{vmName}' is still being created"),
            (VmLiveness.Running, { } running) => await GuestProbe.SshBannerProblemAsync(running.Ip, running.SshPort, TimeSpan.FromSeconds(3), _time, cancellationToken) is { } problem
                ? ReadyCheckResult.NotReady(problem)
                : ReadyCheckResult.Ready,
            _ => ReadyCheckResult.NotReady($"qemu provider: no VM '{vmName}' in pool '{pool.Name}'"),
        };
    }

    public Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (!IsValidName(vmName) || !IsValidName(pool.Name))
        {
            return Task.FromResult<ProviderVm?>(null);
        }

        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        var record = ReadRecord(files);
        if (record is null)
        {
            return Task.FromResult<ProviderVm?>(Liveness(files) == VmLiveness.Creating ? new ProviderVm { Name = vmName, PoolName = pool.Name, Template = pool.Template, PowerState = "Creating" } : null);
        }

        var state = Liveness(files) == VmLiveness.Running ? PoweredOn : PoweredOff;
        return Task.FromResult<ProviderVm?>(ToProviderVm(pool, record, state));
    }

    public async Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken)
    {
        if (!IsValidName(vmName) || !IsValidName(pool.Name))
        {
            return true;
        }

        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        if (!Directory.Exists(files.Directory))
        {
            return true;
        }

        var vmLock = LockOf(files.Directory);
        await vmLock.WaitAsync(cancellationToken);
        try
        {
            var pid = HostProcesses.ReadPid(files.Pid) ?? 0;
            var how = await StopAsync(files, cancellationToken);
            if (!TryRemoveDirectory(files.Directory) && Directory.Exists(files.Directory))
            {
                throw new IOException($"qemu provider: could not remove {files.Directory}");
            }

            QemuLog.Destroyed(_logger, pool.Name, vmName, pid, how);
            return true;
        }
        finally
        {
            vmLock.Release();
        }
    }

    public async Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken)
    {
        if (sizeGb is < 1 or > 4096 || !IsValidName(vmName) || !IsValidName(pool.Name))
        {
            return false;
        }

        var poolOptions = PoolOptionsOf(pool);
        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        if (ReadRecord(files) is null || Liveness(files) != VmLiveness.Running || poolOptions.Machine == QemuMachine.Microvm)
        {
            return false;
        }

        var vmLock = LockOf(files.Directory);
        await vmLock.WaitAsync(cancellationToken);
        try
        {
            var index = 1;
            while (File.Exists(files.ExtraDisk(index)))
            {
                index++;
            }

            if (poolOptions.Machine == QemuMachine.Q35 && index > QemuCommandLine.Q35HotplugPorts)
            {
                return false;
            }

            var disk = files.ExtraDisk(index);
            var created = await HostProcesses.RunAsync(
                _options.QemuImgBinary,
                ["create", "-q", "-f", "qcow2", disk, sizeGb.ToString(CultureInfo.InvariantCulture) + "G"],
                StartTimeout,
                _time,
                cancellationToken);
            if (created.ExitCode != 0)
            {
                QemuLog.OperationFailed(_logger, pool.Name, vmName, "create_disk", created.Describe());
                return false;
            }

            await using var qmp = await QmpClient.ConnectAsync(files.Qmp, _time, QmpTimeout, cancellationToken);
            await qmp.ExecuteAsync(
                "blockdev-add",
                new JsonObject
                {
                    ["driver"] = "qcow2",
                    ["node-name"] = $"xdisk{index}",
                    ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = disk },
                },
                cancellationToken);
            var device = new JsonObject { ["driver"] = "virtio-blk-pci", ["id"] = $"xdev{index}", ["drive"] = $"xdisk{index}" };
            if (poolOptions.Machine == QemuMachine.Q35)
            {
                device["bus"] = $"hp{index}";
            }

            await qmp.ExecuteAsync("device_add", device, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is QmpException or IOException or SocketException or TimeoutException)
        {
            QemuLog.OperationFailed(_logger, pool.Name, vmName, "create_disk", ex.Message);
            return false;
        }
        finally
        {
            vmLock.Release();
        }
    }

    public async Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        if (!SnapshotName().IsMatch(snapshotName))
        {
            return false;
        }

        return await WithRunningVmAsync(pool, vmName, "create_snapshot", async qmp =>
        {
            // savevm keeps the VM running afterwards (it pauses it only while saving).
            var output = await qmp.HumanAsync("savevm " + snapshotName, cancellationToken);
            if (output.Trim().Length > 0)
            {
                QemuLog.OperationFailed(_logger, pool.Name, vmName, "create_snapshot", output.Trim());
                return false;
            }

            return true;
        }, cancellationToken);
    }

    public async Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken)
    {
        if (!SnapshotName().IsMatch(snapshotName))
        {
            return false;
        }

        return await WithRunningVmAsync(pool, vmName, "revert_snapshot", async qmp =>
        {
            // A failed loadvm leaves the VM stopped: ask first, and resume whatever happens.
            var list = await qmp.HumanAsync("info snapshots", cancellationToken);
            if (!HasSnapshot(list, snapshotName))
            {
                return false;
            }

            try
            {
                var output = await qmp.HumanAsync("loadvm " + snapshotName, cancellationToken);
                if (output.Trim().Length > 0)
                {
                    QemuLog.OperationFailed(_logger, pool.Name, vmName, "revert_snapshot", output.Trim());
                    return false;
                }

                return true;
            }
            finally
            {
                if (await qmp.StatusAsync(cancellationToken) != "running")
                {
                    await qmp.ExecuteAsync("cont", null, cancellationToken);
                }
            }
        }, cancellationToken);
    }

    /// <summary>Runs <paramref name="action"/> over QMP on a running VM, under its lock; false when there is no such VM.</summary>
    private async Task<bool> WithRunningVmAsync(PoolOptions pool, string vmName, string operation, Func<QmpClient, Task<bool>> action, CancellationToken cancellationToken)
    {
        if (!IsValidName(vmName) || !IsValidName(pool.Name))
        {
            return false;
        }

        var files = new VmFiles(VmDirectory(pool.Name, vmName));
        if (ReadRecord(files) is null || Liveness(files) != VmLiveness.Running)
        {
            return false;
        }

        var vmLock = LockOf(files.Directory);
        await vmLock.WaitAsync(cancellationToken);
        try
        {
            await using var qmp = await QmpClient.ConnectAsync(files.Qmp, _time, SlowQmpTimeout, cancellationToken);
            return await action(qmp);
        }
        catch (Exception ex) when (ex is QmpException or IOException or SocketException or TimeoutException)
        {
            QemuLog.OperationFailed(_logger, pool.Name, vmName, operation, ex.Message);
            return false;
        }
        finally
        {
            vmLock.Release();
        }
    }

    /// <summary>Whether the <c>info snapshots</c> table lists <paramref name="name"/> as a tag.</summary>
    internal static bool HasSnapshot(string infoSnapshots, string name)
    {
        foreach (var line in infoSnapshots.Split('\n'))
        {
            var columns = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length >= 2 && columns[1] == name)
            {
                return true;
            }
        }

        return false;
    }

    private async Task<VmRecord> ColdBootAsync(PoolOptions pool, QemuPoolOptions poolOptions, string vmName, VmFiles files, CancellationToken cancellationToken)
    {
        var template = poolOptions.Template!;
        await CreateOverlayAsync(files.Disk, template.BaseImage, cancellationToken);
        await _bootSlots.WaitAsync(cancellationToken);
        try
        {
            var started = _time.GetTimestamp();
            var (address, port) = await StartQemuAsync(pool.Name, poolOptions, files, vmName, vmName, QemuStart.Cold, cancellationToken);
            string? fingerprint = null;
            if (template.Kernel is not null)
            {
                // Our guest (booted from its kernel) has a root shell on its console, and no SSH until it is given its
                // own host key through it.
                await WaitForConsoleAsync(files, _options.BootTimeout, cancellationToken);
                await (BeforeIdentity?.Invoke(address, port) ?? Task.CompletedTask);
                fingerprint = (await GiveIdentityAndAwaitSshAsync(files, vmName, address, port, agentWaiting: false, cancellationToken)).Fingerprint;
            }
            else
            {
                await WaitForSshAsync(files, address, port, _options.BootTimeout, cancellationToken);
            }

            var record = new VmRecord(vmName, pool.Name, pool.Template, address, port, _time.GetUtcNow(), vmName, "cold", fingerprint);
            WriteRecord(files, record);
            QemuLog.Started(_logger, pool.Name, vmName, HostProcesses.ReadPid(files.Pid) ?? 0, address, port, "cold boot", (long)_time.GetElapsedTime(started).TotalMilliseconds);
            return record;
        }
        finally
        {
            _bootSlots.Release();
        }
    }

    /// <summary>
    /// Starts QEMU daemonized for <paramref name="files"/>, picking the SSH forward; when the forward clashes with a
    /// port in use (QEMU exits at start) it retries with another. Returns the forward.
    /// </summary>
    private async Task<(string Address, int Port)> StartQemuAsync(
        string pool,
        QemuPoolOptions poolOptions,
        VmFiles files,
        string vmName,
        string guestHostname,
        QemuStart start,
        CancellationToken cancellationToken)
    {
        const int Attempts = 6;
        for (var attempt = 1; ; attempt++)
        {
            var (address, port) = PickEndpoint();
            try
            {
                File.Delete(files.Errors);
                File.Delete(files.Log);
                var args = QemuCommandLine.Build(poolOptions, files, vmName, guestHostname, address, port, start);
                var exit = await HostProcesses.RunDetachedAsync(_options.QemuBinary, args, files.Errors, StartTimeout, _time, cancellationToken);
                if (exit == 0 && HostProcesses.ReadPid(files.Pid) is not null)
                {
                    return (address, port);
                }

                // With -D, QEMU reports start-up errors in its log file rather than on stderr.
                var errors = $"{HostProcesses.Tail(files.Errors, 4)} {HostProcesses.Tail(files.Log, 4)}".Trim();
                var clash = errors.Contains("host forwarding", StringComparison.OrdinalIgnoreCase) || errors.Contains("in use", StringComparison.OrdinalIgnoreCase);
                if (clash && attempt < Attempts)
                {
                    QemuLog.PortClash(_logger, pool, vmName, address, port);
                    continue;
                }

                throw new InvalidOperationException($"qemu exited with code {exit} at start: {(errors.Length > 0 ? errors : "no message")}");
            }
            finally
            {
                _reservedEndpoints.TryRemove($"{address}:{port}", out _);
            }
        }
    }

    /// <summary>For tests: replaces the choice of SSH forwards (e.g. to hand out a port that is taken).</summary>
    internal Func<(string Address, int Port)>? EndpointPicker { get; set; }

    /// <summary>For tests: called with a VM's SSH forward once it runs but before it has its identity (its own host key).</summary>
    internal Func<string, int, Task>? BeforeIdentity { get; set; }

    /// <summary>For tests: the refill of the host keys made ahead (completed when none runs).</summary>
    internal Task HostKeysFilling => _hostKeys.Filling;

    /// <summary>An SSH forward no other VM uses: a free port on 127.0.0.1, or a free 127.0.0.N with port 22.</summary>
    private (string Address, int Port) PickEndpoint()
    {
        if (EndpointPicker is { } picker)
        {
            return picker();
        }

        if (_options.SshForward == SshForward.Port)
        {
            for (var i = 0; i < 20; i++)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (_reservedEndpoints.TryAdd($"127.0.0.1:{port}", 0))
                {
                    return ("127.0.0.1", port);
                }
            }

            throw new InvalidOperationException("qemu provider: no free port on 127.0.0.1");
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in AllRecords())
        {
            used.Add(record.Ip);
        }

        var start = Random.Shared.Next(2, 255);
        for (var i = 0; i < 253; i++)
        {
            var address = $"127.0.0.{2 + ((start - 2 + i) % 253)}";
            if (!used.Contains(address) && _reservedEndpoints.TryAdd($"{address}:22", 0))
            {
                return (address, 22);
            }
        }

        throw new InvalidOperationException("qemu provider: every loopback address 127.0.0.2-254 is taken");
    }

    private IEnumerable<VmRecord> AllRecords()
    {
        if (!Directory.Exists(_options.RunDir))
        {
            yield break;
        }

        foreach (var record in Directory.EnumerateFiles(_options.RunDir, "vm.json", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 2 }))
        {
            if (ReadRecord(new VmFiles(Path.GetDirectoryName(record)!)) is { } vm)
            {
                yield return vm;
            }
        }
    }

    private async Task WaitForSshAsync(VmFiles files, string address, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var pid = HostProcesses.ReadPid(files.Pid) ?? 0;
        string? problem;
        do
        {
            if (!HostProcesses.IsAlive(pid, files.Directory))
            {
                throw new InvalidOperationException($"qemu exited while booting: {HostProcesses.Tail(files.Errors, 4)} {HostProcesses.Tail(files.Log, 4)} {HostProcesses.Tail(files.Console, 4)}".Trim());
            }

            // One probe waits long for its banner: a slow guest (a loaded host) must not collect unanswered connections,
            // or dropbear's limit of 5 unauthenticated connections per address (all come from QEMU's 10.0.2.2) drops
            // the next ones unanswered. A guest not listening yet closes the connection at once.
            problem = await GuestProbe.SshBannerProblemAsync(address, port, TimeSpan.FromSeconds(5), _time, cancellationToken);
            if (problem is null)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(30), _time, cancellationToken);
        }
        while (_time.GetElapsedTime(started) < timeout);

        throw new TimeoutException($"no SSH banner within {timeout.TotalSeconds:0} s ({problem}); console: {HostProcesses.Tail(files.Console, 4)}");
    }

    /// <summary>How long after a restore's start its status is asked for often (<see cref="WaitForRunningAsync"/>).</summary>
    private static readonly TimeSpan FastStatusPolls = TimeSpan.FromMilliseconds(500);

    private async Task WaitForRunningAsync(VmFiles files, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        await using var qmp = await QmpClient.ConnectAsync(files.Qmp, _time, QmpTimeout, cancellationToken);
        while (true)
        {
            var status = await qmp.StatusAsync(cancellationToken);
            if (status == "running")
            {
                return;
            }

            if (status == "paused")
            {
                // A state saved from a paused VM (the copy made by the helper) restores paused.
                await qmp.ExecuteAsync("cont", null, cancellationToken);
                continue;
            }

            if (status != "inmigrate" && status != "prelaunch" && status != "restore-vm")
            {
                throw new InvalidOperationException($"the restored VM is '{status}', not running");
            }

            if (_time.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"the saved state was not restored within {timeout.TotalSeconds:0} s (status {status})");
            }

            // A shared clone loads its device state in 5-10 ms: asked again only after 20 ms, it waited ~15 ms for
            // nothing. Soon after the start the status is asked every 2 ms (a QMP round trip each), later every 20 ms.
            await Task.Delay(_time.GetElapsedTime(started) < FastStatusPolls ? TimeSpan.FromMilliseconds(2) : TimeSpan.FromMilliseconds(20), _time, cancellationToken);
        }
    }

    private async Task CreateOverlayAsync(string overlay, string backing, CancellationToken cancellationToken)
    {
        var result = await HostProcesses.RunAsync(
            _options.QemuImgBinary,
            ["create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", overlay],
            StartTimeout,
            _time,
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"qemu-img could not create the overlay on {backing}: {result.Describe()}");
        }
    }

    /// <summary>
    /// Stops the VM of <paramref name="files"/> if it runs: QMP <c>quit</c>, then SIGKILL when it does not exit. Returns how.
    /// </summary>
    private async Task<string> StopAsync(VmFiles files, CancellationToken cancellationToken)
    {
        if (HostProcesses.ReadPid(files.Pid) is not { } pid || !HostProcesses.IsAlive(pid, files.Directory))
        {
            return "not running";
        }

        try
        {
            await using var qmp = await QmpClient.ConnectAsync(files.Qmp, _time, TimeSpan.FromSeconds(3), cancellationToken);
            await qmp.ExecuteAsync("quit", null, cancellationToken);
        }
        catch (Exception ex) when (ex is QmpException or IOException or SocketException or TimeoutException)
        {
            // It may have quit before answering; otherwise the kill below ends it.
        }

        if (await HostProcesses.WaitForExitAsync(pid, files.Directory, TimeSpan.FromSeconds(5), _time, cancellationToken))
        {
            return "quit";
        }

        HostProcesses.Kill(pid);
        if (!await HostProcesses.WaitForExitAsync(pid, files.Directory, TimeSpan.FromSeconds(10), _time, cancellationToken))
        {
            throw new InvalidOperationException($"qemu provider: QEMU process {pid} survived SIGKILL");
        }

        return "killed";
    }

    private VmLiveness Liveness(VmFiles files)
    {
        if (HostProcesses.ReadPid(files.Pid) is { } pid)
        {
            if (HostProcesses.IsAlive(pid, files.Directory))
            {
                return VmLiveness.Running;
            }

            // The PID file exists but QEMU is gone. Right after a failed start, the creator cleans up.
            return _creating.ContainsKey(files.Directory) ? VmLiveness.Creating : VmLiveness.Dead;
        }

        if (_creating.ContainsKey(files.Directory))
        {
            return VmLiveness.Creating;
        }

        // Another instance may be creating it: give it a grace period before calling it abandoned.
        try
        {
            var age = _time.GetUtcNow() - new DateTimeOffset(Directory.GetLastWriteTimeUtc(files.Directory), TimeSpan.Zero);
            return age < CreatingGrace ? VmLiveness.Creating : VmLiveness.Dead;
        }
        catch (IOException)
        {
            return VmLiveness.Dead;
        }
    }

    private QemuPoolOptions PoolOptionsOf(PoolOptions pool)
        => _pools.GetOrAdd(pool.Name, _ =>
        {
            var errors = new List<string>();
            var parsed = QemuPoolOptions.Parse(pool.Template, pool.Settings, _options.PoolDefaults, $"pools[{pool.Name}]", errors);
            return errors.Count == 0 ? parsed : throw new InvalidOperationException("qemu provider: " + string.Join("; ", errors));
        });

    private SemaphoreSlim LockOf(string directory) => _vmLocks.GetOrAdd(directory, _ => new SemaphoreSlim(1, 1));

    private VmRecord? ReadRecord(PoolOptions pool, string vmName)
        => IsValidName(vmName) && IsValidName(pool.Name) ? ReadRecord(new VmFiles(VmDirectory(pool.Name, vmName))) : null;

    private static VmRecord? ReadRecord(VmFiles files)
    {
        try
        {
            return JsonSerializer.Deserialize<VmRecord>(File.ReadAllText(files.Record), RecordJson);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    private static void WriteRecord(VmFiles files, VmRecord record)
    {
        var temporary = files.Record + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record, RecordJson));
        File.Move(temporary, files.Record, overwrite: true);
    }

    private static ProviderVm ToProviderVm(PoolOptions pool, VmRecord record, string powerState) => new()
    {
        Name = record.Name,
        Hostname = record.Hostname,
        Template = pool.Template,
        PoolName = pool.Name,
        BootTime = record.CreatedAt,
        PowerState = powerState,
        Ip = record.Ip,
        SshPort = record.SshPort,
        HostKeyFingerprint = record.HostKeyFingerprint,
    };

    private static bool TryRemoveDirectory(string directory)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (!Directory.Exists(directory))
                {
                    return attempt > 0;
                }

                Directory.Delete(directory, recursive: true);
                return true;
            }
            catch (IOException)
            {
                // A socket or log may disappear (or appear) while deleting: try again.
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        }

        return false;
    }

    private static void ClearDirectory(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            File.Delete(file);
        }
    }

    private static bool IsValidName(string name) => name.Length is > 0 and <= 64 && VmName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$")]
    private static partial Regex VmName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex SnapshotName();

    private enum VmLiveness
    {
        Running,
        Creating,
        Dead,
    }
}

/// <summary>What <c>vm.json</c> in a VM's directory records, so any provider instance can answer for the VM.</summary>
internal sealed record VmRecord(
    string Name,
    string Pool,
    string Template,
    string Ip,
    int SshPort,
    DateTimeOffset CreatedAt,
    string Hostname,
    string BootedFrom,
    string? HostKeyFingerprint = null);
