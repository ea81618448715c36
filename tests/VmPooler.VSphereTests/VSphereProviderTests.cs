using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers;
using VmPooler.Providers.VSphere;
using VmPooler.Tests.Shared;
using VmPooler.VSphereTests.Fixtures;

namespace VmPooler.VSphereTests;

/// <summary>vSphere-specific behaviour on the simulator: sessions, login errors, clones, snapshots, disks, hosts, purge.</summary>
public sealed class VSphereProviderTests(VcsimFixture fixture) : IClassFixture<VcsimFixture>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly string _root = "provider/" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<VSphereProvider> _providers = [];

    private Vcsim Vcsim => fixture.Vcsim;

    [Fact]
    public async Task SessionTerminated_NextCallLogsInAgainAndSucceeds()
    {
        var (provider, options) = Create([("pool0", 0)]);
        var vm = "sess" + Guid.NewGuid().ToString("N")[..8];
        await provider.CreateVmAsync(options.Pools[0], vm, None).DefaultTimeout();
        provider.Client.LoginCount.ShouldBe(1);
        var key = provider.Client.SessionKey.ShouldNotBeNull();

        await using (var admin = Vcsim.NewClient())
        {
            await admin.TerminateSessionAsync(key, None).DefaultTimeout();
        }

        (await provider.VmsInPoolAsync(options.Pools[0], None).DefaultTimeout()).ShouldContain(vm);
        provider.Client.LoginCount.ShouldBe(2);
        provider.Client.SessionKey.ShouldNotBe(key);
        (await provider.DestroyVmAsync(options.Pools[0], vm, None).DefaultTimeout()).ShouldBeTrue();
    }

    [Fact]
    public async Task WrongPassword_FailsWithAClearLoginError_WithoutThePassword()
    {
        var (provider, options) = Create([("pool0", 0)], password: "not-the-password");

        var error = await Should.ThrowAsync<VSphereLoginException>(() => provider.VmsInPoolAsync(options.Pools[0], None).DefaultTimeout());

        error.Message.ShouldContain("username or password is wrong");
        error.Message.ShouldContain(Vcsim.Username);
        error.Message.ShouldContain(Vcsim.SdkUrl.Host);
        error.Message.ShouldNotContain("not-the-password");
    }

    [Fact]
    public async Task CreateVm_PowersTheCloneOn_AndAnnotatesIt()
    {
        var (provider, options) = Create([("pool0", 0)]);
        var vm = "pwr" + Guid.NewGuid().ToString("N")[..8];

        var created = await provider.CreateVmAsync(options.Pools[0], vm, None).DefaultTimeout();

        created.PowerState.ShouldBe("poweredOn");
        created.Ip.ShouldBe(VSphereConfigs.GuestIp);
        created.Template.ShouldBe(Vcsim.Template);
        (await provider.CheckVmReadyAsync(options.Pools[0], vm, None).DefaultTimeout()).IsReady.ShouldBeTrue();
    }

    [Fact]
    public async Task LinkedClone_TemplateWithoutSnapshot_SaysSo_AndAFullCloneWorks()
    {
        const string NoSnapshot = "DC0_C0_RP0_VM1";
        var (linked, linkedOptions) = Create([("pool0", 0)], poolLines: "template: '" + NoSnapshot + "'");
        var (full, fullOptions) = Create([("pool1", 0)], poolLines: "template: '" + NoSnapshot + "'\ncreate_linked_clone: false");

        var error = await Should.ThrowAsync<VSphereException>(() => linked.CreateVmAsync(linkedOptions.Pools[0], "lnk" + Guid.NewGuid().ToString("N")[..8], None).DefaultTimeout());
        error.Message.ShouldContain("has no snapshot");
        error.Message.ShouldContain("create_linked_clone: false");

        var vm = await full.CreateVmAsync(fullOptions.Pools[0], "full" + Guid.NewGuid().ToString("N")[..8], None).DefaultTimeout();
        vm.PowerState.ShouldBe("poweredOn");
    }

    [Fact]
    public async Task Snapshot_ThenRevert_SnapshotIsListed_AndADuplicateNameIsRefused()
    {
        var (provider, options) = Create([("pool0", 0)]);
        var pool = options.Pools[0];
        var vm = "snap" + Guid.NewGuid().ToString("N")[..8];
        await provider.CreateVmAsync(pool, vm, None).DefaultTimeout();

        (await provider.CreateSnapshotAsync(pool, vm, "before-tests", None).DefaultTimeout()).ShouldBeTrue();
        (await provider.CreateSnapshotAsync(pool, vm, "after-tests", None).DefaultTimeout()).ShouldBeTrue();

        (await provider.SnapshotNamesAsync(pool, vm, None).DefaultTimeout()).ShouldBe(["before-tests", "after-tests"]);
        (await provider.CreateSnapshotAsync(pool, vm, "before-tests", None).DefaultTimeout()).ShouldBeFalse();
        (await provider.RevertSnapshotAsync(pool, vm, "before-tests", None).DefaultTimeout()).ShouldBeTrue();
        (await provider.RevertSnapshotAsync(pool, vm, "never-taken", None).DefaultTimeout()).ShouldBeFalse();
    }

    [Fact]
    public async Task CreateDisk_AddsAThinDiskOfTheRequestedSize()
    {
        var (provider, options) = Create([("pool0", 0)]);
        var pool = options.Pools[0];
        var vm = "disk" + Guid.NewGuid().ToString("N")[..8];
        await provider.CreateVmAsync(pool, vm, None).DefaultTimeout();
        var before = await provider.DiskCapacitiesKbAsync(pool, vm, None).DefaultTimeout();

        (await provider.CreateDiskAsync(pool, vm, 3, None).DefaultTimeout()).ShouldBeTrue();
        (await provider.CreateDiskAsync(pool, vm, 5, None).DefaultTimeout()).ShouldBeTrue();

        var after = await provider.DiskCapacitiesKbAsync(pool, vm, None).DefaultTimeout();
        after.Count.ShouldBe(before.Count + 2);
        after.ShouldContain(3L * 1024 * 1024);
        after.ShouldContain(5L * 1024 * 1024);
        (await provider.CreateDiskAsync(pool, vm, 0, None).DefaultTimeout()).ShouldBeFalse();
    }

    [Fact]
    public async Task ManagedHostSelection_SkipsAHostInMaintenance_AndSpreadsOverTheOthers()
    {
        await using (var admin = Vcsim.NewClient())
        {
            await admin.EnterMaintenanceModeAsync($"{Vcsim.Datacenter}/host/{Vcsim.Cluster}/DC0_C0_H0").DefaultTimeout();
        }

        var (provider, options) = Create([("pool0", 0)], configLines: "manage_host_selection: true");
        var chosen = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            await provider.CreateVmAsync(options.Pools[0], $"host{i}" + Guid.NewGuid().ToString("N")[..6], None).DefaultTimeout();
            chosen.Add(provider.LastSelectedHost.ShouldNotBeNull());
        }

        chosen.ShouldNotContain("DC0_C0_H0");
        chosen.Distinct().Count().ShouldBeGreaterThan(1, string.Join(", ", chosen));
    }

    [Fact]
    public async Task PurgeUnconfiguredFolders_DestroysFoldersOfGonePools_KeepsConfiguredAndAllowlisted()
    {
        // An earlier configuration had pools "old" and "pinned" next to "keep".
        var (before, beforeOptions) = Create([("keep", 0), ("old", 0), ("pinned", 0)]);
        await before.CreateVmAsync(beforeOptions.Pools[1], "old" + Guid.NewGuid().ToString("N")[..8], None).DefaultTimeout();
        await before.CreateVmAsync(beforeOptions.Pools[2], "pin" + Guid.NewGuid().ToString("N")[..8], None).DefaultTimeout();
        var kept = "keep" + Guid.NewGuid().ToString("N")[..8];
        await before.CreateVmAsync(beforeOptions.Pools[0], kept, None).DefaultTimeout();

        // Now only "keep" is configured, with purging on and "pinned" allowlisted.
        var (after, afterOptions) = Create(
            [("keep", 0)],
            configLines: "purge_unconfigured_resources: true",
            providerLines: "resources_allowlist: [ 'pinned' ]");
        (await after.VmsInPoolAsync(afterOptions.Pools[0], None).DefaultTimeout()).ShouldBe([kept]);

        await using var admin = Vcsim.NewClient();
        (await admin.FindByInventoryPathAsync($"{Vcsim.Datacenter}/vm/{_root}/old", None)).ShouldBeNull();
        (await admin.FindByInventoryPathAsync($"{Vcsim.Datacenter}/vm/{_root}/pinned", None)).ShouldNotBeNull();
        (await admin.FindByInventoryPathAsync($"{Vcsim.Datacenter}/vm/{_root}/keep/{kept}", None)).ShouldNotBeNull();
    }

    [Fact]
    public void Configuration_Mistakes_AreAllReportedWithTheirKeys()
    {
        const string Yaml = """
            :providers:
              :vsphere:
                server: 'ftp://vcenter'
                username: 'vmpooler'
                insecure: 'maybe'
                connection_pool_size: 0
            :config:
              utilization_limit: 150
              manage_host_selection: 'maybe'
            :pools:
              - name: 'a'
                provider: 'vsphere'
                template: 'templates/debian'
                size: 1
                ready_check: 'ping'
              - name: 'b'
                provider: 'vsphere'
                template: 'templates/debian'
                folder: 'pools/b'
                size: 1
              - name: 'c'
                provider: 'vsphere'
                template: 'templates/debian'
                folder: 'pools/b'
                size: 1
              - name: 'd'
                provider: 'vsphere'
                folder: 'pools/d'
                size: 1
            """;

        var error = Should.Throw<ConfigException>(() => VmPoolerServer.LoadOptions(Yaml));

        error.Errors.ShouldContain(e => e.StartsWith("providers.vsphere.server:", StringComparison.Ordinal) && e.Contains("ftp://vcenter", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("providers.vsphere.password: is required", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("providers.vsphere.insecure:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("providers.vsphere.connection_pool_size:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("pools[0].folder: is required", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("pools[0].ready_check:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("pools[2].folder:", StringComparison.Ordinal) && e.Contains("pools[1]", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("pools[3].template: is required", StringComparison.Ordinal));
        // The :config: settings the provider reads are checked at load too (they used to fail only at start-up, unhandled).
        error.Errors.ShouldContain(e => e.StartsWith("config.utilization_limit:", StringComparison.Ordinal));
        error.Errors.ShouldContain(e => e.StartsWith("config.manage_host_selection:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExampleConfiguration_Loads_AndMakesAVSphereProvider()
    {
        var yaml = await File.ReadAllTextAsync(Path.Combine(VcsimBinary.RepoRoot(), "examples", "vsphere.yaml"));

        var options = VmPoolerServer.LoadOptions(yaml);

        options.Pools.ShouldAllBe(p => p.Provider == "vsphere");
        await using var provider = (VSphereProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["vsphere"], options);
        provider.Client.SdkUrl.ShouldBe(new Uri("https://vcenter.example.com/sdk"));
    }

    private (VSphereProvider Provider, VmPoolerOptions Options) Create(
        IEnumerable<(string Name, int Size)> pools,
        string password = Vcsim.Password,
        string configLines = "",
        string poolLines = "",
        string providerLines = "")
    {
        var options = VmPoolerServer.LoadOptions(VSphereConfigs.Yaml(Vcsim, _root, pools, password, configLines, poolLines, providerLines));
        var provider = (VSphereProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["vsphere"], options);
        _providers.Add(provider);
        return (provider, options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var provider in _providers)
        {
            await provider.DisposeAsync();
        }
    }
}
