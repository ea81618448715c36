using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// A saved golden VM in its directory: its frozen disk (the backing file of every clone's overlay); its RAM file
/// (<c>ram</c>, read-only once saved) with the device state saved beside it without the RAM (<c>devstate</c>, the
/// <c>x-ignore-shared</c> migration capability); and the whole state with the RAM copied in (<c>state</c>).
/// </summary>
internal sealed record SavedState(string Key, string Directory)
{
    /// <summary>The hostname the golden VM booted with (clones keep its kernel command line, then rename themselves).</summary>
    public const string GoldenHostname = "golden";

    public string Disk => Path.Combine(Directory, "disk.qcow2");

    /// <summary>Device state and RAM, for clones that copy the RAM in.</summary>
    public string State => Path.Combine(Directory, "state");

    /// <summary>Device state without the RAM, for clones that map <see cref="Ram"/>; absent when QEMU cannot do that.</summary>
    public string DeviceState => Path.Combine(Directory, "devstate");

    /// <summary>The golden VM's RAM: never written once saved, mapped privately (copy-on-write) by shared clones.</summary>
    public string Ram => Path.Combine(Directory, "ram");

    /// <summary>
    /// An empty overlay on <see cref="Disk"/>, made once and never opened by a QEMU: each clone's overlay is a copy of it
    /// (every overlay on one disk is the same file), instead of a <c>qemu-img create</c> of its own.
    /// </summary>
    public string Overlay => Path.Combine(Directory, "overlay.qcow2");

    /// <summary>
    /// Present when the golden VM was saved with the guest's identity agent waiting on its console (guest/build-guest.sh),
    /// so its clones get their identity from it; absent (a guest without it, or a state saved before it): over a shell line.
    /// </summary>
    public string IdentityAgent => Path.Combine(Directory, "identity-agent");

    public bool HasIdentityAgent => File.Exists(IdentityAgent);

    /// <summary>
    /// Present when the golden VM's disk boots on its own (the BIOS boot signature in its first sector: guest/build-guest.sh
    /// makes such a disk) and nothing on the pool's kernel command line would be lost by booting it, so clones start
    /// without <c>-kernel</c>/<c>-initrd</c> and one that reboots boots its disk.
    /// </summary>
    public string DiskBoots => Path.Combine(Directory, "disk-boots");

    public bool ClonesBootFromDisk => File.Exists(DiskBoots);
}

/// <summary>
/// Sub-second clones: per pool configuration, boot one golden VM once with its RAM in a file mapped shared, save its
/// device state without the RAM (<c>x-ignore-shared</c>) and quit it, freezing its disk and RAM file; then a paused
/// helper restored from those saves the whole state with the RAM copied in, for the copying restore. Clones get an
/// overlay on the disk and either map the RAM file privately and load the device state (shared), or load the whole
/// state (copy). The state lives under <c>saved_state_dir/KEY</c>, where KEY covers everything the state depends on
/// (images, memory, CPUs, machine, acceleration), so pools with the same configuration share it and a rebuilt guest
/// gets a new one; the one it replaces is removed at once, and its files live on while clones still map them.
/// </summary>
public sealed partial class QemuProvider
{
    private static readonly TimeSpan RetryBuildAfter = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _stateLocks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _stateFailures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _poolStateKeys = new(StringComparer.Ordinal);

    /// <summary>For tests: the migration capability that leaves shared RAM out (a name QEMU does not know acts as an older QEMU).</summary>
    internal string IgnoreSharedCapability { get; set; } = "x-ignore-shared";

    /// <summary>The saved state for <paramref name="pool"/>, built now if there is none; null when it cannot be had (cold boot then).</summary>
    private async Task<SavedState?> SavedStateForAsync(string poolName, QemuPoolOptions pool, CancellationToken cancellationToken)
    {
        var key = StateKey(pool);
        var saved = new SavedState(key, Path.Combine(_options.SavedStateDir, key));
        if (File.Exists(saved.State))
        {
            Supersede(poolName, key);
            return saved;
        }

        if (_stateFailures.TryGetValue(key, out var failedAt) && _time.GetUtcNow() - failedAt < RetryBuildAfter)
        {
            return null;
        }

        var gate = _stateLocks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(saved.State))
            {
                await RemoveAbandonedBuildsAsync(saved.Directory, cancellationToken);
                var started = _time.GetTimestamp();
                var shared = await BuildSavedStateAsync(pool, saved.Directory, cancellationToken);
                QemuLog.SavedStateBuilt(_logger, key, pool.Template!.BaseImage, _time.GetElapsedTime(started).TotalSeconds, (shared ? "shared RAM file and copy" : "copy only") + (saved.ClonesBootFromDisk ? "; clones start without the kernel, their disk boots" : ""));
                _stateFailures.TryRemove(key, out _);
            }

            Supersede(poolName, key);
            return saved;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            QemuLog.SavedStateFailed(_logger, key, ex.Message);
            _stateFailures[key] = _time.GetUtcNow();
            return null;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Records that <paramref name="poolName"/> now clones from <paramref name="key"/>. The state it used before goes when
    /// no other pool uses it: its files are unlinked, and the clones that run on it keep them (open and mapped) until the
    /// last of them exits.
    /// </summary>
    private void Supersede(string poolName, string key)
    {
        var previous = _poolStateKeys.GetValueOrDefault(poolName);
        _poolStateKeys[poolName] = key;
        if (previous is null || previous == key || _poolStateKeys.Values.Contains(previous))
        {
            return;
        }

        var directory = Path.Combine(_options.SavedStateDir, previous);
        if (TryRemoveDirectory(directory))
        {
            QemuLog.SavedStateRetired(_logger, previous, key);
        }
    }

    /// <summary>Builds the state into <paramref name="directory"/>; true when it has the shared RAM file, false when only the copy.</summary>
    private async Task<bool> BuildSavedStateAsync(QemuPoolOptions pool, string directory, CancellationToken cancellationToken)
    {
        // Built aside and renamed into place, so a half-built state is never used (also not by another process).
        var building = new VmFiles($"{directory}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        var saved = new SavedState("", building.Directory);
        building.Check();
        Directory.CreateDirectory(building.Directory);
        try
        {
            bool shared;
            await CreateOverlayAsync(building.Disk, pool.Template!.BaseImage, cancellationToken);
            await _bootSlots.WaitAsync(cancellationToken);
            try
            {
                shared = await SaveGoldenAsync(pool, building, saved, cancellationToken);
            }
            finally
            {
                _bootSlots.Release();
            }

            if (await CanBootFromDiskAsync(pool, saved.Disk, cancellationToken))
            {
                await File.WriteAllTextAsync(saved.DiskBoots, "the disk carries the BIOS boot signature\n", cancellationToken);
            }

            if (shared)
            {
                await SaveCopyAsync(pool, saved, cancellationToken);
            }
            else
            {
                File.Delete(saved.Ram);
            }

            foreach (var leftover in new[] { building.Pid, building.Qmp, building.Serial, building.Errors })
            {
                File.Delete(leftover);
            }

            try
            {
                Directory.Move(building.Directory, directory);
            }
            catch (IOException) when (File.Exists(Path.Combine(directory, "state")))
            {
                // Another process built the same state meanwhile: use that one.
                TryRemoveDirectory(building.Directory);
            }

            return shared;
        }
        catch
        {
            await StopAsync(building, CancellationToken.None);
            TryRemoveDirectory(building.Directory);
            throw;
        }
    }

    /// <summary>
    /// Boots the golden VM with its RAM in <see cref="SavedState.Ram"/> (mapped shared, so the file holds it), then saves
    /// its device state without the RAM, or (QEMU without the capability) the whole state, and quits it.
    /// </summary>
    private async Task<bool> SaveGoldenAsync(QemuPoolOptions pool, VmFiles building, SavedState saved, CancellationToken cancellationToken)
    {
        var start = new QemuStart(saved.Ram, ShareRam: true);
        await StartQemuAsync("saved-state", pool, building, "golden", SavedState.GoldenHostname, start, cancellationToken);

        // Clones get their identity through the serial console, so it must answer; the guest has no SSH until then.
        var (servesOnlyGivenKey, agentWaiting) = await PrepareGoldenAsync(building, cancellationToken);
        if (!servesOnlyGivenKey)
        {
            QemuLog.GoldenServesImageKey(_logger, Path.GetFileName(building.Directory), pool.Template!.BaseImage);
        }

        if (agentWaiting)
        {
            await File.WriteAllTextAsync(saved.IdentityAgent, IdentityAgent + "\n", cancellationToken);
        }

        bool shared;
        await using (var qmp = await QmpClient.ConnectAsync(building.Qmp, _time, SlowQmpTimeout, cancellationToken))
        {
            var capabilities = await qmp.ExecuteAsync("query-migrate-capabilities", null, cancellationToken);
            shared = capabilities is JsonArray list && list.Any(c => c?["capability"]?.GetValue<string>() == IgnoreSharedCapability);
            if (shared)
            {
                await SetIgnoreSharedAsync(qmp, true, cancellationToken);
            }
            else
            {
                QemuLog.NoSharedRam(_logger, Path.GetFileName(building.Directory), IgnoreSharedCapability);
            }

            // Not stopped first: the state records a running VM, so clones run as soon as they are restored.
            await MigrateAsync(qmp, shared ? saved.DeviceState : saved.State, cancellationToken);
        }

        // After the migration the golden VM is stopped (postmigrate) with its disk flushed: quitting freezes it.
        await StopAsync(building, cancellationToken);
        if (shared && !OperatingSystem.IsWindows())
        {
            // Never written again: clones map it privately. Read-only makes a mistake fail loudly (for non-root users).
            File.SetUnixFileMode(saved.Ram, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        return shared;
    }

    /// <summary>
    /// Writes <see cref="SavedState.State"/> (RAM included) for copying restores: a helper restores the shared state
    /// paused (its CPUs never run, so it is the golden VM's state exactly) on a throw-away overlay and saves it whole.
    /// </summary>
    private async Task SaveCopyAsync(QemuPoolOptions pool, SavedState saved, CancellationToken cancellationToken)
    {
        var helper = new VmFiles(Path.Combine(saved.Directory, "helper"));
        Directory.CreateDirectory(helper.Directory);
        try
        {
            await CreateOverlayAsync(helper.Disk, saved.Disk, cancellationToken);
            var start = new QemuStart(saved.Ram, ShareRam: false, Incoming: "defer", Paused: true);
            await StartQemuAsync("saved-state", pool, helper, "golden", SavedState.GoldenHostname, start, cancellationToken);
            await using var qmp = await QmpClient.ConnectAsync(helper.Qmp, _time, SlowQmpTimeout, cancellationToken);
            await SetIgnoreSharedAsync(qmp, true, cancellationToken);
            await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"exec:cat '{saved.DeviceState}'" }, cancellationToken);
            var waited = _time.GetTimestamp();
            while (await qmp.StatusAsync(cancellationToken) is "inmigrate" or "restore-vm")
            {
                if (_time.GetElapsedTime(waited) > SlowQmpTimeout)
                {
                    throw new TimeoutException("the helper did not load the saved state within 60 s");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
            }

            await SetIgnoreSharedAsync(qmp, false, cancellationToken);
            await MigrateAsync(qmp, saved.State, cancellationToken);
        }
        finally
        {
            await StopAsync(helper, CancellationToken.None);
            TryRemoveDirectory(helper.Directory);
        }
    }

    /// <summary>
    /// Whether clones of <paramref name="pool"/> can start without the kernel: the machine has a BIOS that boots disks (not
    /// microvm), the pool adds nothing to the kernel command line (a reboot from the disk would lose it), and
    /// <paramref name="disk"/>'s first sector ends with the boot signature 55 AA, which is what SeaBIOS checks.
    /// </summary>
    private async Task<bool> CanBootFromDiskAsync(QemuPoolOptions pool, string disk, CancellationToken cancellationToken)
    {
        if (pool.Machine == QemuMachine.Microvm || pool.KernelAppend.Length > 0)
        {
            return false;
        }

        var sector = disk + ".sector0";
        try
        {
            var result = await HostProcesses.RunAsync(
                _options.QemuImgBinary,
                ["dd", "-f", "qcow2", "-O", "raw", "bs=512", "count=1", $"if={disk}", $"of={sector}"],
                StartTimeout,
                _time,
                cancellationToken);
            if (result.ExitCode != 0)
            {
                QemuLog.DiskBootUnknown(_logger, disk, result.Describe());
                return false;
            }

            var bytes = await File.ReadAllBytesAsync(sector, cancellationToken);
            return bytes.Length == 512 && bytes[510] == 0x55 && bytes[511] == 0xAA;
        }
        catch (Exception ex) when (ex is IOException or TimeoutException or InvalidOperationException or System.ComponentModel.Win32Exception && !cancellationToken.IsCancellationRequested)
        {
            QemuLog.DiskBootUnknown(_logger, disk, ex.Message);
            return false;
        }
        finally
        {
            File.Delete(sector);
        }
    }

    private async Task SetIgnoreSharedAsync(QmpClient qmp, bool on, CancellationToken cancellationToken)
        => await qmp.ExecuteAsync(
            "migrate-set-capabilities",
            new JsonObject { ["capabilities"] = new JsonArray(new JsonObject { ["capability"] = IgnoreSharedCapability, ["state"] = on }) },
            cancellationToken);

    /// <summary>Migrates the VM into <paramref name="file"/> and waits until it is written.</summary>
    private async Task MigrateAsync(QmpClient qmp, string file, CancellationToken cancellationToken)
    {
        await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > '{file}'" }, cancellationToken);
        var waited = _time.GetTimestamp();
        while (true)
        {
            var info = await qmp.ExecuteAsync("query-migrate", null, cancellationToken);
            var status = info?["status"]?.GetValue<string>();
            if (status == "completed")
            {
                return;
            }

            if (status is "failed" or "cancelled")
            {
                throw new InvalidOperationException($"saving the VM state failed: {info?["error-desc"]?.GetValue<string>() ?? status}");
            }

            if (_time.GetElapsedTime(waited) > SlowQmpTimeout)
            {
                throw new TimeoutException("saving the VM state took longer than 60 s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken);
        }
    }

    /// <summary>
    /// Builds of this state left behind by a process that died while building (its golden VM may still run): older
    /// than any build could take, they are stopped and removed.
    /// </summary>
    private async Task RemoveAbandonedBuildsAsync(string directory, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(directory)!;
        if (!Directory.Exists(parent))
        {
            return;
        }

        foreach (var stale in Directory.EnumerateDirectories(parent, Path.GetFileName(directory) + ".tmp-*"))
        {
            var age = _time.GetUtcNow() - new DateTimeOffset(Directory.GetLastWriteTimeUtc(stale), TimeSpan.Zero);
            if (age > _options.BootTimeout + TimeSpan.FromMinutes(2))
            {
                var files = new VmFiles(stale);
                await StopAsync(files, cancellationToken);
                TryRemoveDirectory(stale);
            }
        }
    }

    /// <summary>A key over everything a saved state depends on.</summary>
    private string StateKey(QemuPoolOptions pool)
    {
        var template = pool.Template!;
        // v3: golden VMs saved with the identity agent waiting on the console (a provider before it would send it a shell line)
        var text = new StringBuilder("v3");
        foreach (var file in new[] { template.BaseImage, template.Kernel, template.Initrd, ExecutableLookup.Find(_options.QemuBinary) })
        {
            if (file is null)
            {
                text.Append("|-");
                continue;
            }

            var info = new FileInfo(file);
            text.Append(CultureInfo.InvariantCulture, $"|{info.FullName}:{(info.Exists ? info.Length : -1)}:{(info.Exists ? info.LastWriteTimeUtc.Ticks : 0)}");
        }

        text.Append(CultureInfo.InvariantCulture, $"|{pool.MemoryMiB}|{pool.Cpus}|{pool.Machine}|{QemuCommandLine.UseKvm(pool.Accel)}|{pool.KernelAppend}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}
