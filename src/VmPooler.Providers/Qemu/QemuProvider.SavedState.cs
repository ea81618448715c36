using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace VmPooler.Providers.Qemu;

/// <summary>A saved golden VM: its frozen disk (the backing file of every clone's overlay) and its RAM and device state.</summary>
internal sealed record SavedState(string Key, string Disk, string State)
{
    /// <summary>The hostname the golden VM booted with (clones keep its kernel command line, then rename themselves).</summary>
    public const string GoldenHostname = "golden";
}

/// <summary>
/// Sub-second clones: per pool configuration, boot one golden VM once, save its running state to a file with QMP
/// <c>migrate</c> (not stopping it first, or every clone would start paused), and quit it, freezing its overlay disk.
/// Clones then get an overlay on that disk and start with <c>-incoming "exec:cat state"</c>. The state lives under
/// <c>saved_state_dir/KEY</c>, where KEY covers everything the state depends on (images, memory, CPUs, machine,
/// acceleration), so pools with the same configuration share it and a rebuilt guest gets a new one.
/// </summary>
public sealed partial class QemuProvider
{
    private static readonly TimeSpan RetryBuildAfter = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _stateLocks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _stateFailures = new(StringComparer.Ordinal);

    /// <summary>The saved state for <paramref name="pool"/>, built now if there is none; null when it cannot be had (cold boot then).</summary>
    private async Task<SavedState?> SavedStateForAsync(QemuPoolOptions pool, CancellationToken cancellationToken)
    {
        var key = StateKey(pool);
        var directory = Path.Combine(_options.SavedStateDir, key);
        var saved = new SavedState(key, Path.Combine(directory, "disk.qcow2"), Path.Combine(directory, "state"));
        if (File.Exists(saved.State))
        {
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
            if (File.Exists(saved.State))
            {
                return saved;
            }

            await RemoveAbandonedBuildsAsync(directory, cancellationToken);
            var started = _time.GetTimestamp();
            await BuildSavedStateAsync(pool, directory, cancellationToken);
            QemuLog.SavedStateBuilt(_logger, key, pool.Template!.BaseImage, _time.GetElapsedTime(started).TotalSeconds);
            _stateFailures.TryRemove(key, out _);
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

    private async Task BuildSavedStateAsync(QemuPoolOptions pool, string directory, CancellationToken cancellationToken)
    {
        // Built aside and renamed into place, so a half-built state is never used (also not by another process).
        var building = new VmFiles($"{directory}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        building.Check();
        Directory.CreateDirectory(building.Directory);
        try
        {
            await CreateOverlayAsync(building.Disk, pool.Template!.BaseImage, cancellationToken);
            await _bootSlots.WaitAsync(cancellationToken);
            try
            {
                var (address, port) = await StartQemuAsync("saved-state", pool, building, "golden", SavedState.GoldenHostname, null, cancellationToken);
                await WaitForSshAsync(building, address, port, _options.BootTimeout, cancellationToken);

                // The serial console must answer too: clones are renamed through it.
                await GuestProbe.RunOnConsoleAsync(building.Serial, "sync", TimeSpan.FromSeconds(15), _time, cancellationToken);

                var state = Path.Combine(building.Directory, "state");
                await using (var qmp = await QmpClient.ConnectAsync(building.Qmp, _time, SlowQmpTimeout, cancellationToken))
                {
                    await qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"exec:cat > '{state}'" }, cancellationToken);
                    var waited = _time.GetTimestamp();
                    while (true)
                    {
                        var info = await qmp.ExecuteAsync("query-migrate", null, cancellationToken);
                        var status = info?["status"]?.GetValue<string>();
                        if (status == "completed")
                        {
                            break;
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

                // After the migration the golden VM is stopped (postmigrate) with its disk flushed: quitting freezes it.
                await StopAsync(building, cancellationToken);
            }
            finally
            {
                _bootSlots.Release();
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
        }
        catch
        {
            await StopAsync(building, CancellationToken.None);
            TryRemoveDirectory(building.Directory);
            throw;
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
        var text = new StringBuilder("v1");
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
