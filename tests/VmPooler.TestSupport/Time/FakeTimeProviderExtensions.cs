using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;

namespace VmPooler.Tests.Shared;

/// <summary>What the tests need from <see cref="FakeTimeProvider"/> that it does not expose.</summary>
public static class FakeTimeProviderExtensions
{
    // The fake keeps its live timers (each Task.Delay, WaitAsync timeout, CancellationTokenSource timeout or
    // ITimer made on it) in this internal set, and locks the set while it changes it.
    private static readonly FieldInfo WaitersField = typeof(FakeTimeProvider).GetField("Waiters", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"{typeof(FakeTimeProvider).Assembly.GetName()} has no internal Waiters set: PendingTimers must count timers another way");

    extension(FakeTimeProvider time)
    {
        /// <summary>
        /// Number of timers waiting on this clock. A test waits until a background loop is parked on the clock
        /// (say, <c>PendingTimers == 1</c>) before it advances the clock past the loop's wait, and checks that
        /// disposed work leaves no timer behind.
        /// </summary>
        public int PendingTimers
        {
            get
            {
                var waiters = (IEnumerable)WaitersField.GetValue(time)!;
                lock (waiters)
                {
                    return waiters.Cast<object>().Count();
                }
            }
        }
    }
}
