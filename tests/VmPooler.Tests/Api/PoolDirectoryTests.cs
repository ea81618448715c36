using VmPooler.Api;
using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Api;

public class PoolDirectoryTests
{
    private const int Draws = 400;

    private static PoolOptions Pool(string name, string[]? aliases = null, string? cloneTarget = null, string? dns = null)
        => new() { Name = name, Size = 1, Aliases = aliases ?? [], CloneTarget = cloneTarget, DnsPlugin = dns };

    private static PoolDirectory Directory(IReadOnlyList<PoolOptions> pools, GlobalOptions? config = null, int seed = 1)
        => new(
            new VmPoolerOptions
            {
                Config = config ?? new GlobalOptions(),
                Pools = pools,
                DnsConfigs = new Dictionary<string, DnsConfigOptions> { ["corp"] = new() { Name = "corp", Domain = "corp.example" } },
            },
            new Random(seed));

    private static Dictionary<string, int> FirstCounts(PoolDirectory directory, string name)
        => Enumerable.Range(0, Draws).Select(_ => directory.Candidates(name)[0]).GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void Candidates_PoolNotAnAlias_OnlyThePool()
    {
        var directory = Directory([Pool("debian"), Pool("centos", ["el"])]);

        for (var i = 0; i < 20; i++)
        {
            directory.Candidates("debian").ShouldBe(["debian"]);
        }
    }

    [Fact]
    public void Candidates_Unknown_Empty()
        => Directory([Pool("debian")]).Candidates("nope").ShouldBeEmpty();

    [Fact]
    public void Candidates_AliasOfOnePool_ThatPool()
        => Directory([Pool("debian-12", ["debian"])]).Candidates("debian").ShouldBe(["debian-12"]);

    [Fact]
    public void Candidates_AliasOfSeveralPools_AllOfThemEachSometimesFirst()
    {
        var directory = Directory([Pool("a", ["linux"]), Pool("b", ["linux"]), Pool("c", ["linux"]), Pool("d")]);

        directory.Candidates("linux").Order().ShouldBe(["a", "b", "c"]);
        var firsts = FirstCounts(directory, "linux");
        firsts.Keys.Order().ShouldBe(["a", "b", "c"]);
        firsts.Values.ShouldAllBe(n => n > Draws / 6);
    }

    [Fact]
    public void Candidates_PoolNameAlsoAnAlias_PoolAndAliasTargetsWithoutDuplicates()
    {
        var directory = Directory([Pool("debian", ["debian"]), Pool("debian-12", ["debian"]), Pool("debian-11", ["debian", "old"])]);

        var candidates = directory.Candidates("debian");

        candidates.Order().ShouldBe(["debian", "debian-11", "debian-12"]);
        candidates.Distinct().Count().ShouldBe(3);
    }

    [Fact]
    public void Candidates_BackendWeightZero_NeverFirstWhenAnotherHasWeight()
    {
        var config = new GlobalOptions { BackendWeight = new Dictionary<string, double> { ["cluster1"] = 0, ["cluster2"] = 5 } };
        var directory = Directory([Pool("a", ["alias"], "cluster1"), Pool("b", ["alias"], "cluster2")], config);

        var firsts = FirstCounts(directory, "alias");

        firsts.Keys.ShouldBe(["b"]);
        directory.Candidates("alias").ShouldBe(["b", "a"]);
    }

    [Fact]
    public void Candidates_BackendWeights_RoughlyProportional()
    {
        var config = new GlobalOptions { BackendWeight = new Dictionary<string, double> { ["small"] = 1, ["big"] = 3 } };
        var directory = Directory([Pool("a", ["alias"], "small"), Pool("b", ["alias"], "big")], config);

        var firsts = FirstCounts(directory, "alias");

        firsts["b"].ShouldBeInRange((int)(Draws * 0.65), (int)(Draws * 0.85));
    }

    [Fact]
    public void Candidates_GlobalCloneTargetWeighted_UsedForPoolsWithout()
    {
        var config = new GlobalOptions
        {
            CloneTarget = "default",
            BackendWeight = new Dictionary<string, double> { ["default"] = 0, ["special"] = 1 },
        };
        var directory = Directory([Pool("a", ["alias"]), Pool("b", ["alias"], "special")], config);

        FirstCounts(directory, "alias").Keys.ShouldBe(["b"]);
    }

    [Fact]
    public void Candidates_SomeCandidateWithoutWeight_Uniform()
    {
        var config = new GlobalOptions { BackendWeight = new Dictionary<string, double> { ["cluster1"] = 0 } };
        var directory = Directory([Pool("a", ["alias"], "cluster1"), Pool("b", ["alias"], "cluster2")], config);

        var firsts = FirstCounts(directory, "alias");

        firsts.Keys.Order().ShouldBe(["a", "b"]);
        firsts.Values.ShouldAllBe(n => n > Draws / 4);
    }

    [Fact]
    public void IsKnown_PoolsAndAliases_True()
    {
        var directory = Directory([Pool("debian", ["deb"])]);

        directory.IsKnown("debian").ShouldBeTrue();
        directory.IsKnown("deb").ShouldBeTrue();
        directory.IsKnown("centos").ShouldBeFalse();
        directory.Find("debian").ShouldNotBeNull().Name.ShouldBe("debian");
        directory.Find("deb").ShouldBeNull();
        directory.PoolNames.ShouldBe(["debian"]);
    }

    [Fact]
    public void Fqdn_PoolWithDomain_NameDotDomain()
    {
        var directory = Directory([Pool("debian", dns: "corp"), Pool("plain")]);

        directory.Fqdn("vm1", "debian").ShouldBe("vm1.corp.example");
        directory.Fqdn("vm1", "plain").ShouldBe("vm1");
        directory.Fqdn("vm1", "unknown").ShouldBe("vm1");
        directory.DomainOf("debian").ShouldBe("corp.example");
    }
}
