using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.QemuTests.EndToEnd;

/// <summary>
/// The whole service on real VMs: the manager fills a pool of real QEMU VMs, a client checks one out over HTTP, logs in
/// with ssh (checking the host key the API reports), snapshots and reverts it, adds a disk the guest sees (the golden
/// RAM file its clones share stays unchanged), returns it; the VM's process and files go and the
/// pool refills. Then the crash: the service is killed while its VMs run, and a restarted service destroys the VMs it
/// does not know and refills.
/// </summary>
[Collection(QemuCollection.Name)]
public class QemuPoolTests(QemuEnvironment environment, ITestOutputHelper output)
{
    private const string Pool = "tiny";
    private static readonly TimeSpan FillTimeout = TimeSpan.FromSeconds(150);

    /// <summary>A vmpooler configuration with one qemu pool of <paramref name="size"/> VMs in <paramref name="runDir"/>.</summary>
    private string Config(string runDir, int size) => $"""
        :providers:
          :qemu:
            run_dir: '{runDir}'
            saved_state_dir: '{environment.SavedStateDirectory}'
            max_concurrent_boots: 2
        :config:
          task_limit: 3
          timeout: 4
          vm_checktime: 1
          check_loop_delay_min: 0.5
          check_loop_delay_max: 2
        :pools:
          - name: '{Pool}'
            provider: qemu
            template: '{environment.GuestDirectory}'
            size: {size}
            memory: 160
        """;

    [Fact]
    public async Task Pool_OfRealVms_FillsChecksOutSshSnapshotDiskReturnRefills()
    {
        var runDir = environment.NewRunDirectory("e2e");
        try
        {
            await using (var server = await VmPoolerServer.StartAsync(Config(runDir, 3), output: output))
            {
                await WaitForReadyAsync(() => server.GetAsync("api/v3/status?view=pools"), ready: 3);

                // Check one out and find its SSH endpoint.
                var checkout = (await server.PostAsync($"api/v3/vm/{Pool}")).ShouldBeJson(HttpStatusCode.OK);
                var hostname = checkout.Object[Pool]!["hostname"]!.GetValue<string>();
                var details = (await server.GetAsync($"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object[hostname]!;
                details["state"]!.GetValue<string>().ShouldBe("running");
                var ip = details["ip"]!.GetValue<string>();
                var port = details["ssh_port"]!.GetValue<int>();
                ip.ShouldStartWith("127.");

                // ssh runs a command; the clone answers to its own name even though it was restored from a golden state,
                // whose RAM it shares (a private mapping of the golden file), and with its own host key, which GET /vm
                // shows so the client can pin it and check strictly.
                (await Ssh.OutputAsync(environment.Key, ip, port, "hostname")).ShouldBe(hostname);
                var vmDir = Path.Combine(runDir, Pool, hostname);
                var pid = environment.QemuProcesses(vmDir).ShouldHaveSingleItem();
                var ram = QemuEnvironment.GoldenRamOf(pid).ShouldNotBeNull();
                ram.Mode.ShouldBe("p");
                var goldenChecksum = QemuEnvironment.Checksum(ram.Path);
                var hostKey = await Ssh.ScanHostKeyAsync(ip, port);
                details["host_key_fingerprint"]!.GetValue<string>().ShouldBe(hostKey.Fingerprint);
                var knownHosts = Path.Combine(runDir, "known_hosts");
                await File.WriteAllTextAsync(knownHosts, hostKey.KnownHostsLine + "\n");
                (await Ssh.RunStrictAsync(environment.Key, knownHosts, ip, port, "hostname")).Output.ShouldBe(hostname);
                (await Ssh.OutputAsync(environment.Key, ip, port, "echo $((6*7))")).ShouldBe("42");

                // Snapshot, change a file, revert: the file is back. All through the API: the manager's task worker
                // carries the queued tasks out on the real VM.
                await Ssh.OutputAsync(environment.Key, ip, port, "echo before > /root/marker && sync");
                var snapshot = (await server.PostAsync($"api/v3/vm/{hostname}/snapshot")).ShouldBeJson(HttpStatusCode.Accepted)
                    .Object[hostname]!["snapshot"]!.GetValue<string>();
                await AsyncTestHelpers.WaitUntilAsync(
                    async () => (await server.GetAsync($"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object[hostname]!["snapshots"] is JsonArray taken
                        && taken.Any(s => s!.GetValue<string>() == snapshot),
                    "GET /vm shows the snapshot once the manager took it",
                    TimeSpan.FromSeconds(60));
                await Ssh.OutputAsync(environment.Key, ip, port, "echo after > /root/marker && touch /root/extra && sync");
                (await server.PostAsync($"api/v3/vm/{hostname}/snapshot/{snapshot}")).ShouldBeJson(HttpStatusCode.Accepted);
                await AsyncTestHelpers.WaitUntilAsync(
                    async () => await Ssh.RunAsync(environment.Key, ip, port, "cat /root/marker; ls /root") is { ExitCode: 0, Output: "before\nmarker" },
                    "the revert brings back the file as it was at the snapshot",
                    TimeSpan.FromSeconds(60));

                // A disk asked for over the API while it runs shows up in the guest and in GET /vm.
                (await server.PostAsync($"api/v3/vm/{hostname}/disk/1")).ShouldBeJson(HttpStatusCode.Accepted);
                await AsyncTestHelpers.WaitUntilAsync(
                    async () => (await Ssh.RunAsync(environment.Key, ip, port, "ls /sys/block")).Output.Split('\n').Contains("vdb"),
                    "the hot-added disk appears as /sys/block/vdb",
                    TimeSpan.FromSeconds(60));
                (await Ssh.OutputAsync(environment.Key, ip, port, "cat /sys/block/vdb/size")).ShouldBe((1L << 30 >> 9).ToString(System.Globalization.CultureInfo.InvariantCulture));
                await AsyncTestHelpers.WaitUntilAsync(
                    async () => (await server.GetAsync($"api/v3/vm/{hostname}")).ShouldBeJson(HttpStatusCode.OK).Object[hostname]!["disk"] is JsonArray disks
                        && disks.Any(d => d!.GetValue<string>() == "+1gb"),
                    "GET /vm lists the added disk",
                    TimeSpan.FromSeconds(30));

                // Snapshot, revert and disk wrote the clone's memory and disks, never the golden RAM file.
                QemuEnvironment.Checksum(ram.Path).ShouldBe(goldenChecksum);

                // Return it: its QEMU process and its files go, and the pool refills to 3 ready.
                environment.QemuProcesses(vmDir).ShouldHaveSingleItem();
                (await server.DeleteAsync($"api/v3/vm/{hostname}")).ShouldBeOkTrue();
                await AsyncTestHelpers.WaitUntilAsync(
                    () => !Directory.Exists(vmDir) && environment.QemuProcesses(vmDir).Count == 0,
                    "the returned VM's process and files are gone",
                    TimeSpan.FromSeconds(60));
                await WaitForReadyAsync(() => server.GetAsync("api/v3/status?view=pools"), ready: 3, running: 0);
                environment.QemuProcesses(runDir).Count.ShouldBe(3);
            }
        }
        finally
        {
            await DestroyEverythingAsync(runDir);
        }
    }

    [Fact]
    public async Task ServiceKilled_VmsSurvive_RestartDestroysTheUnknownOnesAndRefills()
    {
        var runDir = environment.NewRunDirectory("crash");
        var config = new Dictionary<string, string> { ["VMPOOLER_CONFIG"] = Config(runDir, 2) };
        try
        {
            HashSet<string> before;
            await using (var first = VmPoolerProcess.Start(environment: config))
            {
                try
                {
                    await WaitForReadyAsync(() => first.SendAsync(HttpMethod.Get, "api/v3/status?view=pools"), ready: 2, process: first);
                    before = VmNames(runDir);
                    before.Count.ShouldBe(2);

                    // Killed like an out-of-memory kill: no shutdown code runs. The daemonized VMs keep running.
                    await first.KillAsync();
                    environment.QemuProcesses(runDir).Count.ShouldBe(2, "the VMs outlive the service");
                }
                finally
                {
                    output.WriteLine(first.Describe(40));
                }
            }

            // A new service (its in-memory inventory empty) finds the VMs it does not know, destroys them and refills.
            await using var second = VmPoolerProcess.Start(environment: config);
            try
            {
                await AsyncTestHelpers.WaitUntilAsync(
                    () => before.All(vm => !Directory.Exists(Path.Combine(runDir, Pool, vm)) && environment.QemuProcesses(Path.Combine(runDir, Pool, vm)).Count == 0),
                    "the restarted service destroyed the VMs it did not know",
                    FillTimeout);
                await WaitForReadyAsync(() => second.SendAsync(HttpMethod.Get, "api/v3/status?view=pools"), ready: 2, process: second);
                var after = VmNames(runDir);
                after.Count.ShouldBe(2);
                after.Overlaps(before).ShouldBeFalse();
                environment.QemuProcesses(runDir).Count.ShouldBe(2);
            }
            finally
            {
                await second.KillAsync();
                output.WriteLine(second.Describe(40));
            }
        }
        finally
        {
            await DestroyEverythingAsync(runDir);
        }
    }

    private async Task WaitForReadyAsync(Func<Task<ApiResponse>> status, int ready, int? running = null, VmPoolerProcess? process = null)
    {
        JsonNode? last = null;
        try
        {
            await AsyncTestHelpers.WaitUntilAsync(
                async () =>
                {
                    if (process is { HasExited: true })
                    {
                        throw new InvalidOperationException("vmpooler exited: " + process.Describe(40));
                    }

                    try
                    {
                        var response = await status();
                        if (response.Status != HttpStatusCode.OK)
                        {
                            return false;
                        }

                        last = response.Object["pools"]![Pool];
                        return last!["ready"]!.GetValue<int>() == ready && (running is null || last["running"]!.GetValue<int>() == running);
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                $"{Pool} has {ready} ready VMs",
                FillTimeout);
        }
        catch (TimeoutException)
        {
            output.WriteLine($"last status of {Pool}: {last?.ToJsonString()}");
            throw;
        }
    }

    private static HashSet<string> VmNames(string runDir)
        => Directory.Exists(Path.Combine(runDir, Pool))
            ? [.. Directory.EnumerateDirectories(Path.Combine(runDir, Pool)).Select(Path.GetFileName).OfType<string>()]
            : [];

    /// <summary>Whatever a test leaves running is destroyed through a provider on its run directory, then checked.</summary>
    private async Task DestroyEverythingAsync(string runDir)
    {
        var provider = new QemuProvider("qemu", environment.ProviderOptions(runDir), TimeProvider.System);
        var pool = new PoolOptions { Name = Pool, Template = environment.GuestDirectory };
        foreach (var vm in await provider.VmsInPoolAsync(pool, CancellationToken.None))
        {
            await provider.DestroyVmAsync(pool, vm, CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(60));
        }

        environment.KillAll(runDir).ShouldBe(0, "every VM was destroyed through the provider");
    }
}
