using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Metrics;

namespace VmPooler.Manager.Execution;

internal sealed partial class VmExecutor
{
    /// <summary>Destroys a completed VM in the background (once: a VM already being destroyed is left alone), then forgets it.</summary>
    public void StartDestroy(PoolOptions pool, string name)
    {
        if (_busy.TryAdd(name, 0))
        {
            Track(pool.Name, DestroyAsync(pool, name));
        }
    }

    private async Task DestroyAsync(PoolOptions pool, string name)
    {
        var token = _stopping.Token;
        try
        {
            await _destroySlots.WaitAsync(token);
            try
            {
                await DestroyAndForgetAsync(pool, name, token);
            }
            finally
            {
                _destroySlots.Release();
            }
        }
        catch (Exception ex) when (!token.IsCancellationRequested)
        {
            ManagerLog.DestroyFailed(_logger, pool.Name, name, ex.Message);
            _metrics?.Error("destroyfailed", pool.Name);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the VM stays completed and is destroyed after the restart.
        }
        finally
        {
            _busy.TryRemove(name, out _);
        }
    }

    private async Task DestroyAndForgetAsync(PoolOptions pool, string name, CancellationToken token)
    {
        var started = _time.GetTimestamp();
        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("destroy");
        activity?.SetTag("vmpooler.pool", pool.Name).SetTag("vmpooler.vm", name);
        var provider = ProviderOf(pool);
        if (!await CallAsync(c => provider.DestroyVmAsync(pool, name, c), _providerTimeout, token))
        {
            ManagerLog.DestroyFailed(_logger, pool.Name, name, "the provider could not destroy it");
            _metrics?.Error("destroyfailed", pool.Name);
            return;
        }

        if (await ForgetDestroyedAsync(pool, name, token))
        {
            var seconds = _time.GetElapsedTime(started).TotalSeconds;
            ManagerLog.Destroyed(_logger, pool.Name, name, seconds);
            _metrics?.DestroyDuration(pool.Name, seconds);
        }
    }

    /// <summary>Forgets a completed VM the provider no longer has, stamping when it went (its metadata kept for <c>data_ttl</c>).</summary>
    public Task<bool> ForgetDestroyedAsync(PoolOptions pool, string name, CancellationToken cancellationToken)
        => _inventory.ForgetAsync(
            pool.Name,
            name,
            VmState.Completed,
            _dataTtl,
            new Dictionary<string, string> { [VmFields.Destroy] = VmTime.Format(_time.GetUtcNow()) },
            cancellationToken);
}
