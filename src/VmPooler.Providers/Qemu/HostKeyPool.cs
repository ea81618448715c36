using System.Collections.Concurrent;

namespace VmPooler.Providers.Qemu;

/// <summary>
/// A few SSH host keys made ahead, off the clones' critical path (a <c>dropbearkey</c> run costs a process start and
/// milliseconds of CPU, more on a loaded host). Each key is handed out once (taken out of the queue) and never again;
/// when none is ready, <see cref="TakeAsync"/> makes one itself. Keys live only in this process's memory: the file
/// <c>dropbearkey</c> writes is read back and removed at once.
/// </summary>
internal sealed class HostKeyPool(Func<CancellationToken, Task<DropbearHostKey>> make, int size)
{
    private readonly ConcurrentQueue<DropbearHostKey> _ready = new();
    private int _filling;

    /// <summary>Keys ready now.</summary>
    public int Count => _ready.Count;

    /// <summary>The task of the current refill, for tests (completed when none runs).</summary>
    internal Task Filling { get; private set; } = Task.CompletedTask;

    /// <summary>A key nobody else got: a ready one, else one made now; the pool is refilled behind it.</summary>
    public async Task<DropbearHostKey> TakeAsync(CancellationToken cancellationToken)
    {
        var key = _ready.TryDequeue(out var ready) ? ready : await make(cancellationToken);
        Refill();
        return key;
    }

    /// <summary>Starts making keys until <c>size</c> are ready, unless that runs already.</summary>
    public void Refill()
    {
        if (_ready.Count >= size || Interlocked.CompareExchange(ref _filling, 1, 0) != 0)
        {
            return;
        }

        Filling = Task.Run(FillAsync);
    }

    private async Task FillAsync()
    {
        try
        {
            while (_ready.Count < size)
            {
                _ready.Enqueue(await make(CancellationToken.None));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or FormatException or TimeoutException or UnauthorizedAccessException)
        {
            // The next TakeAsync makes its key itself and reports the problem (a clone fails with it); it also retries this.
        }
        finally
        {
            Volatile.Write(ref _filling, 0);
        }
    }
}
