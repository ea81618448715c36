using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Providers;

/// <summary>The dummy provider's shared state (<c>state_dir</c>) and provider outage (<c>outage_file</c>) used by the chaos tests.</summary>
public sealed class DummyProviderFaultTests : IDisposable
{
    private static readonly PoolOptions Pool = new() { Name = "pool", Template = "tpl" };
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly FakeTimeProvider _time = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("vmpooler-dummy-fault-").FullName;

    private string StateDir => Path.Combine(_directory, "state");

    private string OutageFile => Path.Combine(_directory, "outage");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private DummyProvider Create(DummyProviderOptions? options = null)
        => new("dummy", options ?? new DummyProviderOptions { StateDirectory = StateDir, OutageFile = OutageFile }, _time, new Random(1));

    [Fact]
    public async Task CreateVmAsync_StateDir_VmVisibleToAnotherInstanceWithItsCloneTime()
    {
        var first = Create();
        await first.CreateVmAsync(Pool, "vm1", None).DefaultTimeout();

        var second = Create();

        second.Vms.ShouldHaveSingleItem().Name.ShouldBe("vm1");
        second.Vms.Single().ClonedAt.ShouldBe(_time.GetUtcNow());
        (await second.CheckVmReadyAsync(Pool, "vm1", None).DefaultTimeout()).ShouldBe(ReadyCheckResult.Ready);
    }

    [Fact]
    public async Task CreateVmAsync_StateDirCloneInterrupted_VmStaysAsNeverBooting()
    {
        // A process killed mid-clone leaves the VM behind (a half-made clone), which never passes the ready check.
        var first = Create(new DummyProviderOptions { StateDirectory = StateDir, CreateVmMaxTime = TimeSpan.FromSeconds(10) });
        using var kill = new CancellationTokenSource();
        var creating = first.CreateVmAsync(Pool, "vm1", kill.Token);
        var second = Create();
        second.Vms.ShouldHaveSingleItem().ClonedAt.ShouldBeNull();

        (await second.CheckVmReadyAsync(Pool, "vm1", None).DefaultTimeout()).IsReady.ShouldBeFalse();
        (await second.DestroyVmAsync(Pool, "vm1", None).DefaultTimeout()).ShouldBeTrue();
        second.Vms.ShouldBeEmpty();
        await kill.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(creating.DefaultTimeout());
    }

    [Fact]
    public async Task CreateVmAsync_StateDirNameTakenByAnotherInstance_Throws()
    {
        await Create().CreateVmAsync(Pool, "vm1", None).DefaultTimeout();

        await Should.ThrowAsync<InvalidOperationException>(Create().CreateVmAsync(Pool, "vm1", None).DefaultTimeout());
        Create().Vms.Count.ShouldBe(1);
    }

    [Fact]
    public async Task CreateVmAsync_StateDirHostileName_RefusedAndNothingWrittenOutside()
    {
        await Should.ThrowAsync<ArgumentException>(Create().CreateVmAsync(Pool, "../escape", None).DefaultTimeout());

        File.Exists(Path.Combine(_directory, "escape.vm.json")).ShouldBeFalse();
        Create().Vms.ShouldBeEmpty();
    }

    [Fact]
    public async Task EveryCall_OutageFilePresent_FailsAndIsCounted()
    {
        var provider = Create();
        await provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout();
        await File.WriteAllTextAsync(OutageFile, "");

        await Should.ThrowAsync<DummyProviderException>(provider.VmsInPoolAsync(Pool, None).DefaultTimeout());
        await Should.ThrowAsync<DummyProviderException>(provider.CreateVmAsync(Pool, "vm2", None).DefaultTimeout());
        await Should.ThrowAsync<DummyProviderException>(provider.CheckVmReadyAsync(Pool, "vm1", None).DefaultTimeout());
        await Should.ThrowAsync<DummyProviderException>(provider.GetVmAsync(Pool, "vm1", None).DefaultTimeout());
        await Should.ThrowAsync<DummyProviderException>(provider.GetVmIpAddressAsync(Pool, "vm1", None).DefaultTimeout());
        await Should.ThrowAsync<DummyProviderException>(provider.DestroyVmAsync(Pool, "vm1", None).DefaultTimeout());

        (await File.ReadAllLinesAsync(OutageFile + ".calls")).ShouldBe(["vms_in_pool", "create_vm", "vm_ready?", "get_vm", "get_vm_ip_address", "destroy_vm"]);
        provider.Vms.Select(v => v.Name).ShouldBe(["vm1"], "nothing changes during the outage");
    }

    [Fact]
    public async Task EveryCall_OutageFileRemoved_WorksAgain()
    {
        var provider = Create();
        await File.WriteAllTextAsync(OutageFile, "");
        await Should.ThrowAsync<DummyProviderException>(provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout());

        File.Delete(OutageFile);

        await provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout();
        (await provider.VmsInPoolAsync(Pool, None).DefaultTimeout()).ShouldBe(["vm1"]);
    }

    [Fact]
    public async Task InjectedFailures_CalmFilePresent_NoneInjectedUntilRemoved()
    {
        var calm = Path.Combine(_directory, "calm");
        var provider = Create(new DummyProviderOptions { CreateVmFailPercent = 100, VmReadyFailPercent = 100, CalmFile = calm });
        await Should.ThrowAsync<DummyProviderException>(provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout());

        await File.WriteAllTextAsync(calm, "");
        await provider.CreateVmAsync(Pool, "vm1", None).DefaultTimeout();
        (await provider.CheckVmReadyAsync(Pool, "vm1", None).DefaultTimeout()).ShouldBe(ReadyCheckResult.Ready);

        File.Delete(calm);
        await Should.ThrowAsync<DummyProviderException>(provider.CheckVmReadyAsync(Pool, "vm1", None).DefaultTimeout());
    }

    [Fact]
    public void Parse_StateDirAndOutageFile_AbsolutePathsRead()
    {
        var errors = new List<string>();
        var options = DummyProviderOptions.Parse(
            new Dictionary<string, object?> { ["state_dir"] = "/tmp/a", ["outage_file"] = "/tmp/b", ["calm_file"] = "/tmp/c" }, "providers.dummy", errors);

        errors.ShouldBeEmpty();
        options.CalmFile.ShouldBe("/tmp/c");
        options.StateDirectory.ShouldBe("/tmp/a");
        options.OutageFile.ShouldBe("/tmp/b");
    }

    [Fact]
    public void Parse_StateDirRelativeOrNotText_ErrorNamesTheKey()
    {
        var errors = new List<string>();
        DummyProviderOptions.Parse(
            new Dictionary<string, object?> { ["state_dir"] = "relative/dir", ["outage_file"] = new List<object?>() }, "providers.dummy", errors);

        errors.Count.ShouldBe(2);
        errors.ShouldContain(e => e.StartsWith("providers.dummy.state_dir:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.dummy.outage_file:", StringComparison.Ordinal));
    }
}
