using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;

namespace VmPooler.Manager;

/// <summary>
/// The event path's coalescing: at most one top-up runs per pool; events that arrive meanwhile are folded into one
/// more top-up after it, so a stream of checkouts costs one counts read per round, never a queue of them.
/// </summary>
internal sealed class PoolTopUps(PoolReconciler reconciler, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, bool> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();

    /// <summary>Tops <paramref name="pool"/> up now, or once more after the top-up that is running.</summary>
    public void Trigger(PoolOptions pool, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_running.ContainsKey(pool.Name))
            {
                _running[pool.Name] = true;
                return;
            }

            _running[pool.Name] = false;
        }

        var task = RunAsync(pool, cancellationToken);
        _tasks[task] = 0;
        _ = task.ContinueWith(t => _tasks.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task WhenIdleAsync() => Task.WhenAll(_tasks.Keys);

    private async Task RunAsync(PoolOptions pool, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await reconciler.TopUpAsync(pool, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // The periodic pass catches up; nothing is lost by a failed top-up.
                ManagerLog.TopUpFailed(logger, pool.Name, ex.Message);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            lock (_gate)
            {
                if (!_running[pool.Name])
                {
                    _running.Remove(pool.Name);
                    return;
                }

                _running[pool.Name] = false;
            }
        }

        lock (_gate)
        {
            _running.Remove(pool.Name);
        }
    }
}
