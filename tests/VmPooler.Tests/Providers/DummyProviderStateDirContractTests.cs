using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Providers;

namespace VmPooler.Tests.Providers;

/// <summary>
/// The shared provider contract against the dummy provider with <c>state_dir</c>: its VMs are files, so a second
/// instance (a restarted manager, another process) sees the VMs of the first.
/// </summary>
public sealed class DummyProviderStateDirContractTests : ProviderContractTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("vmpooler-dummy-state-").FullName;

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult<IVmProvider>(new DummyProvider("dummy", new DummyProviderOptions { StateDirectory = _directory }, _time, new Random(1)));

    protected override PoolOptions Pool(int index = 0) => new() { Name = $"pool{index}", Template = $"tpl{index}" };

    protected override bool VmsOutliveTheInstance => true;

    protected override void AdvanceClock(TimeSpan by) => _time.Advance(by);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
