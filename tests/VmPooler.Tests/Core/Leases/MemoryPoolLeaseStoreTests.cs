using VmPooler.Core.Leases;
using VmPooler.Tests.Shared.Leases;

namespace VmPooler.Tests.Core.Leases;

/// <summary>
/// The lease contract against <see cref="MemoryPoolLeaseStore"/>: one instance is the state every manager of the process
/// shares, and expiry is the manual clock moving past the time-to-live.
/// </summary>
public class MemoryPoolLeaseStoreTests : PoolLeaseStoreContractTests
{
    private readonly MemoryPoolLeaseStore _store;

    public MemoryPoolLeaseStoreTests()
    {
        _store = new MemoryPoolLeaseStore(Time);
    }

    protected override Task<IPoolLeaseStore> ConnectAsync() => Task.FromResult<IPoolLeaseStore>(_store);

    protected override Task ExpireAsync(IReadOnlyCollection<string> pools, IReadOnlyCollection<string> managers)
    {
        Time.Advance(Ttl + TimeSpan.FromMilliseconds(1));
        return Task.CompletedTask;
    }

    [Fact]
    public async Task AcquireAsync_AtTheTimeToLive_LeaseHasLapsed()
    {
        await AcquireAsync(_store, "m1", "alpha");

        Time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        (await AcquireAsync(_store, "m2", "alpha")).ShouldBeEmpty();
        Time.Advance(TimeSpan.FromMilliseconds(1));

        (await OwnersAsync(_store, "alpha")).ShouldBeEmpty();
        (await AcquireAsync(_store, "m2", "alpha")).ShouldBe(["alpha"]);
    }

    [Fact]
    public async Task GetManagersAsync_AtTheTimeToLive_RegistrationHasLapsed()
    {
        await RegisterAsync(_store, "m1", ["alpha"]);

        Time.Advance(Ttl - TimeSpan.FromMilliseconds(1));
        (await _store.GetManagersAsync(None)).Count.ShouldBe(1);
        Time.Advance(TimeSpan.FromMilliseconds(1));

        (await _store.GetManagersAsync(None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task RegisterAsync_AfterLapse_NotifiesAsANewManager()
    {
        var changes = new ChangeCounter();
        using var subscription = _store.SubscribeChanges(changes.OnChange);
        await RegisterAsync(_store, "m1", ["alpha"]);

        Time.Advance(Ttl);
        await RegisterAsync(_store, "m1", ["alpha"]);

        changes.Count.ShouldBe(2);
    }

    [Fact]
    public async Task AcquireAsync_NoTimeToLive_Refused()
    {
        await Should.ThrowAsync<ArgumentOutOfRangeException>(() => _store.AcquireAsync("m1", ["alpha"], TimeSpan.Zero, None));
        await Should.ThrowAsync<ArgumentException>(() => _store.AcquireAsync(" ", ["alpha"], Ttl, None));
        await Should.ThrowAsync<ArgumentOutOfRangeException>(
            () => _store.RegisterAsync(new ManagerRegistration("m1", [], new Dictionary<string, string>(), Time.GetUtcNow()), TimeSpan.FromMilliseconds(-5), None));
    }
}
