using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.LibvirtTests.Fixtures;
using VmPooler.Providers.Libvirt;
using VmPooler.Tests.Shared.Providers;
using Xunit.Abstractions;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>
/// The shared provider contract against a real libvirtd (<c>qemu:///system</c>): real VMs of the tiny guest under TCG,
/// reached over a forwarded SSH port. Each test has its own pools; at the end no domain or clone volume of them is left.
/// </summary>
[Collection(LibvirtCollection.Name)]
public class QemuSystemContractTests(LibvirtEnvironment environment, ITestOutputHelper output) : ProviderContractTests
{
    private readonly string _prefix = "lct" + Guid.NewGuid().ToString("N")[..6];

    protected override TimeSpan CallTimeout => TimeSpan.FromSeconds(150);

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult<IVmProvider>(new LibvirtProvider("libvirt", environment.Options(), TimeProvider.System, LibvirtEnvironment.Logger(output)));

    protected override PoolOptions Pool(int index = 0) => environment.Pool($"{_prefix}-{index}");

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        (await environment.DomainsAsync(Pool(0).Name)).ShouldBeEmpty("the contract tests destroy every VM they create");
        (await environment.DomainsAsync(Pool(1).Name)).ShouldBeEmpty();
        environment.CloneVolumes("ct").ShouldBeEmpty("destroying a VM deletes its volumes");
    }
}
