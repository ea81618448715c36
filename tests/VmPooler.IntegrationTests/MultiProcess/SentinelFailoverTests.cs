using System.Globalization;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// The failover experiment of docs/reliability.md: a primary, a replica and three sentinels on loopback; a manager and
/// two API processes configured with <c>redis.sentinels</c>; clients churn checkouts and returns through both APIs while
/// the primary is SIGKILLed again and again. Checkouts must resume by themselves after every failover, and with
/// <c>durability: replica</c> no acknowledged checkout may be lost and no VM handed out twice. The figures (seconds of
/// 503s, lost checkouts, double hand-outs, throughput before the first kill) are written to the test output.
/// </summary>
[Collection(MultiProcessCollection.Name)]
public sealed class SentinelFailoverTests(ITestOutputHelper output)
{
    private const int Failovers = 3;
    private const int Clients = 8;
    private const int PoolSize = 40;
    private static readonly string[] Pools = ["alpha", "bravo"];
    private static readonly TimeSpan Calm = TimeSpan.FromSeconds(8);

    [Theory]
    [InlineData("none")]
    [InlineData("replica")]
    public async Task PrimaryKilledRepeatedly_CheckoutsResumeByThemselves(string durability)
    {
        await using var set = await RedisSentinelSet.StartAsync();
        var directory = Directory.CreateTempSubdirectory("vmpooler-sentinel-").FullName;
        var config = Path.Combine(directory, "vmpooler.yaml");
        await File.WriteAllTextAsync(config, Yaml(set, durability));
        await using var manager = VmPoolerProcess.Start(["--config", config, "--role", "manager"]);
        await using var api0 = VmPoolerProcess.Start(["--config", config, "--role", "api"]);
        await using var api1 = VmPoolerProcess.Start(["--config", config, "--role", "api"]);
        try
        {
            await WaitUntilFullAsync(api0);
            using var churn = new FailoverChurn([api0, api1], Pools);
            churn.Start(Clients);
            // Warm-up (connections, JIT, the first script loads), then the calm rate before any failover.
            await Task.Delay(TimeSpan.FromSeconds(4), TimeProvider.System);
            var calmFrom = churn.Now;
            await Task.Delay(Calm, TimeProvider.System);
            var calmRate = churn.CheckoutsBetween(calmFrom, churn.Now) / (churn.Now - calmFrom).TotalSeconds;

            var outages = new List<double>();
            for (var i = 0; i < Failovers; i++)
            {
                var killedAt = TimeSpan.Zero;
                await set.FailOverAsync(() =>
                {
                    killedAt = churn.Now;
                    return Task.CompletedTask;
                });
                TimeSpan? resumed = null;
                await AsyncTestHelpers.WaitUntilAsync(() => (resumed = churn.FirstCheckoutAfter(killedAt)) is not null, $"checkouts resume after failover {i + 1}", TimeSpan.FromSeconds(60));
                outages.Add((resumed!.Value - killedAt).TotalSeconds);
                await Task.Delay(TimeSpan.FromSeconds(3), TimeProvider.System);
            }

            await churn.StopAsync();
            Report(durability, churn, calmRate, outages);
            churn.Unexpected.ShouldBeEmpty();
            if (durability == "replica")
            {
                churn.DoubleHandOuts.ShouldBeEmpty("durability: replica acknowledges a checkout only once a replica has it");
                churn.LostCheckouts.ShouldBeEmpty("durability: replica acknowledges a checkout only once a replica has it");
            }
        }
        finally
        {
            foreach (var (name, process) in new[] { ("manager", manager), ("api-0", api0), ("api-1", api1) })
            {
                output.WriteLine($"===== {name} =====\n{process.Describe(60)}");
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private void Report(string durability, FailoverChurn churn, double calmRate, List<double> outages)
    {
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"REPORT durability={durability} calm_checkouts_per_s={calmRate:0.0} failovers={outages.Count} "
            + $"seconds_to_resume=[{string.Join(", ", outages.Select(o => o.ToString("0.0", CultureInfo.InvariantCulture)))}] "
            + $"unavailable_503={churn.Unavailable} empty_503={churn.Empty} checkouts_ok={churn.CheckoutsBetween(TimeSpan.Zero, churn.Now)} returns={churn.Returns} "
            + $"lost_checkouts={churn.LostCheckouts.Count} double_hand_outs={churn.DoubleHandOuts.Count} unexpected={churn.Unexpected.Count}"));
        foreach (var line in churn.LostCheckouts.Concat(churn.DoubleHandOuts).Concat(churn.Unexpected).Take(20))
        {
            output.WriteLine("  " + line);
        }
    }

    private async Task WaitUntilFullAsync(VmPoolerProcess api)
        => await AsyncTestHelpers.WaitUntilAsync(
            async () => VmPoolerDeployment.IsFullAndIdle(await VmPoolerDeployment.TryReadStatusAsync(api.Client)),
            "every pool is full through the sentinels' primary",
            TimeSpan.FromSeconds(60));

    private static string Yaml(RedisSentinelSet set, string durability) => $"""
        ---
        :redis:
          sentinels: [{string.Join(", ", set.SentinelEndpoints.Select(e => $"'{e}'"))}]
          sentinel_service: '{RedisSentinelSet.Service}'
          key_prefix: 'sentinel-{Guid.NewGuid().ToString("N")[..8]}'
          durability: '{durability}'
          operation_timeout: 1
        :providers:
          :dummy:
            createvm_min_time: 0.02
            createvm_max_time: 0.1
            boot_min_time: 0.02
            boot_max_time: 0.1
        :config:
          task_limit: 20
          check_loop_delay_min: 0.1
          check_loop_delay_max: 1
        :pools:
        {string.Concat(Pools.Select(p => $"  - name: '{p}'\n    size: {PoolSize}\n    provider: dummy\n"))}
        """;
}
