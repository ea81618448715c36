using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers;
using VmPooler.Tests.Shared.Providers;
using VmPooler.VSphereTests.Fixtures;

namespace VmPooler.VSphereTests;

/// <summary>The shared provider contract (the one the dummy provider passes) against the vSphere provider on the simulator.</summary>
public class VSphereProviderContractTests(VcsimFixture fixture) : ProviderContractTests, IClassFixture<VcsimFixture>
{
    private readonly VmPoolerOptions _options = VmPoolerServer.LoadOptions(
        VSphereConfigs.Yaml(fixture.Vcsim, "contract/" + Guid.NewGuid().ToString("N")[..8], [("pool0", 0), ("pool1", 0)]));

    protected override TimeSpan CallTimeout => TimeSpan.FromSeconds(30);

    protected override TimeSpan ReadyTimeout => TimeSpan.FromSeconds(20);

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult(new ProviderFactory(TimeProvider.System).Create(_options.Providers["vsphere"], _options));

    protected override PoolOptions Pool(int index = 0) => _options.Pools[index];
}
