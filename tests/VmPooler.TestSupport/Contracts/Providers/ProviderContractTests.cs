using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Tests.Shared.Providers;

/// <summary>
/// The <see cref="IVmProvider"/> contract (spec §6.1) as the manager relies on it, written once and run against every
/// provider: derive, implement <see cref="CreateProviderAsync"/> and <see cref="Pool"/>, and every fact below runs
/// against that provider. Real providers (qemu, vSphere) are slow, so each fact creates at most two VMs and cleans up
/// what it created. Providers that are (async) disposable are disposed after the test.
/// </summary>
public abstract class ProviderContractTests : IAsyncLifetime
{
    private readonly List<(IVmProvider Provider, PoolOptions Pool, string Vm)> _created = [];
    private readonly List<IVmProvider> _providers = [];

    protected static CancellationToken None => CancellationToken.None;

    /// <summary>How long one provider call may take before the test fails (real VMs boot slowly).</summary>
    protected virtual TimeSpan CallTimeout => TimeSpan.FromSeconds(60);

    /// <summary>How long a fresh VM may take to pass its ready check.</summary>
    protected virtual TimeSpan ReadyTimeout => TimeSpan.FromSeconds(120);

    /// <summary>False for providers whose VMs cannot take snapshots; the snapshot facts then only check the false answer.</summary>
    protected virtual bool SupportsSnapshots => true;

    /// <summary>False for providers that cannot add disks.</summary>
    protected virtual bool SupportsDisks => true;

    /// <summary>False for providers whose VMs live only in one instance's memory (the dummy provider).</summary>
    protected virtual bool VmsOutliveTheInstance => true;

    /// <summary>A new provider whose pools start empty (e.g. a fresh folder or run directory).</summary>
    protected abstract Task<IVmProvider> CreateProviderAsync();

    /// <summary>A pool the provider can clone into; <paramref name="index"/> 0 and 1 must be distinct pools.</summary>
    protected abstract PoolOptions Pool(int index = 0);

    /// <summary>Makes time pass for providers whose delays run on a test clock; real providers need nothing.</summary>
    protected virtual void AdvanceClock(TimeSpan by)
    {
    }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var (provider, pool, vm) in _created)
        {
            try
            {
                await provider.DestroyVmAsync(pool, vm, None).WaitAsync(CallTimeout);
            }
            catch (Exception)
            {
                // best effort: the fact itself reports real failures
            }
        }

        foreach (var provider in _providers)
        {
            switch (provider)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
                default:
                    break;
            }
        }
    }

    protected async Task<IVmProvider> NewProviderAsync()
    {
        var provider = await CreateProviderAsync();
        _providers.Add(provider);
        return provider;
    }

    /// <summary>A unique VM name the tests use (lower case letters and digits, like the manager's names).</summary>
    protected static string NewVmName() => "ct" + Guid.NewGuid().ToString("N")[..12];

    protected async Task<ProviderVm> CreateAsync(IVmProvider provider, PoolOptions pool, string vm)
    {
        _created.Add((provider, pool, vm));
        return await provider.CreateVmAsync(pool, vm, None).WaitAsync(CallTimeout);
    }

    protected async Task WaitReadyAsync(IVmProvider provider, PoolOptions pool, string vm)
    {
        var deadline = TimeProvider.System.GetUtcNow() + ReadyTimeout;
        ReadyCheckResult last = default;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = await provider.CheckVmReadyAsync(pool, vm, None).WaitAsync(CallTimeout);
            if (last.IsReady)
            {
                return;
            }

            AdvanceClock(TimeSpan.FromSeconds(1));
            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }

        Assert.Fail($"VM {vm} not ready after {ReadyTimeout}: {last.Error}");
    }

    [Fact]
    public async Task CreateVm_ListedInItsPoolOnly_AndReportedByGetVm()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();

        var created = await CreateAsync(provider, Pool(0), vm);

        created.Name.ShouldBe(vm);
        (await provider.VmsInPoolAsync(Pool(0), None).WaitAsync(CallTimeout)).ShouldContain(vm);
        (await provider.VmsInPoolAsync(Pool(1), None).WaitAsync(CallTimeout)).ShouldNotContain(vm);
        var seen = await provider.GetVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout);
        seen.ShouldNotBeNull();
        seen.Name.ShouldBe(vm);
        seen.PoolName.ShouldBe(Pool(0).Name);
    }

    [Fact]
    public async Task CreatedVm_BecomesReady_AndHasAnAddress()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();
        await CreateAsync(provider, Pool(0), vm);

        await WaitReadyAsync(provider, Pool(0), vm);

        (await provider.GetVmIpAddressAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public async Task UnknownVm_GetIsNull_ReadyIsFalse_DestroyIsTrue()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();

        (await provider.GetVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeNull();
        (await provider.CheckVmReadyAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).IsReady.ShouldBeFalse();
        (await provider.DestroyVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeTrue();
        (await provider.VmsInPoolAsync(Pool(0), None).WaitAsync(CallTimeout)).ShouldNotContain(vm);
    }

    [Fact]
    public async Task DestroyVm_Gone_AndDestroyingAgainIsTrue()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();
        await CreateAsync(provider, Pool(0), vm);

        (await provider.DestroyVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeTrue();

        (await provider.VmsInPoolAsync(Pool(0), None).WaitAsync(CallTimeout)).ShouldNotContain(vm);
        (await provider.GetVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeNull();
        (await provider.DestroyVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeTrue();
    }

    [Fact]
    public async Task SecondProviderInstance_SeesVmsOfTheFirst()
    {
        // The manager may restart: a new provider instance must find the VMs an earlier one made (leak detection).
        if (!VmsOutliveTheInstance)
        {
            return; // this provider keeps its VMs in one instance's memory
        }

        var first = await NewProviderAsync();
        var vm = NewVmName();
        await CreateAsync(first, Pool(0), vm);

        var second = await NewProviderAsync();

        (await second.VmsInPoolAsync(Pool(0), None).WaitAsync(CallTimeout)).ShouldContain(vm);
        (await second.DestroyVmAsync(Pool(0), vm, None).WaitAsync(CallTimeout)).ShouldBeTrue();
        (await first.VmsInPoolAsync(Pool(0), None).WaitAsync(CallTimeout)).ShouldNotContain(vm);
    }

    [Fact]
    public async Task Snapshot_ThenRevert_Succeeds_AndUnknownSnapshotIsFalse()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();
        await CreateAsync(provider, Pool(0), vm);
        await WaitReadyAsync(provider, Pool(0), vm);

        var taken = await provider.CreateSnapshotAsync(Pool(0), vm, "snap1", None).WaitAsync(CallTimeout);

        taken.ShouldBe(SupportsSnapshots);
        if (SupportsSnapshots)
        {
            (await provider.RevertSnapshotAsync(Pool(0), vm, "snap1", None).WaitAsync(CallTimeout)).ShouldBeTrue();
        }

        (await provider.RevertSnapshotAsync(Pool(0), vm, "no-such-snapshot", None).WaitAsync(CallTimeout)).ShouldBeFalse();
    }

    [Fact]
    public async Task SnapshotOrDiskOfUnknownVm_IsFalseOrThrows_NeverTrue()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();

        (await AnswerOrFalse(provider.CreateSnapshotAsync(Pool(0), vm, "s", None))).ShouldBeFalse();
        (await AnswerOrFalse(provider.RevertSnapshotAsync(Pool(0), vm, "s", None))).ShouldBeFalse();
        (await AnswerOrFalse(provider.CreateDiskAsync(Pool(0), vm, 1, None))).ShouldBeFalse();
    }

    [Fact]
    public async Task CreateDisk_OnAReadyVm_MatchesSupport()
    {
        var provider = await NewProviderAsync();
        var vm = NewVmName();
        await CreateAsync(provider, Pool(0), vm);
        await WaitReadyAsync(provider, Pool(0), vm);

        (await provider.CreateDiskAsync(Pool(0), vm, 1, None).WaitAsync(CallTimeout)).ShouldBe(SupportsDisks);
    }

    private async Task<bool> AnswerOrFalse(Task<bool> call)
    {
        try
        {
            return await call.WaitAsync(CallTimeout);
        }
        catch (TimeoutException)
        {
            throw;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
