using System.Net;
using System.Net.Sockets;
using VmPooler.Core.Providers;
using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.QemuTests.Providers;

/// <summary>What the qemu provider does beyond the shared contract, on real VMs.</summary>
[Collection(QemuCollection.Name)]
public class QemuProviderTests(QemuEnvironment environment, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(150);
    private readonly string _runDir = environment.NewRunDirectory("qp");
    private QemuProvider _provider = null!;

    public Task InitializeAsync()
    {
        _provider = new QemuProvider("qemu", environment.ProviderOptions(_runDir), TimeProvider.System, environment.Logger(output));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var pool in new[] { environment.Pool("cold", savedState: "false"), environment.Pool("warm") })
        {
            foreach (var vm in await _provider.VmsInPoolAsync(pool, CancellationToken.None))
            {
                await _provider.DestroyVmAsync(pool, vm, CancellationToken.None).DefaultTimeout(CallTimeout);
            }
        }

        environment.KillAll(_runDir).ShouldBe(0, "every VM was destroyed");
    }

    [Fact]
    public async Task ColdBoot_WithoutSavedState_AnswersSshUnderItsOwnName()
    {
        var pool = environment.Pool("cold", savedState: "false");
        var beforeIdentity = QemuEnvironment.WatchSshBeforeIdentity(_provider);

        var vm = await _provider.CreateVmAsync(pool, "coldone", CancellationToken.None).DefaultTimeout(CallTimeout);

        beforeIdentity.ShouldHaveSingleItem().Keys.ShouldBeEmpty("a booted guest serves no host key before it has its own");

        (await _provider.CheckVmReadyAsync(pool, "coldone", CancellationToken.None).DefaultTimeout()).IsReady.ShouldBeTrue();
        vm.SshPort.ShouldNotBeNull();
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort.Value, "hostname; cat /proc/cmdline")).ShouldStartWith("coldone\n");
        File.ReadAllText(Path.Combine(_provider.VmDirectory("cold", "coldone"), "vm.json")).ShouldContain("\"booted_from\": \"cold\"");
        vm.HostKeyFingerprint.ShouldBe((await Ssh.ScanHostKeyAsync(vm.Ip!, vm.SshPort.Value)).Fingerprint, "a cold-booted VM gets its own host key too");
    }

    [Fact]
    public async Task SavedStateClones_EachGetTheirOwnHostnameAndClock()
    {
        var pool = environment.Pool("warm");

        var first = await _provider.CreateVmAsync(pool, "warm-a", CancellationToken.None).DefaultTimeout(CallTimeout);
        var second = await _provider.CreateVmAsync(pool, "warm-b", CancellationToken.None).DefaultTimeout(CallTimeout);

        (await Ssh.OutputAsync(environment.Key, first.Ip!, first.SshPort!.Value, "hostname; cat /etc/hostname")).ShouldBe("warm-a\nwarm-a");
        (await Ssh.OutputAsync(environment.Key, second.Ip!, second.SshPort!.Value, "hostname")).ShouldBe("warm-b");
        var guestClock = long.Parse(await Ssh.OutputAsync(environment.Key, second.Ip!, second.SshPort.Value, "date +%s"), System.Globalization.CultureInfo.InvariantCulture);
        Math.Abs(guestClock - TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()).ShouldBeLessThan(30, "the restored clock is set to now");
        File.ReadAllText(Path.Combine(_provider.VmDirectory("warm", "warm-b"), "vm.json")).ShouldContain("\"booted_from\": \"shared-state\"");
    }

    [Fact]
    public async Task SshForwardTaken_QemuExitsAtStart_TheProviderRetriesWithAnotherPort()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var free = FreePort();
        var picks = 0;
        _provider.EndpointPicker = () => Interlocked.Increment(ref picks) == 1 ? ("127.0.0.1", taken) : ("127.0.0.1", free);

        var vm = await _provider.CreateVmAsync(environment.Pool("warm"), "clash", CancellationToken.None).DefaultTimeout(CallTimeout);

        picks.ShouldBe(2);
        vm.SshPort.ShouldBe(free);
        File.ReadAllText(Path.Combine(_provider.VmDirectory("warm", "clash"), "vm.json")).ShouldContain("\"booted_from\": \"shared-state\"", customMessage: "the retry happens within the restore, not by falling back to a cold boot");
        (await _provider.CheckVmReadyAsync(environment.Pool("warm"), "clash", CancellationToken.None).DefaultTimeout()).IsReady.ShouldBeTrue();
    }

    [Fact]
    public async Task VmWhoseProcessDied_IsNoLongerListed_AndItsFilesAreRemoved()
    {
        var pool = environment.Pool("warm");
        await _provider.CreateVmAsync(pool, "doomed", CancellationToken.None).DefaultTimeout(CallTimeout);
        var dir = _provider.VmDirectory("warm", "doomed");

        environment.KillAll(dir).ShouldBe(1);
        await AsyncTestHelpers.WaitUntilAsync(() => environment.QemuProcesses(dir).Count == 0, "the VM's QEMU is dead");

        var check = await _provider.CheckVmReadyAsync(pool, "doomed", CancellationToken.None).DefaultTimeout();
        check.IsReady.ShouldBeFalse();
        check.Abandoned.ShouldBeTrue("a pending VM without its QEMU can never become ready: the manager replaces it at once");
        check.Error.ShouldBe("qemu provider: the QEMU process of 'doomed' is gone");
        (await _provider.GetVmAsync(pool, "doomed", CancellationToken.None).DefaultTimeout())!.PowerState.ShouldBe("PoweredOff");
        (await _provider.VmsInPoolAsync(pool, CancellationToken.None).DefaultTimeout()).ShouldNotContain("doomed");
        Directory.Exists(dir).ShouldBeFalse();
    }

    [Fact]
    public async Task CloneThatNeverStarted_AbandonedOnceNothingCreatesIt()
    {
        // What a manager that died mid-clone leaves: the VM's directory, no record, no QEMU, nobody creating it.
        var pool = environment.Pool("warm");
        var dir = _provider.VmDirectory("warm", "orphaned");
        Directory.CreateDirectory(dir);

        var young = await _provider.CheckVmReadyAsync(pool, "orphaned", CancellationToken.None).DefaultTimeout();
        Directory.SetLastWriteTimeUtc(dir, TimeProvider.System.GetUtcNow().UtcDateTime.AddHours(-1));
        var old = await _provider.CheckVmReadyAsync(pool, "orphaned", CancellationToken.None).DefaultTimeout();
        var missing = await _provider.CheckVmReadyAsync(pool, "never", CancellationToken.None).DefaultTimeout();

        young.ShouldBe(ReadyCheckResult.NotReady("qemu provider: 'orphaned' is still being created"), "another instance may be creating it");
        old.Abandoned.ShouldBeTrue();
        old.Error!.ShouldContain("did not finish");
        missing.ShouldBe(ReadyCheckResult.NotReady("qemu provider: no VM 'never' in pool 'warm'"));
    }

    [Fact]
    public async Task SshForwardAddress_GivesEachVmItsOwnLoopbackAddressOnPort22()
    {
        var provider = new QemuProvider("qemu", environment.ProviderOptions(_runDir) with { SshForward = SshForward.Address }, TimeProvider.System, environment.Logger(output));
        var pool = environment.Pool("warm");
        if (!Port22IsFree())
        {
            // Something listens on port 22 of every address (a host sshd on 0.0.0.0:22): no loopback address can have it.
            (await Should.ThrowAsync<InvalidOperationException>(provider.CreateVmAsync(pool, "addr", CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(150))))
                .Message.ShouldContain("forwarding");
            return;
        }

        var vm = await provider.CreateVmAsync(pool, "addr", CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(150));

        vm.Ip.ShouldStartWith("127.0.0.");
        vm.Ip.ShouldNotBe("127.0.0.1");
        vm.SshPort.ShouldBe(22);
        (await Ssh.OutputAsync(environment.Key, vm.Ip!, 22, "hostname")).ShouldBe("addr");
    }

    private static bool Port22IsFree()
    {
        try
        {
            using var probe = new TcpListener(IPAddress.Parse("127.0.0.254"), 22);
            probe.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
