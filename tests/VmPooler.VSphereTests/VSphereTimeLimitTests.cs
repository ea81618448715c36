using System.Diagnostics;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers;
using VmPooler.Providers.VSphere;
using VmPooler.Tests.Shared;
using VmPooler.VSphereTests.Fixtures;

namespace VmPooler.VSphereTests;

/// <summary>Time limits and cancellation of SOAP calls, on a simulator that takes 8 s to answer CloneVM_Task.</summary>
public sealed class VSphereTimeLimitTests(SlowVcsimFixture fixture) : IClassFixture<SlowVcsimFixture>
{
    [Fact]
    public async Task SlowCall_PastVsphereTimeout_FailsNamingTheLimit()
    {
        var options = VmPoolerServer.LoadOptions(VSphereConfigs.Yaml(
            fixture.Vcsim, "slow/" + Guid.NewGuid().ToString("N")[..8], [("pool0", 0)], providerLines: "vsphere_timeout: 2"));
        await using var provider = (VSphereProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["vsphere"], options);
        // Log in and resolve the folder first, so only the clone can run into the limit on a busy machine.
        await provider.VmsInPoolAsync(options.Pools[0], CancellationToken.None).DefaultTimeout();
        var watch = Stopwatch.StartNew();

        var error = await Should.ThrowAsync<VSphereException>(() => provider.CreateVmAsync(options.Pools[0], "slow1", CancellationToken.None).DefaultTimeout());

        error.Message.ShouldContain("CloneVM_Task");
        error.Message.ShouldContain("vsphere_timeout");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6));
    }

    [Fact]
    public async Task SlowCall_CancelledByTheCaller_StopsAtOnce()
    {
        var options = VmPoolerServer.LoadOptions(VSphereConfigs.Yaml(fixture.Vcsim, "slow/" + Guid.NewGuid().ToString("N")[..8], [("pool0", 0)]));
        await using var provider = (VSphereProvider)new ProviderFactory(TimeProvider.System).Create(options.Providers["vsphere"], options);
        await provider.VmsInPoolAsync(options.Pools[0], CancellationToken.None).DefaultTimeout();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300), TimeProvider.System);
        var watch = Stopwatch.StartNew();

        await Should.ThrowAsync<OperationCanceledException>(() => provider.CreateVmAsync(options.Pools[0], "slow2", cancel.Token).DefaultTimeout());

        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(6));
    }
}
