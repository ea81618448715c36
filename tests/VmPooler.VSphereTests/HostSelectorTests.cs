using Microsoft.Extensions.Time.Testing;
using VmPooler.Providers.VSphere;
using VmPooler.Tests.Shared;

namespace VmPooler.VSphereTests;

/// <summary>Host selection rules without a vCenter: which hosts qualify, in which order, and when the ranking is re-read.</summary>
public sealed class HostSelectorTests
{
    private static HostUsage Host(string name, double cpu = 10, double memory = 10, bool maintenance = false, string status = "green", string connection = "connected")
        => new()
        {
            Host = new MoRef("HostSystem", name),
            Name = name,
            CpuPercent = cpu,
            MemoryPercent = memory,
            InMaintenanceMode = maintenance,
            OverallStatus = status,
            ConnectionState = connection,
        };

    [Fact]
    public void Rank_SkipsUnhealthyAndOverloadedHosts_KeepsTheLessUsedHalf_LeastUsedFirst()
    {
        var ranked = HostSelector.Rank(
            [
                Host("maint", maintenance: true),
                Host("red", status: "red"),
                Host("gone", connection: "notResponding"),
                Host("hot-cpu", cpu: 95),
                Host("hot-mem", memory: 91),
                Host("busy", cpu: 60),
                Host("light", cpu: 5),
                Host("medium", cpu: 20, memory: 30),
            ],
            utilizationLimit: 90);

        ranked.Select(h => h.Name).ShouldBe(["light", "medium"]);
    }

    [Fact]
    public void Next_GoesRoundTheRankedHosts_AndThrowsWhenNoneQualifies()
    {
        var time = new FakeTimeProvider();
        var selector = new HostSelector(90, TimeSpan.FromSeconds(60), time);
        selector.Update("c1", [Host("a", cpu: 10), Host("b", cpu: 10), Host("c", cpu: 80)]);
        selector.Update("c2", [Host("x", maintenance: true)]);

        Enumerable.Range(0, 4).Select(_ => selector.Next("c1").Name).ShouldBe(["a", "b", "a", "b"]);
        Should.Throw<VSphereException>(() => selector.Next("c2")).Message.ShouldContain("maintenance");
    }

    [Fact]
    public void NeedsRanking_AfterMaxAge()
    {
        var time = new FakeTimeProvider();
        var selector = new HostSelector(90, TimeSpan.FromSeconds(60), time);
        selector.NeedsRanking("c1").ShouldBeTrue();
        selector.Update("c1", [Host("a")]);
        selector.NeedsRanking("c1").ShouldBeFalse();

        time.Advance(TimeSpan.FromSeconds(61));

        selector.NeedsRanking("c1").ShouldBeTrue();
    }
}
