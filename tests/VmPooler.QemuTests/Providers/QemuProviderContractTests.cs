using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared.Providers;
using Xunit.Abstractions;

namespace VmPooler.QemuTests.Providers;

/// <summary>
/// The shared provider contract against real QEMU VMs. Each test gets its own run directory (its pools start empty);
/// provider instances of one test share it, so a second instance sees the first one's VMs. Saved states are shared by
/// the whole run, so after the first clone every clone restores in well under a second.
/// </summary>
[Collection(QemuCollection.Name)]
public class QemuProviderContractTests(QemuEnvironment environment, ITestOutputHelper output) : ProviderContractTests
{
    private readonly string _runDir = environment.NewRunDirectory("ct");

    protected override TimeSpan CallTimeout => TimeSpan.FromSeconds(150);

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult<IVmProvider>(new QemuProvider("qemu", environment.ProviderOptions(_runDir), TimeProvider.System, environment.Logger(output)));

    protected override PoolOptions Pool(int index = 0) => environment.Pool($"pool{index}");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        environment.QemuProcesses(_runDir).ShouldBeEmpty("the contract tests destroy every VM they create");
    }
}
