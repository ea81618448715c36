namespace VmPooler.Manager.Execution;

/// <summary>Provider calls with a time limit on the injected clock (every provider call of the manager goes through here).</summary>
internal static class ProviderCall
{
    /// <summary>
    /// Runs <paramref name="call"/> with its own token that is cancelled after <paramref name="timeout"/>; a call that
    /// runs over throws <see cref="TimeoutException"/> (whichever fires first: the call's cancellation or the wait).
    /// </summary>
    public static async Task<T> WithTimeoutAsync<T>(TimeProvider time, Func<CancellationToken, Task<T>> call, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            return await call(linked.Token).WaitAsync(timeout, time, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the provider did not answer within {timeout.TotalSeconds:0.#} seconds", ex);
        }
    }
}
