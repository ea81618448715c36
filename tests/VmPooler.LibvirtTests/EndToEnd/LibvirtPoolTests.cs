using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.LibvirtTests.Fixtures;
using VmPooler.Providers.Libvirt;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.LibvirtTests.EndToEnd;

/// <summary>
/// The whole service on real VMs through libvirtd: the manager fills a pool, a client checks a VM out over HTTP and logs
/// in with ssh, snapshots and reverts it, adds a disk the guest sees, returns it (domain and volumes go, the pool
/// refills); a domain of the pool nobody tracks is found and destroyed; libvirtd killed with SIGKILL and restarted is
/// survived: the API keeps answering, the VMs keep running and the pool serves again.
/// </summary>
[Collection(LibvirtCollection.Name)]
public class LibvirtPoolTests(LibvirtEnvironment environment, ITestOutputHelper output)
{
    private static readonly TimeSpan FillTimeout = TimeSpan.FromSeconds(240);
    private readonly string _pool = "lvte2e" + Guid.NewGuid().ToString("N")[..4];

    private string Config(int size) => $"""
        :providers:
          :libvirt:
            uri: '{LibvirtEnvironment.Uri}'
            call_timeout: 60
            forward_ports: '23200-23299'
        :config:
          task_limit: 2
          timeout: 6
          vm_checktime: 1
          check_loop_delay_min: 0.5
          check_loop_delay_max: 2
        :pools:
          - name: '{_pool}'
            provider: libvirt
            template: '{LibvirtEnvironment.Template}'
            storage_pool: '{LibvirtEnvironment.StoragePool}'
            size: {size}
            memory: 160
        """;

    [Fact]
    public async Task Pool_FillsChecksOutSshSnapshotDiskReturn_FindsLeaks_SurvivesLibvirtdKill()
    {
        try
        {
            await using var server = await VmPoolerServer.StartAsync(Config(2), output: output);
            await WaitForReadyAsync(server, 2);

            var (hostname, ip, port) = await CheckOutAsync(server);
            (await Ssh.OutputAsync(environment.Key, ip, port, "echo $((6*7))")).ShouldBe("42");
            await SnapshotAndRevertAsync(server, hostname, ip, port);
            await AddDiskAsync(server, hostname, ip, port);

            // Return it: its domain and volumes go, and the pool refills.
            (await server.DeleteAsync($"api/v3/vm/{hostname}")).ShouldBeOkTrue();
            await AsyncTestHelpers.WaitUntilAsync(
                async () => !(await environment.DomainsAsync(_pool)).Contains(hostname) && environment.CloneVolumes(hostname).Count == 0,
                "the returned VM's domain and volumes are gone",
                TimeSpan.FromSeconds(90));
            await WaitForReadyAsync(server, 2, running: 0);

            await LeakedDomainIsDestroyedAsync();
            await LibvirtdKillIsSurvivedAsync(server);
        }
        finally
        {
            await DestroyEverythingAsync();
        }
    }

    private async Task<(string Hostname, string Ip, int Port)> CheckOutAsync(VmPoolerServer server)
    {
        var checkout = (await server.PostAsync($"api/v3/vm/{_pool}")).ShouldBeJson(HttpStatusCode.OK);
        var hostname = checkout.Object[_pool]!["hostname"]!.GetValue<string>();
        var details = (await server.GetAsync($"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object[hostname]!;
        details["state"]!.GetValue<string>().ShouldBe("running");
        return (hostname, details["ip"]!.GetValue<string>(), details["ssh_port"]!.GetValue<int>());
    }

    private async Task SnapshotAndRevertAsync(VmPoolerServer server, string hostname, string ip, int port)
    {
        await Ssh.OutputAsync(environment.Key, ip, port, "echo before > /root/marker && sync");
        var snapshot = (await server.PostAsync($"api/v3/vm/{hostname}/snapshot")).ShouldBeJson(HttpStatusCode.Accepted)
            .Object[hostname]!["snapshot"]!.GetValue<string>();
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync($"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object[hostname]!["snapshots"] is JsonArray taken
                && taken.Any(s => s!.GetValue<string>() == snapshot),
            "GET /vm lists the snapshot once the manager took it",
            TimeSpan.FromSeconds(120));
        await Ssh.OutputAsync(environment.Key, ip, port, "echo after > /root/marker && sync");
        (await server.PostAsync($"api/v3/vm/{hostname}/snapshot/{snapshot}")).ShouldBeJson(HttpStatusCode.Accepted);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => await Ssh.RunAsync(environment.Key, ip, port, "cat /root/marker") is { ExitCode: 0, Output: "before" },
            "the revert brings the file back as it was at the snapshot",
            TimeSpan.FromSeconds(120));
    }

    private async Task AddDiskAsync(VmPoolerServer server, string hostname, string ip, int port)
    {
        (await server.PostAsync($"api/v3/vm/{hostname}/disk/1")).ShouldBeJson(HttpStatusCode.Accepted);
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await Ssh.RunAsync(environment.Key, ip, port, "ls /sys/block")).Output.Split('\n').Contains("vdb"),
            "the hot-added disk appears in the guest as /sys/block/vdb",
            TimeSpan.FromSeconds(120));
        (await Ssh.OutputAsync(environment.Key, ip, port, "cat /sys/block/vdb/size")).ShouldBe((1L << 30 >> 9).ToString(CultureInfo.InvariantCulture));
        environment.CloneVolumes(hostname + "-disk").ShouldHaveSingleItem();
    }

    /// <summary>A domain of the pool made behind the manager's back (as a crashed manager would leave one) is destroyed.</summary>
    private async Task LeakedDomainIsDestroyedAsync()
    {
        var leaked = "leak" + Guid.NewGuid().ToString("N")[..8];
        await environment.DefineLeakedDomainAsync(leaked, _pool);
        environment.CloneVolumes(leaked).ShouldHaveSingleItem();

        await AsyncTestHelpers.WaitUntilAsync(
            async () => !(await environment.DomainsAsync(_pool)).Contains(leaked) && environment.CloneVolumes(leaked).Count == 0,
            "the manager finds the leaked domain by its metadata and destroys it with its volume",
            TimeSpan.FromSeconds(120));
    }

    private async Task LibvirtdKillIsSurvivedAsync(VmPoolerServer server)
    {
        var before = (await environment.DomainsAsync(_pool)).ToHashSet(StringComparer.Ordinal);
        await environment.Daemon.KillAndRestartAsync();

        // The API never depended on libvirtd: it answers at once, and the VMs ran on without their daemon.
        (await server.GetAsync("api/v3/status?view=pools")).Status.ShouldBe(HttpStatusCode.OK);
        (await environment.DomainsAsync(_pool)).ShouldBe(before, ignoreOrder: true);
        environment.QemuProcesses().Count.ShouldBeGreaterThanOrEqualTo(2);

        // A VM checked out across the restart answers ssh, and the provider reconnects: the replacement clone is made
        // through the new libvirtd and the pool is full again.
        var (_, ip, port) = await CheckOutAsync(server);
        (await Ssh.OutputAsync(environment.Key, ip, port, "echo alive")).ShouldBe("alive");
        await WaitForReadyAsync(server, 2, running: 1);
        (await environment.DomainsAsync(_pool)).Count.ShouldBe(3);
    }

    private async Task WaitForReadyAsync(VmPoolerServer server, int ready, int? running = null)
    {
        JsonNode? last = null;
        try
        {
            await AsyncTestHelpers.WaitUntilAsync(
                async () =>
                {
                    var response = await server.GetAsync("api/v3/status?view=pools");
                    response.Status.ShouldBe(HttpStatusCode.OK, "the API answers while VMs are made");
                    last = response.Object["pools"]![_pool];
                    return last!["ready"]!.GetValue<int>() == ready && (running is null || last["running"]!.GetValue<int>() == running);
                },
                $"{_pool} has {ready} ready VMs",
                FillTimeout);
        }
        catch (TimeoutException)
        {
            output.WriteLine($"last status of {_pool}: {last?.ToJsonString()}");
            throw;
        }
    }

    private async Task DestroyEverythingAsync()
    {
        using var provider = new LibvirtProvider("libvirt", environment.Options(), TimeProvider.System);
        var pool = environment.Pool(_pool);
        foreach (var vm in await provider.VmsInPoolAsync(pool, CancellationToken.None))
        {
            await provider.DestroyVmAsync(pool, vm, CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(120));
        }

        (await environment.DomainsAsync(_pool)).ShouldBeEmpty();
    }
}
