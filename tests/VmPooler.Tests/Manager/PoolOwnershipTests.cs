using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Leases;
using VmPooler.Manager.Ownership;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// Per-pool ownership among managers sharing one lease store, on a manual clock: how soon a manager that stopped
/// renewing (killed) loses its pools to the others.
/// </summary>
public sealed class PoolOwnershipTests : IAsyncDisposable
{
    private static readonly TimeSpan Ttl = GlobalOptions.DefaultManagerLeaseTtl;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private readonly FakeTimeProvider _time = new();
    private readonly MemoryPoolLeaseStore _store;
    private readonly VmPoolerOptions _options = new()
    {
        Pools = [.. Enumerable.Range(1, 8).Select(i => new PoolOptions { Name = $"pool-{i}", Size = 1, Provider = "dummy", Template = "t" })],
    };

    private readonly List<Manager> _managers = [];

    public PoolOwnershipTests()
    {
        _store = new MemoryPoolLeaseStore(_time);
    }

    /// <summary>
    /// m1 is killed (its store calls hang for good) while m2's renewals run at another phase: m2 takes m1's pools a
    /// moment after m1's leases lapse (time-to-live after m1's last renewal), not at its own next renewal after that,
    /// which came up to a third of the time-to-live later.
    /// </summary>
    [Fact]
    public async Task ManagerStopsRenewing_OtherTakesItsPoolsAsItsLeasesLapse()
    {
        var m1 = Start("m1");
        await SettleAsync();
        var m2 = Start("m2");
        await AsyncTestHelpers.WaitUntilAsync(() => m1.Owned.Count > 0 && m2.Owned.Count > 0 && m1.Owned.Count + m2.Owned.Count == 8, "the two split the pools");
        await SettleAsync();

        // m2's renewals move to another phase than m1's: its round due with m1's is held for 2 s.
        _time.Advance(Ttl / 3 - Step);
        await SettleAsync();
        m2.Gate.Hold();
        _time.Advance(Step);
        await AsyncTestHelpers.WaitUntilAsync(() => m2.Gate.Waiting > 0, "m2's round waits");
        await SettleAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        m2.Gate.Open();
        await AsyncTestHelpers.WaitUntilAsync(() => m2.Gate.Waiting == 0, "m2's round goes on");
        await SettleAsync();

        // m1 dies: its next round hangs in the store for good.
        var lastRenewal = (await _store.GetManagersAsync(CancellationToken.None)).Single(m => m.Id == "m1").Renewed;
        m1.Gate.Hold();
        while (m2.Owned.Count < 8)
        {
            (_time.GetUtcNow() - lastRenewal).ShouldBeLessThan(Ttl + Ttl / 3, "m2 takes m1's pools");
            _time.Advance(Step);
            await SettleAsync();
        }

        var takenAfter = _time.GetUtcNow() - lastRenewal;
        takenAfter.ShouldBeGreaterThanOrEqualTo(Ttl, "not before m1's leases lapsed");
        takenAfter.ShouldBeLessThanOrEqualTo(Ttl + PoolOwnership.LapseMargin + PoolOwnership.QuickRetry + Step, "a moment after they lapsed");
    }

    private Manager Start(string id)
    {
        var gate = new GatedLeaseStore(_store);
        var ownership = new PoolOwnership(gate, new ManagerIdentity(id, new Dictionary<string, string>()), _options, _time, NullLogger.Instance);
        var stop = new CancellationTokenSource();
        var manager = new Manager(ownership, gate, stop, ownership.RunAsync((_, _) => { }, stop.Token));
        _managers.Add(manager);
        return manager;
    }

    /// <summary>Waits until every live manager is parked on the clock and every hung one waits in its store.</summary>
    private Task SettleAsync()
        => AsyncTestHelpers.WaitUntilAsync(
            () => _time.PendingTimers == _managers.Count(m => m.Gate.Waiting == 0),
            "every manager waits for its next round");

    public async ValueTask DisposeAsync()
    {
        foreach (var manager in _managers)
        {
            manager.Gate.Open();
            await manager.Stop.CancelAsync();
        }

        foreach (var manager in _managers)
        {
            await manager.Run.DefaultTimeout();
            manager.Stop.Dispose();
        }
    }

    private sealed record Manager(PoolOwnership Ownership, GatedLeaseStore Gate, CancellationTokenSource Stop, Task Run)
    {
        public IReadOnlySet<string> Owned => Ownership.Owned;
    }
}
