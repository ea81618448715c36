using VmPooler.Core.Providers;
using VmPooler.LibvirtTests.Fixtures;
using VmPooler.Providers.Libvirt;
using VmPooler.QemuTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>
/// A second "host" reached the way remote KVM hosts are: <c>qemu+ssh://root@127.0.0.1:PORT/system</c> through an sshd
/// the test starts. The provider clones, finds, checks and destroys VMs over it; with both URIs in one section each
/// VM is found through either connection and listed once.
/// </summary>
[Collection(LibvirtCollection.Name)]
public class SshTransportTests(LibvirtEnvironment environment, SshServer ssh, ITestOutputHelper output) : IClassFixture<SshServer>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task QemuPlusSsh_ClonesAVmThatAnswersSsh_AndDestroysIt()
    {
        using var provider = new LibvirtProvider("libvirt", environment.Options(ssh.LibvirtUri), TimeProvider.System, LibvirtEnvironment.Logger(output));
        var pool = environment.Pool("lvtssh" + Guid.NewGuid().ToString("N")[..4]);
        var vm = "ssh" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var created = await provider.CreateVmAsync(pool, vm, None);
            provider.HostOf(vm).ShouldBe(ssh.LibvirtUri);
            await WaitReadyAsync(provider, pool, vm);
            (await Ssh.OutputAsync(environment.Key, created.Ip!, created.SshPort!.Value, "echo over-ssh")).ShouldBe("over-ssh");

            // The local URI sees the same daemon: with both hosts configured the VM is listed once.
            using var both = new LibvirtProvider("libvirt", environment.Options(LibvirtEnvironment.Uri, ssh.LibvirtUri), TimeProvider.System);
            (await both.VmsInPoolAsync(pool, None)).ShouldBe([vm]);
            provider.HostStatus.ShouldAllBe(h => h.DownReason == null);
        }
        finally
        {
            (await provider.DestroyVmAsync(pool, vm, None)).ShouldBeTrue();
        }

        (await environment.DomainsAsync(pool.Name)).ShouldBeEmpty();
        environment.CloneVolumes(vm).ShouldBeEmpty();
    }

    private static async Task WaitReadyAsync(LibvirtProvider provider, Core.Configuration.PoolOptions pool, string vm)
    {
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(180);
        ReadyCheckResult last = default;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = await provider.CheckVmReadyAsync(pool, vm, None);
            if (last.IsReady)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        }

        Assert.Fail($"{vm} not ready: {last.Error}");
    }
}
