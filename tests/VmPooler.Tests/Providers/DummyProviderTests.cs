using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Providers;

public class DummyProviderTests
{
    private static readonly PoolOptions Pool = new() { Name = "pool", Template = "tpl" };
    private static readonly PoolOptions OtherPool = new() { Name = "other", Template = "tpl2" };
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly FakeTimeProvider _time = new();

    private DummyProvider Create(DummyProviderOptions? options = null, int seed = 1)
        => new("dummy", options ?? new DummyProviderOptions(), _time, new Random(seed));

    private static async Task<DummyProvider> WithVmAsync(DummyProvider provider, string name = "vm1", PoolOptions? pool = null)
    {
        await provider.CreateVmAsync(pool ?? Pool, name, None).DefaultTimeout();
        return provider;
    }

    // ---- create ----

    [Fact]
    public async Task CreateVmAsync_NoOptions_CreatedAtOnceAndReady()
    {
        var provider = Create();

        var vm = await provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout();

        vm.Name.ShouldBe("vm1");
        vm.Hostname.ShouldBe("vm1");
        vm.Template.ShouldBe("tpl");
        vm.PoolName.ShouldBe("pool");
        vm.PowerState.ShouldBe("PoweredOn");
        vm.BootTime.ShouldBe(_time.GetUtcNow());
        provider.Name.ShouldBe("dummy");
        provider.Vms.Single().Name.ShouldBe("vm1");
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).ShouldBe(ReadyCheckResult.Ready);
    }

    [Fact]
    public async Task CreateVmAsync_CreateDelay_NotCompleteUntilClockAdvanced()
    {
        var provider = Create(new DummyProviderOptions { CreateVmMinTime = TimeSpan.FromSeconds(10), CreateVmMaxTime = TimeSpan.FromSeconds(10) });

        var create = provider.CreateVmAsync(Pool, "vm1", None);

        create.IsCompleted.ShouldBeFalse();
        (await provider.VmsInPoolAsync(Pool, None)).ShouldBe(["vm1"]);
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).ShouldBe(ReadyCheckResult.NotReady("still booting"));
        _time.Advance(TimeSpan.FromSeconds(9));
        create.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(1));
        await create.DefaultTimeout();
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).IsReady.ShouldBeTrue();
    }

    [Fact]
    public async Task CreateVmAsync_RandomDelay_WithinMinAndMax()
    {
        var provider = Create(new DummyProviderOptions { CreateVmMinTime = TimeSpan.FromSeconds(5), CreateVmMaxTime = TimeSpan.FromSeconds(10) });

        var create = provider.CreateVmAsync(Pool, "vm1", None);

        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        create.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(5));
        await create.DefaultTimeout();
    }

    [Fact]
    public async Task CreateVmAsync_CancelledDuringDelay_VmRemoved()
    {
        var provider = Create(new DummyProviderOptions { CreateVmMinTime = TimeSpan.FromSeconds(10), CreateVmMaxTime = TimeSpan.FromSeconds(10) });
        using var cts = new CancellationTokenSource();
        var create = provider.CreateVmAsync(Pool, "vm1", cts.Token);

        await cts.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(create.DefaultTimeout());
        provider.Vms.ShouldBeEmpty();
    }

    [Fact]
    public async Task CreateVmAsync_FailPercent100_ThrowsAndVmRemoved()
    {
        var provider = Create(new DummyProviderOptions { CreateVmFailPercent = 100 });

        var error = await Should.ThrowAsync<DummyProviderException>(provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout());

        error.Message.ShouldContain("create_vm");
        provider.Vms.ShouldBeEmpty();
        (await provider.VmsInPoolAsync(Pool, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task CreateVmAsync_FailPercent0_NeverFails()
    {
        var provider = Create(new DummyProviderOptions { CreateVmFailPercent = 0 });

        for (var i = 0; i < 50; i++)
        {
            await provider.CreateVmAsync(Pool, $"vm{i}", None).DefaultTimeout();
        }

        provider.Vms.Count.ShouldBe(50);
    }

    [Fact]
    public async Task CreateVmAsync_FailPercent50_FailsAboutHalf()
    {
        var provider = Create(new DummyProviderOptions { CreateVmFailPercent = 50 });
        var failures = 0;

        for (var i = 0; i < 400; i++)
        {
            try
            {
                await provider.CreateVmAsync(Pool, $"vm{i}", None).DefaultTimeout();
            }
            catch (DummyProviderException)
            {
                failures++;
            }
        }

        failures.ShouldBeInRange(140, 260);
        provider.Vms.Count.ShouldBe(400 - failures);
    }

    [Fact]
    public async Task CreateVmAsync_NameTaken_Throws()
    {
        var provider = await WithVmAsync(Create());

        await Should.ThrowAsync<InvalidOperationException>(provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout());

        provider.Vms.Count.ShouldBe(1);
    }

    // ---- boot and ready ----

    [Fact]
    public async Task CheckVmReadyAsync_BootDelay_NotReadyUntilBooted()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { BootMinTime = TimeSpan.FromSeconds(30), BootMaxTime = TimeSpan.FromSeconds(30) }));

        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).ShouldBe(ReadyCheckResult.NotReady("still booting"));
        _time.Advance(TimeSpan.FromSeconds(29));
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).IsReady.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(1));
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).IsReady.ShouldBeTrue();
    }

    [Fact]
    public async Task CheckVmReadyAsync_FailPercent100_Throws()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { VmReadyFailPercent = 100 }));

        var error = await Should.ThrowAsync<DummyProviderException>(() => provider.CheckVmReadyAsync(Pool, "vm1", None));

        error.Message.ShouldContain("vm_ready?");
    }

    [Fact]
    public async Task CheckVmReadyAsync_FailPercent0_Ready()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { VmReadyFailPercent = 0 }));

        for (var i = 0; i < 20; i++)
        {
            (await provider.CheckVmReadyAsync(Pool, "vm1", None)).IsReady.ShouldBeTrue();
        }
    }

    [Fact]
    public async Task CheckVmReadyAsync_UnknownVmOrOtherPool_NotReady()
    {
        var provider = await WithVmAsync(Create());

        (await provider.CheckVmReadyAsync(Pool, "ghost", None)).IsReady.ShouldBeFalse();
        var other = await provider.CheckVmReadyAsync(OtherPool, "vm1", None);
        other.IsReady.ShouldBeFalse();
        other.Error.ShouldNotBeNull().ShouldContain("other");
    }

    // ---- get_vm ----

    [Fact]
    public async Task GetVmAsync_PowerOffPercent100_PoweredOffAndNotReady()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { GetVmPowerOffPercent = 100 }));

        var vm = await provider.GetVmAsync(Pool, "vm1", None);

        vm.ShouldNotBeNull().PowerState.ShouldBe("PoweredOff");
        (await provider.CheckVmReadyAsync(Pool, "vm1", None)).ShouldBe(ReadyCheckResult.NotReady("powered off"));
    }

    [Fact]
    public async Task GetVmAsync_PowerOffPercent0_StaysPoweredOn()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { GetVmPowerOffPercent = 0 }));

        for (var i = 0; i < 20; i++)
        {
            (await provider.GetVmAsync(Pool, "vm1", None))!.PowerState.ShouldBe("PoweredOn");
        }
    }

    [Fact]
    public async Task GetVmAsync_RenamePercent100_HostnameChanged()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { GetVmRenamePercent = 100 }));

        (await provider.GetVmAsync(Pool, "vm1", None))!.Hostname.ShouldBe("DUMMYvm1");
    }

    [Fact]
    public async Task GetVmAsync_RenamePercent0_HostnameIsName()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { GetVmRenamePercent = 0 }));

        for (var i = 0; i < 20; i++)
        {
            (await provider.GetVmAsync(Pool, "vm1", None))!.Hostname.ShouldBe("vm1");
        }
    }

    [Fact]
    public async Task GetVmAsync_UnknownOrOtherPool_Null()
    {
        var provider = await WithVmAsync(Create());

        (await provider.GetVmAsync(Pool, "ghost", None)).ShouldBeNull();
        (await provider.GetVmAsync(OtherPool, "vm1", None)).ShouldBeNull();
    }

    [Fact]
    public async Task GetVmIpAddressAsync_KnownVm_ConfiguredIpElseNull()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { Ip = "10.0.0.7" }));

        (await provider.GetVmIpAddressAsync(Pool, "vm1", None)).ShouldBe("10.0.0.7");
        (await provider.GetVmIpAddressAsync(Pool, "ghost", None)).ShouldBeNull();
        (await provider.GetVmIpAddressAsync(OtherPool, "vm1", None)).ShouldBeNull();
    }

    // ---- vms_in_pool ----

    [Fact]
    public async Task VmsInPoolAsync_SeveralPools_OnlyThatPoolsVms()
    {
        var provider = Create();
        await provider.CreateVmAsync(Pool, "a1", None);
        await provider.CreateVmAsync(Pool, "a2", None);
        await provider.CreateVmAsync(OtherPool, "b1", None);

        (await provider.VmsInPoolAsync(Pool, None)).Order().ShouldBe(["a1", "a2"]);
        (await provider.VmsInPoolAsync(OtherPool, None)).ShouldBe(["b1"]);
        (await provider.VmsInPoolAsync(new PoolOptions { Name = "empty" }, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task VmsInPoolAsync_FailPercent100_Throws()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { VmsInPoolFailPercent = 100 }));

        var error = await Should.ThrowAsync<DummyProviderException>(() => provider.VmsInPoolAsync(Pool, None));

        error.Message.ShouldContain("vms_in_pool");
    }

    // ---- destroy ----

    [Fact]
    public async Task DestroyVmAsync_KnownVm_Gone()
    {
        var provider = await WithVmAsync(Create());

        (await provider.DestroyVmAsync(Pool, "vm1", None).DefaultTimeout()).ShouldBeTrue();

        provider.Vms.ShouldBeEmpty();
    }

    [Fact]
    public async Task DestroyVmAsync_UnknownVm_True()
    {
        var provider = Create(new DummyProviderOptions { DestroyVmFailPercent = 100 });

        (await provider.DestroyVmAsync(Pool, "ghost", None).DefaultTimeout()).ShouldBeTrue();
    }

    [Fact]
    public async Task DestroyVmAsync_OtherPool_FalseAndVmKept()
    {
        var provider = await WithVmAsync(Create());

        (await provider.DestroyVmAsync(OtherPool, "vm1", None).DefaultTimeout()).ShouldBeFalse();

        provider.Vms.Single().Name.ShouldBe("vm1");
    }

    [Fact]
    public async Task DestroyVmAsync_FailPercent100_ThrowsAndVmKept()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { DestroyVmFailPercent = 100 }));

        var error = await Should.ThrowAsync<DummyProviderException>(provider.DestroyVmAsync(Pool, "vm1", None).DefaultTimeout());

        error.Message.ShouldContain("destroy_vm");
        provider.Vms.Count.ShouldBe(1);
    }

    [Fact]
    public async Task DestroyVmAsync_ShutdownAndDestroyDelays_NotCompleteUntilClockAdvanced()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions
        {
            DestroyVmMaxShutdownTime = TimeSpan.FromSeconds(10),
            DestroyVmMaxTime = TimeSpan.FromSeconds(10),
        }));

        var destroy = provider.DestroyVmAsync(Pool, "vm1", None);

        destroy.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(10));
        _time.Advance(TimeSpan.FromSeconds(10));
        (await destroy.DefaultTimeout()).ShouldBeTrue();
        provider.Vms.ShouldBeEmpty();
    }

    // ---- disks and snapshots ----

    [Fact]
    public async Task CreateDiskAsync_KnownVm_DiskAdded()
    {
        var provider = await WithVmAsync(Create());

        (await provider.CreateDiskAsync(Pool, "vm1", 20, None).DefaultTimeout()).ShouldBeTrue();

        provider.Vms.Single().Disks.ShouldBe([20]);
    }

    [Fact]
    public async Task CreateDiskAsync_UnknownVm_False()
        => (await Create().CreateDiskAsync(Pool, "ghost", 20, None).DefaultTimeout()).ShouldBeFalse();

    [Fact]
    public async Task CreateDiskAsync_FailPercent100_Throws()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { CreateDiskFailPercent = 100 }));

        await Should.ThrowAsync<DummyProviderException>(provider.CreateDiskAsync(Pool, "vm1", 20, None).DefaultTimeout());

        provider.Vms.Single().Disks.ShouldBeEmpty();
    }

    [Fact]
    public async Task CreateDiskAsync_Delay_NotCompleteUntilClockAdvanced()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { CreateDiskMaxTime = TimeSpan.FromSeconds(5) }));

        var disk = provider.CreateDiskAsync(Pool, "vm1", 20, None);

        disk.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(5));
        (await disk.DefaultTimeout()).ShouldBeTrue();
    }

    [Fact]
    public async Task CreateSnapshotAsync_KnownVm_SnapshotRecorded()
    {
        var provider = await WithVmAsync(Create());

        (await provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None).DefaultTimeout()).ShouldBeTrue();

        provider.Vms.Single().Snapshots.ShouldBe(["snap1"]);
    }

    [Fact]
    public async Task CreateSnapshotAsync_UnknownVm_False()
        => (await Create().CreateSnapshotAsync(Pool, "ghost", "snap1", None).DefaultTimeout()).ShouldBeFalse();

    [Fact]
    public async Task CreateSnapshotAsync_FailPercent100_Throws()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { CreateSnapshotFailPercent = 100 }));

        await Should.ThrowAsync<DummyProviderException>(provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None).DefaultTimeout());

        provider.Vms.Single().Snapshots.ShouldBeEmpty();
    }

    [Fact]
    public async Task CreateSnapshotAsync_Delay_NotCompleteUntilClockAdvanced()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { CreateSnapshotMaxTime = TimeSpan.FromSeconds(5) }));

        var snapshot = provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None);

        snapshot.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(5));
        (await snapshot.DefaultTimeout()).ShouldBeTrue();
    }

    [Fact]
    public async Task RevertSnapshotAsync_KnownSnapshot_True()
    {
        var provider = await WithVmAsync(Create());
        await provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None);

        (await provider.RevertSnapshotAsync(Pool, "vm1", "snap1", None).DefaultTimeout()).ShouldBeTrue();
    }

    [Fact]
    public async Task RevertSnapshotAsync_UnknownSnapshot_False()
    {
        var provider = await WithVmAsync(Create());
        await provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None);

        (await provider.RevertSnapshotAsync(Pool, "vm1", "other", None).DefaultTimeout()).ShouldBeFalse();
    }

    [Fact]
    public async Task RevertSnapshotAsync_UnknownVm_False()
        => (await Create().RevertSnapshotAsync(Pool, "ghost", "snap1", None).DefaultTimeout()).ShouldBeFalse();

    [Fact]
    public async Task RevertSnapshotAsync_FailPercent100_Throws()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { RevertSnapshotFailPercent = 100 }));
        await provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None);

        await Should.ThrowAsync<DummyProviderException>(provider.RevertSnapshotAsync(Pool, "vm1", "snap1", None).DefaultTimeout());
    }

    [Fact]
    public async Task RevertSnapshotAsync_Delay_NotCompleteUntilClockAdvanced()
    {
        var provider = await WithVmAsync(Create(new DummyProviderOptions { RevertSnapshotMaxTime = TimeSpan.FromSeconds(5) }));
        await provider.CreateSnapshotAsync(Pool, "vm1", "snap1", None);

        var revert = provider.RevertSnapshotAsync(Pool, "vm1", "snap1", None);

        revert.IsCompleted.ShouldBeFalse();
        _time.Advance(TimeSpan.FromSeconds(5));
        (await revert.DefaultTimeout()).ShouldBeTrue();
    }

    // ---- seeding ----

    [Fact]
    public async Task Constructor_SameSeed_SameRandomOutcomes()
    {
        static async Task<List<bool>> OutcomesAsync(DummyProvider provider)
        {
            var outcomes = new List<bool>();
            for (var i = 0; i < 30; i++)
            {
                try
                {
                    await provider.CreateVmAsync(Pool, $"vm{i}", None);
                    outcomes.Add(true);
                }
                catch (DummyProviderException)
                {
                    outcomes.Add(false);
                }
            }

            return outcomes;
        }

        var options = new DummyProviderOptions { CreateVmFailPercent = 50, Seed = 42 };
        var first = await OutcomesAsync(new DummyProvider("a", options, _time));
        var second = await OutcomesAsync(new DummyProvider("b", options, _time));

        first.ShouldBe(second);
        first.ShouldContain(true);
        first.ShouldContain(false);
    }
}
