using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;

namespace VmPooler.QemuTests.Providers;

/// <summary>The shipped example configuration loads and validates (with its template pointed at the test guest).</summary>
[Collection(QemuCollection.Name)]
public class ExampleConfigTests(QemuEnvironment environment)
{
    [Fact]
    public async Task ExampleQemuYaml_LoadsWithAPoolOfRealVms()
    {
        var yaml = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "examples", "qemu.yaml"));
        yaml.ShouldContain("'/var/tmp/vmpooler-guest'");

        var options = VmPoolerServer.LoadOptions(yaml.Replace("'/var/tmp/vmpooler-guest'", $"'{environment.GuestDirectory}'", StringComparison.Ordinal));

        var pool = options.Pools.ShouldHaveSingleItem();
        pool.Provider.ShouldBe("qemu");
        pool.Size.ShouldBeGreaterThan(0);
        options.Providers[pool.Provider].ProviderClass.ShouldBe("qemu");
        var errors = new List<string>();
        QemuPoolOptions.Parse(pool.Template, pool.Settings, new QemuPoolOptions(), "pools[0]", errors).Template.ShouldNotBeNull();
        errors.ShouldBeEmpty();
    }
}
