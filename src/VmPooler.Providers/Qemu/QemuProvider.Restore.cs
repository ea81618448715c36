using System.Text.Json.Nodes;
using VmPooler.Core.Configuration;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// Restoring clones from a saved state: shared (the golden RAM file mapped privately, only the device state loaded),
/// falling back to copy (the whole RAM image read into the clone), falling back (in the caller) to a cold boot. Each
/// fallback is logged with its reason.
/// </summary>
public sealed partial class QemuProvider
{
    /// <summary>The restored clone, or null when neither restore worked (the caller cold-boots then).</summary>
    private async Task<VmRecord?> RestoreAsync(PoolOptions pool, QemuPoolOptions poolOptions, string vmName, VmFiles files, SavedState saved, CancellationToken cancellationToken)
    {
        if (poolOptions.SavedState == SavedStateMode.Shared)
        {
            var problem = SharedRestoreProblem(saved, poolOptions);
            if (problem is null)
            {
                try
                {
                    return await RestoreSharedAsync(pool, poolOptions, vmName, files, saved, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    problem = ex.Message;
                    await StopAsync(files, cancellationToken);
                    ClearDirectory(files.Directory);
                }
            }

            QemuLog.SharedRestoreFellBack(_logger, pool.Name, vmName, problem);
        }

        try
        {
            return await RestoreCopyAsync(pool, poolOptions, vmName, files, saved, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            QemuLog.RestoreFailed(_logger, pool.Name, vmName, ex.Message);
            await StopAsync(files, cancellationToken);
            ClearDirectory(files.Directory);
            return null;
        }
    }

    /// <summary>Why the clone cannot map the golden RAM file, or null when it can.</summary>
    internal static string? SharedRestoreProblem(SavedState saved, QemuPoolOptions pool)
    {
        if (!File.Exists(saved.DeviceState))
        {
            return "the saved state has no shared RAM file (the QEMU that built it lacks the x-ignore-shared capability)";
        }

        try
        {
            using var ram = new FileStream(saved.Ram, FileMode.Open, FileAccess.Read);
            if (ram.Length != pool.MemoryMiB * 1024L * 1024L)
            {
                return $"the RAM file {saved.Ram} holds {ram.Length} bytes, not the {pool.MemoryMiB} MiB of the pool";
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"the RAM file {saved.Ram} cannot be read: {ex.Message}";
        }

        const UnixFileMode Writable = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(saved.Ram) & Writable) != 0)
        {
            return $"the RAM file {saved.Ram} is writable; a golden RAM file stays read-only once saved";
        }

        return null;
    }

    private async Task<VmRecord> RestoreSharedAsync(PoolOptions pool, QemuPoolOptions poolOptions, string vmName, VmFiles files, SavedState saved, CancellationToken cancellationToken)
    {
        await CopyOverlayAsync(files.Disk, saved, cancellationToken);
        await _restoreSlots.WaitAsync(cancellationToken);
        try
        {
            var started = _time.GetTimestamp();
            var start = new QemuStart(saved.Ram, ShareRam: false, Incoming: "defer", BootsFromDisk: saved.ClonesBootFromDisk);
            var (address, port) = await StartQemuAsync(pool.Name, poolOptions, files, vmName, SavedState.GoldenHostname, start, cancellationToken);
            await using (var qmp = await QmpClient.ConnectAsync(files.Qmp, _time, QmpTimeout, cancellationToken))
            {
                await SetIgnoreSharedAsync(qmp, true, cancellationToken);
                await qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"exec:cat '{saved.DeviceState}'" }, cancellationToken);
            }

            if (MappingOf(HostProcesses.ReadPid(files.Pid) ?? 0, saved.Ram) is var mode and not "p")
            {
                throw new InvalidOperationException($"the clone maps the golden RAM file {(mode is null ? "not at all" : "shared")}, not privately");
            }

            return await FinishRestoreAsync(pool, files, vmName, address, port, "shared-state", saved.HasIdentityAgent, started, cancellationToken);
        }
        finally
        {
            _restoreSlots.Release();
        }
    }

    private async Task<VmRecord> RestoreCopyAsync(PoolOptions pool, QemuPoolOptions poolOptions, string vmName, VmFiles files, SavedState saved, CancellationToken cancellationToken)
    {
        await CopyOverlayAsync(files.Disk, saved, cancellationToken);
        await _restoreSlots.WaitAsync(cancellationToken);
        try
        {
            var started = _time.GetTimestamp();
            var start = new QemuStart(Incoming: $"exec:cat '{saved.State}'", BootsFromDisk: saved.ClonesBootFromDisk);
            var (address, port) = await StartQemuAsync(pool.Name, poolOptions, files, vmName, SavedState.GoldenHostname, start, cancellationToken);
            return await FinishRestoreAsync(pool, files, vmName, address, port, "copied-state", saved.HasIdentityAgent, started, cancellationToken);
        }
        finally
        {
            _restoreSlots.Release();
        }
    }

    /// <summary>Waits for the restored clone to run, gives it its own identity, waits for its SSH and records it.</summary>
    private async Task<VmRecord> FinishRestoreAsync(
        PoolOptions pool, VmFiles files, string vmName, string address, int port, string bootedFrom, bool agentWaiting, long started, CancellationToken cancellationToken)
    {
        // A loaded host slows every step; boot_timeout bounds each (as it bounds a cold boot), not a fixed few seconds.
        await WaitForRunningAsync(files, _options.BootTimeout, cancellationToken);
        var running = _time.GetElapsedTime(started);
        await (BeforeIdentity?.Invoke(address, port) ?? Task.CompletedTask);
        var (fingerprint, identity, ssh) = await GiveIdentityAndAwaitSshAsync(files, vmName, address, port, agentWaiting, cancellationToken);
        QemuLog.RestorePhases(_logger, pool.Name, vmName, (long)running.TotalMilliseconds, (long)identity.TotalMilliseconds, (long)ssh.TotalMilliseconds);
        var record = new VmRecord(vmName, pool.Name, pool.Template, address, port, _time.GetUtcNow(), vmName, bootedFrom, fingerprint);
        WriteRecord(files, record);
        var how = bootedFrom == "shared-state" ? "restored from saved state, shared RAM" : "restored from saved state, RAM copied";
        QemuLog.Started(_logger, pool.Name, vmName, HostProcesses.ReadPid(files.Pid) ?? 0, address, port, how, (long)_time.GetElapsedTime(started).TotalMilliseconds);
        return record;
    }

    /// <summary>
    /// Makes <paramref name="overlay"/> an empty overlay on the saved state's disk: a copy of the state's overlay template,
    /// made first when it has none (written aside and renamed, so a half-written one is never copied).
    /// </summary>
    private async Task CopyOverlayAsync(string overlay, SavedState saved, CancellationToken cancellationToken)
    {
        if (!File.Exists(saved.Overlay))
        {
            var building = $"{saved.Overlay}.tmp-{Guid.NewGuid().ToString("N")[..8]}";
            try
            {
                await CreateOverlayAsync(building, saved.Disk, cancellationToken);
                File.Move(building, saved.Overlay, overwrite: true);
            }
            finally
            {
                File.Delete(building);
            }
        }

        File.Copy(saved.Overlay, overlay);
    }

    /// <summary>
    /// How process <paramref name="pid"/> maps <paramref name="file"/>: "p" (private), "s" (shared) or null (not at all),
    /// from <c>/proc/PID/maps</c>.
    /// </summary>
    internal static string? MappingOf(int pid, string file)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                if (line.EndsWith(" " + file, StringComparison.Ordinal))
                {
                    var permissions = line.Split(' ', 3)[1];
                    return permissions.Length == 4 ? permissions[3].ToString() : null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
