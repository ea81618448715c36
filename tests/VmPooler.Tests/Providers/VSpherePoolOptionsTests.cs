using VmPooler.Core.Configuration;
using VmPooler.Providers.VSphere;

namespace VmPooler.Tests.Providers;

/// <summary>vSphere pool keys read through Core's reader (the simulator tests cover the rest).</summary>
public class VSpherePoolOptionsTests
{
    private static (VSpherePoolOptions Options, List<string> Errors) Parse(params (string Key, object? Value)[] settings)
    {
        var errors = new List<string>();
        var pool = new PoolOptions { Name = "p", Template = "/templates/t/", Provider = "vsphere", Settings = settings.ToDictionary(s => s.Key, s => s.Value) };
        return (VSpherePoolOptions.Parse(pool, "pools[0]", errors), errors);
    }

    [Fact]
    public void Parse_SnapshotKeys_OriginalSpelling_Read()
    {
        var (options, errors) = Parse(("folder", "f"), ("snapshot_mainMem_ioBlockPages", "2048"), ("snapshot_mainMem_iowait", "0"));

        errors.ShouldBeEmpty();
        options.SnapshotMainMemIoBlockPages.ShouldBe("2048");
        options.SnapshotMainMemIoWait.ShouldBe("0");
        options.Template.ShouldBe("templates/t");
    }

    [Fact]
    public void Parse_SnapshotKeys_LowerCaseSpelling_Read()
    {
        var (options, errors) = Parse(("folder", "f"), ("snapshot_mainmem_ioblockpages", "2048"), ("snapshot_mainmem_iowait", "5"));

        errors.ShouldBeEmpty();
        options.SnapshotMainMemIoBlockPages.ShouldBe("2048");
        options.SnapshotMainMemIoWait.ShouldBe("5");
    }

    [Fact]
    public void Parse_BadValues_EachNamedByKey()
    {
        var (_, errors) = Parse(("create_linked_clone", "maybe"), ("snapshot_mainMem_iowait", "x"), ("ready_check", "ping"));

        errors.ShouldBe(
            [
                "pools[0].folder: is required (the pool's VM folder under the datacenter, e.g. vmpooler/p)",
                "pools[0].create_linked_clone: must be true or false (got \"maybe\")",
                "pools[0].ready_check: must be tcp, tools or powered_on (got \"ping\")",
                "pools[0].snapshot_mainMem_iowait: must be an integer (got \"x\")",
            ],
            ignoreOrder: true);
    }
}
