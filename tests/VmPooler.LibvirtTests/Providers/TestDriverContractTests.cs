using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;
using VmPooler.LibvirtTests.Fixtures;
using VmPooler.Providers.Libvirt;
using VmPooler.Tests.Shared.Providers;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>
/// The shared provider contract against libvirt's <c>test:///</c> driver: the real libvirt library and API semantics
/// (XML parsing, volumes, metadata, snapshots, device attach) with an in-process hypervisor. A file URI gives each
/// connection a fresh node, so a second provider instance cannot see the first one's VMs here; the qemu:///system
/// suite covers that, and hot-added disks, which the test driver does not implement (virDomainAttachDeviceFlags).
/// </summary>
public sealed class TestDriverContractTests : ProviderContractTests, IDisposable
{
    private readonly TestDriverHosts _hosts = new();
    private readonly string _uri;

    public TestDriverContractTests() => _uri = _hosts.Host("contract", 8192);

    protected override bool VmsOutliveTheInstance => false;

    protected override bool SupportsDisks => false;

    protected override Task<IVmProvider> CreateProviderAsync()
        => Task.FromResult<IVmProvider>(new LibvirtProvider("libvirt", TestDriverHosts.Options(_uri), TimeProvider.System));

    protected override PoolOptions Pool(int index = 0) => TestDriverHosts.Pool($"pool{index}");

    public void Dispose() => _hosts.Dispose();
}
