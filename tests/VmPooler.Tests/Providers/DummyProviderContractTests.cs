using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Providers;

namespace VmPooler.Tests.Providers;

/// <summary>The shared provider contract against the dummy provider. Its VMs live in memory, shared by instances through one state object.</summary>
public class DummyProviderContractTests : ProviderContractTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly DummyProviderOptions _options = new();

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult<IVmProvider>(new DummyProvider("dummy", _options, _time, new Random(1)));

    protected override PoolOptions Pool(int index = 0) => new() { Name = $"pool{index}", Template = $"tpl{index}" };

    protected override bool VmsOutliveTheInstance => false;

    protected override void AdvanceClock(TimeSpan by) => _time.Advance(by);
}
