using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// Issue 13, affinity: two managers on one Redis, each limited to one hypervisor host's pools by <c>--pools-label</c>.
/// A snapshot asked of a VM is taken by the manager that owns the VM's pool, where the pool's provider is. The dummy
/// provider keeps its VMs in its manager's memory, so a snapshot taken by the other manager would be refused: before
/// the per-pool task queues, one of the two snapshots below never appeared.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class ManagerAffinityTasksTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private const string Yaml = """
        :providers:
          :dummy:
            createvm_min_time: 0
            createvm_max_time: 0
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 1
        :pools:
          - name: 'alpha'
            size: 2
            provider: dummy
            labels:
              host: hv1
          - name: 'bravo'
            size: 2
            provider: dummy
            labels:
              host: hv2
        """;

    [Fact]
    public async Task SnapshotOfAVm_IsTakenByItsPoolsOwner_OnEitherHost()
    {
        await using var deployment = await VmPoolerDeployment.StartAsync(output, Yaml);
        var api = await deployment.StartApiAsync("api");
        var hv1 = deployment.StartManager("manager-hv1", "--manager-id", "hv1", "--pools-label", "host=hv1");
        var hv2 = deployment.StartManager("manager-hv2", "--manager-id", "hv2", "--pools-label", "host=hv2");
        await VmPoolerDeployment.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(await VmPoolerDeployment.TryReadStatusAsync(api.Client)),
            () => "both pools are full",
            Deadline);

        var snapshots = new Dictionary<string, string>(StringComparer.Ordinal);
        var owners = new Dictionary<string, VmPoolerProcess>(StringComparer.Ordinal);
        foreach (var (pool, owner) in new[] { ("alpha", hv1), ("bravo", hv2) })
        {
            var checkout = await api.SendAsync(HttpMethod.Post, "api/v3/vm/" + pool);
            checkout.ShouldBeJson(HttpStatusCode.OK);
            var vm = checkout.Object[pool]!["hostname"]!.GetValue<string>().Split('.')[0];
            var queued = await api.SendAsync(HttpMethod.Post, $"api/v3/vm/{vm}/snapshot");
            queued.ShouldBeJson(HttpStatusCode.Accepted);
            snapshots[vm] = queued.Object[vm]!["snapshot"]!.GetValue<string>();
            owners[vm] = owner;
        }

        foreach (var (vm, snapshot) in snapshots)
        {
            await VmPoolerDeployment.WaitUntilAsync(
                async () => (await api.SendAsync(HttpMethod.Get, "api/v3/vm/" + vm)).Object[vm]?["snapshots"]?.ToJsonString() == $"[\"{snapshot}\"]",
                () => $"{vm}'s snapshot {snapshot} is taken (hv1 log: {hv1.StandardOutput[^Math.Min(2000, hv1.StandardOutput.Length)..]}; hv2 log: {hv2.StandardOutput[^Math.Min(2000, hv2.StandardOutput.Length)..]})",
                Deadline);
        }

        foreach (var (vm, owner) in owners)
        {
            owner.StandardOutput.ShouldContain($"'{vm}' snapshot {snapshots[vm]} done", customMessage: "the pool's owner took the snapshot");
        }

        hv1.StandardOutput.ShouldNotContain("[bravo]", customMessage: "hv1 never works on hv2's pool");
        hv2.StandardOutput.ShouldNotContain("[alpha]", customMessage: "hv2 never works on hv1's pool");
        deployment.ShouldAllBeRunning();
    }
}
