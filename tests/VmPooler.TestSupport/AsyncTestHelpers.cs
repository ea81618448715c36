using System.Diagnostics;

namespace VmPooler.Tests.Shared;

/// <summary>Never sleep in a test: put a deadline on every await, and poll conditions with one (Aspire's helpers).</summary>
public static class AsyncTestHelpers
{
    public static readonly TimeSpan DefaultTimeoutSpan = Debugger.IsAttached ? TimeSpan.FromMinutes(10) : TimeSpan.FromSeconds(30);

    public static Task DefaultTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? DefaultTimeoutSpan);

    public static Task<T> DefaultTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? DefaultTimeoutSpan);

    /// <summary>Re-evaluates <paramref name="condition"/> until it holds or the (real-time) deadline passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? DefaultTimeoutSpan;
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds:0} s waiting until {because}");
            }

            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
        => WaitUntilAsync(() => Task.FromResult(condition()), because, timeout);
}
