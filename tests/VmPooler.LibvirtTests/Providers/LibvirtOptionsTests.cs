using VmPooler.Core.Configuration;
using VmPooler.Providers;
using VmPooler.Providers.Libvirt;

namespace VmPooler.LibvirtTests.Providers;

/// <summary>The libvirt section and pool keys are checked at start-up; every problem is reported at once with its key.</summary>
public sealed class LibvirtOptionsTests
{
    private static IReadOnlyList<string> Validate(Dictionary<string, object?> provider, params Dictionary<string, object?>[] pools)
        => new ProviderFactory(TimeProvider.System).Validate(
            new ProviderOptions { Name = "kvm", ProviderClass = "libvirt", Settings = provider },
            [.. pools.Select((p, i) => (i, new PoolOptions { Name = $"p{i}", Template = p.TryGetValue("template", out var t) ? (string?)t ?? "" : "", Provider = "kvm", Settings = p }))]);

    [Fact]
    public void Defaults_AreValid_AndMeanOneLocalHost()
    {
        Validate([], new Dictionary<string, object?> { ["template"] = "debian-12" }).ShouldBeEmpty();

        var options = LibvirtProviderOptions.Parse(new Dictionary<string, object?>(), "providers.kvm", []);
        options.Hosts.ShouldHaveSingleItem().Uri.ShouldBe("qemu:///system");
        options.UtilizationLimit.ShouldBe(90);
        options.PoolDefaults.Network.ShouldBe(LibvirtNetwork.Forward);
        options.PoolDefaults.ReadyCheck.ShouldBe(LibvirtReadyCheck.Ssh);
    }

    [Fact]
    public void SeveralHosts_AreReadInOrder_AndTheirForwardAddressFollowsTheWildcard()
    {
        var options = LibvirtProviderOptions.Parse(
            new Dictionary<string, object?>
            {
                ["uris"] = new List<object?> { "qemu:///system", "qemu+ssh://root@kvm2.example/system" },
                ["forward_address"] = "0.0.0.0",
                ["utilization_limit"] = "75",
            },
            "providers.kvm",
            []);

        options.Hosts.Select(h => (h.Uri, h.Address)).ShouldBe([("qemu:///system", "127.0.0.1"), ("qemu+ssh://root@kvm2.example/system", "kvm2.example")]);
        options.UtilizationLimit.ShouldBe(75);
    }

    [Fact]
    public void EveryBadKey_IsReported_WithItsPath()
    {
        var errors = Validate(
            new Dictionary<string, object?>
            {
                ["uris"] = new List<object?> { "qemu:///system", "not a uri", "qemu:///system" },
                ["utilization_limit"] = "150",
                ["max_concurrent_per_host"] = "0",
                ["call_timeout"] = "-1",
                ["forward_address"] = "somewhere",
                ["forward_ports"] = "30000-20000",
                ["network"] = "bridge",
            },
            new Dictionary<string, object?> { ["ready_check"] = "ping", ["memory"] = "lots", ["storage_pool"] = " " },
            new Dictionary<string, object?> { ["template"] = "ok", ["cpus"] = "0" });

        errors.ShouldContain(e => e.StartsWith("providers.kvm.uris[1]:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.uris[2]:", StringComparison.Ordinal) && e.Contains("twice", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.utilization_limit:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.max_concurrent_per_host:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.call_timeout:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.forward_address:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.forward_ports:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("providers.kvm.network:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].template:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].ready_check:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].memory:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[0].storage_pool:", StringComparison.Ordinal));
        errors.ShouldContain(e => e.StartsWith("pools[1].cpus:", StringComparison.Ordinal));
        errors.Count.ShouldBe(13);
    }
}
