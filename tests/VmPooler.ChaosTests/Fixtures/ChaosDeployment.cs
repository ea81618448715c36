using System.Globalization;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.MultiProcess;
using VmPooler.Providers.Dummy;
using Xunit.Abstractions;

namespace VmPooler.ChaosTests.Fixtures;

/// <summary>
/// A <see cref="VmPoolerDeployment"/> (real API and manager processes on one real redis-server) whose dummy provider
/// keeps its VMs as files in a directory of the test (<c>state_dir</c>), so VMs outlive a killed manager and the test
/// sees exactly what the provider holds; and whose provider can be taken down (<c>outage_file</c>).
/// </summary>
internal sealed class ChaosDeployment : IAsyncDisposable
{
    private readonly string _directory;

    private ChaosDeployment(VmPoolerDeployment deployment, string directory, IReadOnlyList<string> pools)
    {
        Deployment = deployment;
        _directory = directory;
        Pools = pools;
    }

    public VmPoolerDeployment Deployment { get; }

    public IReadOnlyList<string> Pools { get; }

    public string StateDirectory => Path.Combine(_directory, "vms");

    public string OutageFile => Path.Combine(_directory, "provider-outage");

    public RedisServer Redis => Deployment.Redis;

    /// <summary>The YAML of a chaos deployment: the dummy provider with its faults, the <c>:config:</c> lines, and the pools.</summary>
    public sealed record Settings
    {
        public required IReadOnlyList<string> Pools { get; init; }

        public int PoolSize { get; init; } = 10;

        /// <summary>Extra <c>:providers: :dummy:</c> lines (delays and failure percentages).</summary>
        public string ProviderLines { get; init; } = "";

        public string ConfigLines { get; init; } = "";

        /// <summary>A pending VM older than this (minutes) is destroyed and replaced (a clone whose manager died).</summary>
        public double PendingTimeoutMinutes { get; init; } = 0.25;

        public string[] RedisArguments { get; init; } = [];
    }

    public static async Task<ChaosDeployment> StartAsync(ITestOutputHelper output, Settings settings)
    {
        var directory = Directory.CreateTempSubdirectory("vmpooler-chaos-").FullName;
        var state = Path.Combine(directory, "vms");
        var outage = Path.Combine(directory, "provider-outage");
        var pools = string.Concat(settings.Pools.Select(p =>
            $"  - name: '{p}'\n    size: {settings.PoolSize.ToString(CultureInfo.InvariantCulture)}\n    provider: dummy\n"
            + $"    timeout: {settings.PendingTimeoutMinutes.ToString(CultureInfo.InvariantCulture)}\n"));
        var yaml = ":providers:\n  :dummy:\n"
            + $"    state_dir: '{state}'\n    outage_file: '{outage}'\n    calm_file: '{Path.Combine(directory, "calm")}'\n"
            + Indent(settings.ProviderLines, 4)
            + ":config:\n" + Indent(settings.ConfigLines, 2)
            + ":pools:\n" + pools;
        try
        {
            var deployment = await VmPoolerDeployment.StartAsync(output, yaml, settings.RedisArguments);
            deployment.LogLinesOnDispose = 25;
            return new ChaosDeployment(deployment, directory, settings.Pools);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>The VMs the dummy provider holds right now (read from its state directory, as another manager would).</summary>
    public IReadOnlyCollection<DummyVm> ProviderVms()
        => new DummyProvider("dummy", new DummyProviderOptions { StateDirectory = StateDirectory }, TimeProvider.System).Vms;

    /// <summary>Whether the provider still holds a VM of that name.</summary>
    public bool ProviderHas(string vm) => File.Exists(Path.Combine(StateDirectory, vm + ".vm.json"));

    /// <summary>Every VM the inventory tracks, per pool and state (pending, ready, running, completed), read from Redis.</summary>
    public async Task<IReadOnlyList<(string Pool, string State, string Vm)>> InventoryVmsAsync()
    {
        var result = new List<(string, string, string)>();
        foreach (var pool in Pools)
        {
            foreach (var state in new[] { "pending", "ready", "running", "completed" })
            {
                var key = $"{Deployment.KeyPrefix}:{{{pool}}}:{state}";
                var type = (await Redis.CliAsync("type", key)).Trim();
                var members = type switch
                {
                    "zset" => await Redis.CliAsync("zrange", key, "0", "-1"),
                    "set" => await Redis.CliAsync("smembers", key),
                    "none" => "",
                    _ => throw new InvalidOperationException($"{key} is a {type}"),
                };
                result.AddRange(members.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(vm => (pool, state, vm)));
            }
        }

        return result;
    }

    /// <summary>
    /// Invariant 2: every VM the provider holds is tracked in exactly one state, and every tracked VM exists in the
    /// provider. Returns the violations (empty when it holds). Call it with no manager running (nothing moves).
    /// </summary>
    public async Task<IReadOnlyList<string>> LeakViolationsAsync()
    {
        var tracked = await InventoryVmsAsync();
        var provider = ProviderVms();
        var violations = new List<string>();
        foreach (var group in tracked.GroupBy(t => t.Vm, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            violations.Add($"{group.Key} is tracked in {group.Count()} states: {string.Join(", ", group.Select(g => $"{g.Pool}/{g.State}"))}");
        }

        var trackedNames = tracked.Select(t => t.Vm).ToHashSet(StringComparer.Ordinal);
        var providerNames = provider.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        violations.AddRange(provider.Where(v => !trackedNames.Contains(v.Name)).Select(v => $"{v.Name} ({v.Pool}) is held by the provider but tracked in no state (leaked)"));
        violations.AddRange(tracked.Where(t => !providerNames.Contains(t.Vm)).Select(t => $"{t.Vm} is tracked as {t.Pool}/{t.State} but does not exist in the provider (lost)"));
        return violations;
    }

    /// <summary>
    /// Drops the manager lease of a manager the test has just killed (and seen exit), which is what its 15 s expiry would
    /// do: the next manager takes over at once instead of standing by for the rest of the TTL. Lease expiry itself is
    /// tested in the integration tests (ManagerRestartTests).
    /// </summary>
    public Task DropDeadManagerLeaseAsync() => Redis.CliAsync("del", $"{Deployment.KeyPrefix}:{{manager}}:lease");

    /// <summary>Takes the provider down: every call fails (and is counted) until <see cref="EndProviderOutage"/>.</summary>
    public void StartProviderOutage() => File.WriteAllText(OutageFile, "down\n");

    public void EndProviderOutage() => File.Delete(OutageFile);

    /// <summary>Stops fault injection (<c>calm_file</c>), so the pools can settle for the final check.</summary>
    public void Calm() => File.WriteAllText(Path.Combine(_directory, "calm"), "calm\n");

    /// <summary>
    /// Returns (through the API) every VM the inventory has running: after the clients have given back all they hold,
    /// these are VMs whose checkout answer was lost (e.g. Redis went away after running the checkout). Returns how many.
    /// </summary>
    public async Task<int> ReturnUnheldRunningVmsAsync(HttpClient api)
    {
        var running = (await InventoryVmsAsync()).Where(v => v.State == "running").ToList();
        foreach (var (_, _, vm) in running)
        {
            var answer = await VmPoolerServer.SendAsync(api, HttpMethod.Delete, $"api/v3/vm/{vm}");
            answer.Status.ShouldBe(System.Net.HttpStatusCode.OK, $"returning the unheld running VM {vm}: {answer.Body}");
        }

        return running.Count;
    }

    /// <summary>How many provider calls failed because of the outage so far.</summary>
    public int ProviderOutageCalls() => File.Exists(OutageFile + ".calls") ? File.ReadAllLines(OutageFile + ".calls").Length : 0;

    public async ValueTask DisposeAsync()
    {
        await Deployment.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Indent(string lines, int spaces)
        => string.Concat(lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => new string(' ', spaces) + l.Trim() + "\n"));
}
