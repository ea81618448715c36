using System.Net;
using VmPooler.Core.Inventory;
using VmPooler.Import;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Redis;
using VmPooler.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Import;

/// <summary>
/// An imported VM under our whole service (API and pool manager, real clock): the hypervisor (the dummy provider's state
/// directory) holds the VMs the Ruby vmpooler made; a returned imported VM is destroyed through the provider.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RubyImportManagerTests(RedisFixtures redis, ITestOutputHelper output)
{
    [Fact]
    public async Task ReturnedImportedVm_IsDestroyedThroughTheProvider()
    {
        var stateDirectory = Directory.CreateTempSubdirectory("vmpooler-import-dummy-").FullName;
        var prefix = RedisFixtures.NewPrefix();
        var yaml = $"""
            ---
            :redis:
              server: '{redis.Server.Endpoint}'
              key_prefix: '{prefix}'
            :auth:
              provider: 'dummy'
            :providers:
              :dummy:
                state_dir: '{stateDirectory}'
                createvm_max_time: 0
            :config:
              vm_lifetime: 24
            :pools:
              - name: 'debian'
                size: 1
                provider: 'dummy'
            """;
        var options = VmPoolerServer.LoadOptions(yaml, AuthTestSupport.DebugEnvironment);
        var pool = options.FindPool("debian")!;
        var hypervisor = (DummyProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["dummy"], options);
        await hypervisor.CreateVmAsync(pool, "vm-live", CancellationToken.None).DefaultTimeout();

        await using var ruby = await RubyVmpoolerRedis.StartAsync();
        var now = TimeProvider.System.GetUtcNow();
        await ruby.TokenAsync(RubyScenario.AliceToken, "alice", now.AddDays(-1));
        await ruby.VmAsync(
            "running", "debian", "vm-live",
            ("clone", RubyVmpoolerRedis.Time(now.AddMinutes(-10))), ("template", "debian"), ("pool", "debian"),
            ("checkout", RubyVmpoolerRedis.Time(now.AddMinutes(-5))), ("token:token", RubyScenario.AliceToken), ("token:user", "alice"), ("lifetime", "2"));
        using var stdout = new StringWriter();
        (await RubyImportCommand.RunAsync(options, ruby.Url, false, false, stdout, stdout, CancellationToken.None).DefaultTimeout()).ShouldBe(0, stdout.ToString());

        await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output, environment: AuthTestSupport.DebugEnvironment);
        (await server.GetAsync("api/v3/vm/vm-live")).Object["vm-live"]!["state"]!.GetValue<string>().ShouldBe("running");
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/vm-live", token: RubyScenario.AliceToken)).ShouldBeJson(HttpStatusCode.OK);

        await AsyncTestHelpers.WaitUntilAsync(
            async () => await hypervisor.GetVmAsync(pool, "vm-live", CancellationToken.None) is null,
            "the manager destroys the returned imported VM in the provider");

        // The inventory forgets it right after the provider's destroy returns.
        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.Inventory.GetVmAsync("vm-live", CancellationToken.None))?.State is null,
            "the manager forgets the destroyed VM");
        Directory.Delete(stateDirectory, recursive: true);
    }
}
