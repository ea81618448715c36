using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Configuration;

/// <summary><c>labels:</c> on pools and <c>:config: manager_lease_ttl</c> (issue 13: many managers, per-pool ownership).</summary>
public class ConfigLeaseOptionsTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private static VmPoolerOptions Load(string yaml) => ConfigLoader.LoadYaml(yaml, NoEnvironment, "test.yaml");

    private static ConfigException LoadFails(string yaml) => Should.Throw<ConfigException>(() => Load(yaml));

    private static string Pools(params string[] pools)
        => ":pools:\n" + string.Join('\n', pools.SelectMany(p => p.Split('\n')).Select(line => "  " + line));

    [Fact]
    public void LoadYaml_PoolLabels_ReadAsStrings()
    {
        var options = Load(Pools("- name: a\n  size: 1\n  labels:\n    host: hv1\n    :rack: 7", "- name: b\n  size: 1"));

        options.Pools[0].Labels.ShouldBe(new Dictionary<string, string> { ["host"] = "hv1", ["rack"] = "7" }, ignoreOrder: true);
        options.Pools[1].Labels.ShouldBeEmpty();
    }

    [Fact]
    public void LoadYaml_EmptyLabels_NoLabels()
    {
        Load(Pools("- name: a\n  size: 1\n  labels: {}")).Pools[0].Labels.ShouldBeEmpty();
        Load(Pools("- name: a\n  size: 1\n  labels:")).Pools[0].Labels.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("labels: hv1", "pools[2].labels: must be a mapping (got \"hv1\")")]
    [InlineData("labels: [host, hv1]", "pools[2].labels: must be a mapping (got a list)")]
    [InlineData("labels:\n    host:", "pools[2].labels.host: must be a non-empty string (got nothing)")]
    [InlineData("labels:\n    host: ''", "pools[2].labels.host: must be a non-empty string (got \"\")")]
    [InlineData("labels:\n    host: '  '", "pools[2].labels.host: must be a non-empty string (got \"  \")")]
    [InlineData("labels:\n    host: [hv1, hv2]", "pools[2].labels.host: must be a non-empty string (got a list)")]
    [InlineData("labels:\n    host:\n      name: hv1", "pools[2].labels.host: must be a non-empty string (got a mapping)")]
    [InlineData("labels:\n    'a=b': c", "pools[2].labels: label names must be non-empty and hold no '=' (got \"a=b\")")]
    [InlineData("labels:\n    '': c", "pools[2].labels: label names must be non-empty and hold no '=' (got \"\")")]
    public void LoadYaml_BadLabels_ErrorNamesPoolAndLabel(string labels, string expected)
    {
        var error = LoadFails(Pools("- name: a\n  size: 1", "- name: b\n  size: 1", "- name: c\n  size: 1\n  " + labels));

        error.Errors.ShouldHaveSingleItem().ShouldBe(expected);
    }

    [Fact]
    public void LoadYaml_TwoBadLabels_BothReported()
    {
        var error = LoadFails(Pools("- name: a\n  size: 1\n  labels:\n    host: ''\n    rack: [1]"));

        error.Errors.Count.ShouldBe(2);
    }

    [Fact]
    public void LoadYaml_NoLeaseTtl_Default15Seconds()
    {
        Load(Pools("- name: a\n  size: 1")).Config.ManagerLeaseTtl.ShouldBe(TimeSpan.FromSeconds(15));
        Load(":config:\n  task_limit: 2\n" + Pools("- name: a\n  size: 1")).Config.ManagerLeaseTtl.ShouldBe(GlobalOptions.DefaultManagerLeaseTtl);
    }

    [Theory]
    [InlineData("3", 3.0)]
    [InlineData("4.5", 4.5)]
    [InlineData("60", 60.0)]
    [InlineData("3600", 3600.0)]
    public void LoadYaml_LeaseTtl_ReadAsSeconds(string value, double seconds)
    {
        Load($":config:\n  manager_lease_ttl: {value}\n" + Pools("- name: a\n  size: 1")).Config.ManagerLeaseTtl.ShouldBe(TimeSpan.FromSeconds(seconds));
    }

    [Fact]
    public void LoadYaml_FractionalLeaseTtl_IsTheNearestTick()
    {
        // 3.002 × 10⁷ ticks is 30 019 999.999… as a double: truncating (TimeSpan.FromSeconds) would lose a tick.
        Load(":config:\n  manager_lease_ttl: 3.002\n" + Pools("- name: a\n  size: 1")).Config.ManagerLeaseTtl.Ticks.ShouldBe(30_020_000);
    }

    [Theory]
    [InlineData("2", "config.manager_lease_ttl: must be between 3 and 3600 seconds (got 2)")]
    [InlineData("2.9", "config.manager_lease_ttl: must be between 3 and 3600 seconds (got 2.9)")]
    [InlineData("3601", "config.manager_lease_ttl: must be between 3 and 3600 seconds (got 3601)")]
    [InlineData("1e300", "config.manager_lease_ttl: must be between 3 and 3600 seconds (got 1E+300)")]
    [InlineData("0", "config.manager_lease_ttl: must be a number > 0 (got \"0\")")]
    [InlineData("-5", "config.manager_lease_ttl: must be a number > 0 (got \"-5\")")]
    [InlineData("soon", "config.manager_lease_ttl: must be a number > 0 (got \"soon\")")]
    [InlineData("[15]", "config.manager_lease_ttl: must be a number > 0 (got a list)")]
    public void LoadYaml_BadLeaseTtl_ErrorNamesKey(string value, string expected)
    {
        var error = LoadFails($":config:\n  manager_lease_ttl: {value}\n" + Pools("- name: a\n  size: 1"));

        error.Errors.ShouldHaveSingleItem().ShouldBe(expected);
    }
}
