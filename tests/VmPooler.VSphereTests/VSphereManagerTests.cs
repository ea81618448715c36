using System.Net;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers;
using VmPooler.Providers.VSphere;
using VmPooler.Tests.Shared;
using VmPooler.VSphereTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.VSphereTests;

/// <summary>
/// The real application (API + pool manager, in process) with a vSphere pool on the simulator: the manager fills the
/// pool with clones, hands them out, destroys returned ones and refills, and destroys a VM it did not create that
/// turns up in the pool's folder (a leak).
/// </summary>
public sealed class VSphereManagerTests(VcsimFixture fixture, ITestOutputHelper output) : IClassFixture<VcsimFixture>
{
    private const string Pool = "debian";
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Manager_FillsDrainsAndRefillsAVSpherePool_AndDestroysALeakedVm()
    {
        var root = "e2e/" + Guid.NewGuid().ToString("N")[..8];
        var yaml = VSphereConfigs.Yaml(fixture.Vcsim, root, [(Pool, 2)]);
        await using var server = await VmPoolerServer.StartAsync(yaml, output: output);
        var options = server.Options;
        await using var observer = (VSphereProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["vsphere"], options);
        var pool = options.Pools[0];

        // Filled: two ready VMs, and exactly those two in the pool's folder.
        await WaitForFullPoolAsync(server, observer, pool);

        // Drained: both handed out; the manager clones replacements while they run.
        var first = await CheckoutAsync(server);
        var second = await CheckoutAsync(server);
        (await server.StateOfAsync(first)).ShouldBe(VmState.Running);
        (await server.StateOfAsync(second)).ShouldBe(VmState.Running);
        (await observer.GetVmAsync(pool, first, CancellationToken.None).DefaultTimeout()).ShouldNotBeNull().PowerState.ShouldBe("poweredOn");

        // Returned: destroyed in vSphere, and the pool is full again.
        (await server.DeleteAsync($"api/v3/vm/{first}")).ShouldBeOkTrue();
        (await server.DeleteAsync($"api/v3/vm/{second}")).ShouldBeOkTrue();
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var listed = await observer.VmsInPoolAsync(pool, CancellationToken.None);
                return !listed.Contains(first) && !listed.Contains(second);
            },
            "the returned VMs are destroyed in vSphere",
            Converge);
        await WaitForFullPoolAsync(server, observer, pool);

        // Leaked: a VM the inventory does not know appears in the folder; the manager adopts and destroys it.
        var leaked = "leaked" + Guid.NewGuid().ToString("N")[..8];
        await observer.CreateVmAsync(pool, leaked, CancellationToken.None).DefaultTimeout();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => !(await observer.VmsInPoolAsync(pool, CancellationToken.None)).Contains(leaked),
            "the leaked VM is destroyed",
            Converge);
        (await server.StateOfAsync(leaked)).ShouldNotBe(VmState.Ready);
        await WaitForFullPoolAsync(server, observer, pool);
    }

    private async Task<string> CheckoutAsync(VmPoolerServer server)
    {
        var response = (await server.PostAsync($"api/v3/vm/{Pool}")).ShouldBeJson(HttpStatusCode.OK);
        var hostname = response.Object[Pool]!["hostname"]!.GetValue<string>();
        return hostname.Split('.')[0];
    }

    private static async Task WaitForFullPoolAsync(VmPoolerServer server, VSphereProvider observer, PoolOptions pool)
    {
        await AsyncTestHelpers.WaitUntilAsync(
            async () =>
            {
                var counts = await server.CountsAsync(Pool);
                if (counts.Ready != 2 || counts.Pending != 0)
                {
                    return false;
                }

                var ready = (await server.Inventory.GetPoolAsync(Pool, CancellationToken.None)).Ready.Select(v => v.Name).ToHashSet();
                var listed = await observer.VmsInPoolAsync(pool, CancellationToken.None);
                return listed.Count == 2 && listed.All(ready.Contains);
            },
            "two ready VMs, and only those in the pool's folder",
            Converge);
    }
}
