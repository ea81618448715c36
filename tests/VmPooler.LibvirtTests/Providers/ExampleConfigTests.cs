using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>The shipped example configuration loads and passes the provider's start-up validation.</summary>
public sealed class ExampleConfigTests
{
    [Fact]
    public async Task ExampleLibvirtYaml_LoadsAndValidates()
    {
        var yaml = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "examples", "libvirt.yaml"));
        var options = VmPoolerServer.LoadOptions(yaml);

        var pool = options.Pools.ShouldHaveSingleItem();
        pool.Provider.ShouldBe("libvirt");
        pool.Template.ShouldBe("vmpooler-tiny");
        var provider = options.Providers[pool.Provider];
        provider.ProviderClass.ShouldBe("libvirt");
        new ProviderFactory(TimeProvider.System).Validate(provider, [(0, pool)]).ShouldBeEmpty();
    }
}
