using VmPooler.LibvirtTests.Fixtures;
using VmPooler.Providers.Libvirt;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>
/// Where clones go when a provider section lists several hosts, on two test:/// nodes of different memory: the host
/// with the most free memory, never one at or over utilization_limit, never one that is down (which is reported).
/// </summary>
public sealed class HostSelectionTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly TestDriverHosts _hosts = new();

    [Fact]
    public async Task Clones_GoToTheHostWithTheMostFreeMemory_UntilBothAreEven()
    {
        var small = _hosts.Host("small", 2048);
        var big = _hosts.Host("big", 4096);
        using var provider = new LibvirtProvider("libvirt", TestDriverHosts.Options(small, big), TimeProvider.System);
        var pool = TestDriverHosts.Pool("sel", memoryMiB: 512);

        var placed = new List<string?>();
        for (var i = 0; i < 6; i++)
        {
            var vm = $"sel{i}";
            await provider.CreateVmAsync(pool, vm, None);
            placed.Add(provider.HostOf(vm));
        }

        // big: 4096 free → four clones bring it to 2048, level with small; then they alternate (ties go to the first listed).
        placed.ShouldBe([big, big, big, big, small, big]);
        (await provider.VmsInPoolAsync(pool, None)).Count.ShouldBe(6);
    }

    [Fact]
    public async Task HostAtUtilizationLimit_TakesNoClone_AndTheErrorSaysWhy()
    {
        var only = _hosts.Host("only", 1024);
        using var provider = new LibvirtProvider("libvirt", TestDriverHosts.Options(only) with { UtilizationLimit = 60 }, TimeProvider.System);
        var pool = TestDriverHosts.Pool("full", memoryMiB: 512);

        await provider.CreateVmAsync(pool, "full0", None);
        await provider.CreateVmAsync(pool, "full1", None); // 50 % in use before it: below the limit

        var refused = await Should.ThrowAsync<LibvirtConnectionException>(() => provider.CreateVmAsync(pool, "full2", None));
        refused.Message.ShouldContain("utilization_limit 60");
        (await provider.VmsInPoolAsync(pool, None)).ShouldBe(["full0", "full1"], ignoreOrder: true);
    }

    [Fact]
    public async Task HostThatIsDown_IsSkippedAndReported_ClonesGoElsewhere()
    {
        var down = "test:///nonexistent/vmpooler/node.xml";
        var up = _hosts.Host("up", 2048);
        using var provider = new LibvirtProvider("libvirt", TestDriverHosts.Options(down, up), TimeProvider.System);
        var pool = TestDriverHosts.Pool("skip");

        await provider.CreateVmAsync(pool, "skip0", None);

        provider.HostOf("skip0").ShouldBe(up);
        var status = provider.HostStatus.ToDictionary(h => h.Uri, h => h.DownReason);
        status[down].ShouldNotBeNull().ShouldContain("nonexistent");
        status[up].ShouldBeNull();

        // Its VMs are unknown, not gone: listing the pool fails (naming the host) rather than answering without them.
        var listing = await Should.ThrowAsync<LibvirtConnectionException>(() => provider.VmsInPoolAsync(pool, None));
        listing.Message.ShouldContain(down);
    }

    [Fact]
    public async Task NoHostReachable_CloneFails_NamingEveryHost()
    {
        using var provider = new LibvirtProvider("libvirt", TestDriverHosts.Options("test:///nonexistent/a.xml", "test:///nonexistent/b.xml"), TimeProvider.System);

        var refused = await Should.ThrowAsync<LibvirtConnectionException>(() => provider.CreateVmAsync(TestDriverHosts.Pool("none"), "none0", None));

        refused.Message.ShouldContain("test:///nonexistent/a.xml");
        refused.Message.ShouldContain("test:///nonexistent/b.xml");
    }

    public void Dispose() => _hosts.Dispose();
}
