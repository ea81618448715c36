using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Leases;

namespace VmPooler.Tests.Shared.Leases;

/// <summary>
/// The <see cref="IPoolLeaseStore"/> contract, written once and run against every store (memory, a single
/// <c>redis-server</c>, the 3-node Redis Cluster). Derive, implement <see cref="ConnectAsync"/> (a store on the state this
/// test shares, as another process would open it) and <see cref="ExpireAsync"/> (let leases and registrations lapse as
/// their time-to-live running out would), and every fact here runs against that store. The interleaving property lives
/// in <c>PoolLeaseStoreContractTests.Property.cs</c>.
/// </summary>
public abstract partial class PoolLeaseStoreContractTests : IAsyncLifetime
{
    /// <summary>The default <c>manager_lease_ttl</c>: long enough that nothing lapses unless a test says so.</summary>
    protected static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    private static readonly Dictionary<string, string> NoLabels = new(StringComparer.Ordinal);

    private readonly HashSet<string> _pools = new(StringComparer.Ordinal);
    private readonly HashSet<string> _managers = new(StringComparer.Ordinal);
    private IPoolLeaseStore? _store;

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));

    protected static CancellationToken None => CancellationToken.None;

    /// <summary>
    /// A store over the state this test shares: memory returns its one in-process instance; Redis opens a new
    /// connection under the test's key prefix (another process, or the same one restarted). Reads <see cref="Time"/>.
    /// </summary>
    protected abstract Task<IPoolLeaseStore> ConnectAsync();

    /// <summary>Lets the leases of <paramref name="pools"/> and the registrations of <paramref name="managers"/> lapse.</summary>
    protected abstract Task ExpireAsync(IReadOnlyCollection<string> pools, IReadOnlyCollection<string> managers);

    public virtual async Task InitializeAsync() => _store = await ConnectAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The store the test's managers use unless a test opens another one.</summary>
    protected async Task<IPoolLeaseStore> StoreAsync() => _store ??= await ConnectAsync();

    /// <summary>Every lease and registration this test has touched lapses.</summary>
    protected Task ExpireAllAsync() => ExpireAsync([.. _pools], [.. _managers]);

    protected Task<IReadOnlySet<string>> AcquireAsync(IPoolLeaseStore store, string manager, params string[] pools)
    {
        Track(manager, pools);
        return store.AcquireAsync(manager, pools, Ttl, None).DefaultTimeout();
    }

    protected Task ReleaseAsync(IPoolLeaseStore store, string manager, params string[] pools)
    {
        Track(manager, pools);
        return store.ReleaseAsync(manager, pools, None).DefaultTimeout();
    }

    protected Task<IReadOnlyDictionary<string, string>> OwnersAsync(IPoolLeaseStore store, params string[] pools)
    {
        Track(null, pools);
        return store.GetOwnersAsync(pools, None).DefaultTimeout();
    }

    protected Task RegisterAsync(IPoolLeaseStore store, string manager, string[] pools, Dictionary<string, string>? labels = null)
    {
        Track(manager, pools);
        return store.RegisterAsync(new ManagerRegistration(manager, pools, labels ?? NoLabels, DateTimeOffset.MinValue), Ttl, None).DefaultTimeout();
    }

    protected void Track(string? manager, IEnumerable<string> pools)
    {
        lock (_pools)
        {
            if (manager is not null)
            {
                _managers.Add(manager);
            }

            _pools.UnionWith(pools);
        }
    }

    protected static Dictionary<string, string> Owners(params (string Pool, string Owner)[] owners)
        => owners.ToDictionary(o => o.Pool, o => o.Owner, StringComparer.Ordinal);

    [Fact]
    public async Task AcquireAsync_FreePools_TakesEveryPool()
    {
        var store = await StoreAsync();

        var held = await AcquireAsync(store, "m1", "alpha", "beta", "gamma");

        held.OrderBy(p => p, StringComparer.Ordinal).ShouldBe(["alpha", "beta", "gamma"]);
        (await OwnersAsync(store, "alpha", "beta", "gamma", "delta")).ShouldBe(Owners(("alpha", "m1"), ("beta", "m1"), ("gamma", "m1")), ignoreOrder: true);
    }

    [Fact]
    public async Task AcquireAsync_NoPools_HoldsNothing()
    {
        var store = await StoreAsync();

        (await AcquireAsync(store, "m1")).ShouldBeEmpty();
        (await OwnersAsync(store)).ShouldBeEmpty();
    }

    [Fact]
    public async Task AcquireAsync_PoolListedTwice_HeldOnce()
    {
        var store = await StoreAsync();

        (await AcquireAsync(store, "m1", "alpha", "alpha")).ShouldBe(["alpha"]);
    }

    [Fact]
    public async Task AcquireAsync_AgainBySameManager_RenewsTheLease()
    {
        var store = await StoreAsync();
        await AcquireAsync(store, "m1", "alpha");

        Time.Advance(Ttl * 0.6);
        (await AcquireAsync(store, "m1", "alpha")).ShouldBe(["alpha"]);
        Time.Advance(Ttl * 0.6);

        // 1.2 × TTL after the first acquire, the renewal still holds.
        (await OwnersAsync(store, "alpha")).ShouldBe(Owners(("alpha", "m1")));
        (await AcquireAsync(store, "m2", "alpha")).ShouldBeEmpty();
    }

    [Fact]
    public async Task AcquireAsync_PoolsHeldByAnother_LeavesThemAlone()
    {
        var store = await StoreAsync();
        await AcquireAsync(store, "m1", "alpha", "beta");

        var held = await AcquireAsync(store, "m2", "alpha", "beta", "gamma");

        held.ShouldBe(["gamma"]);
        (await OwnersAsync(store, "alpha", "beta", "gamma")).ShouldBe(Owners(("alpha", "m1"), ("beta", "m1"), ("gamma", "m2")), ignoreOrder: true);
    }

    [Fact]
    public async Task ReleaseAsync_MixedPools_FreesOnlyTheManagersOwn()
    {
        var store = await StoreAsync();
        await AcquireAsync(store, "m1", "alpha");
        await AcquireAsync(store, "m2", "beta");

        await ReleaseAsync(store, "m2", "alpha", "beta", "never-leased");

        (await OwnersAsync(store, "alpha", "beta")).ShouldBe(Owners(("alpha", "m1")));
        (await AcquireAsync(store, "m3", "alpha", "beta")).ShouldBe(["beta"]);
    }

    [Fact]
    public async Task ExpireAsync_LeasesNotRenewed_FreesThePools()
    {
        var store = await StoreAsync();
        await AcquireAsync(store, "m1", "alpha", "beta");

        await ExpireAllAsync();

        (await OwnersAsync(store, "alpha", "beta")).ShouldBeEmpty();
        (await AcquireAsync(store, "m2", "alpha", "beta")).Count.ShouldBe(2);
        (await OwnersAsync(store, "alpha", "beta")).ShouldBe(Owners(("alpha", "m2"), ("beta", "m2")), ignoreOrder: true);
    }

    [Fact]
    public async Task AcquireAsync_SameIdAfterRestart_ResumesAtOnce()
    {
        var before = await StoreAsync();
        await AcquireAsync(before, "host:/etc/vmpooler.yaml", "alpha", "beta");

        // The process dies without releasing; a new one with the same id starts before the lease runs out.
        var after = await ConnectAsync();
        var held = await AcquireAsync(after, "host:/etc/vmpooler.yaml", "alpha", "beta");

        held.Count.ShouldBe(2);
        (await AcquireAsync(after, "other", "alpha", "beta")).ShouldBeEmpty();
    }

    [Fact]
    public async Task AcquireAsync_ThreeManagersRacing_EachPoolGetsExactlyOneOwner()
    {
        var pools = Enumerable.Range(0, 30).Select(i => $"race-{i}").ToArray();
        var stores = await Task.WhenAll(ConnectAsync(), ConnectAsync(), ConnectAsync()).DefaultTimeout();

        var held = await Task.WhenAll(stores.Select((store, i) => AcquireAsync(store, $"m{i}", pools))).DefaultTimeout();

        held.Sum(h => h.Count).ShouldBe(pools.Length);
        held.SelectMany(h => h).Distinct(StringComparer.Ordinal).Count().ShouldBe(pools.Length);
        var owners = await OwnersAsync(stores[0], pools);
        for (var i = 0; i < held.Length; i++)
        {
            foreach (var pool in held[i])
            {
                owners[pool].ShouldBe($"m{i}");
            }
        }
    }
}
