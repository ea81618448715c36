using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Configuration;

public class EnvironmentOverridesTests
{
    private const string MinimalYaml = ":pools:\n  - name: centos\n    size: 1\n";

    private static Dictionary<string, object?> Apply(string yaml, Dictionary<string, string?> environment)
    {
        var errors = new List<string>();
        var tree = YamlTree.Parse(yaml, "test.yaml", errors).ShouldNotBeNull();
        EnvironmentOverrides.Apply(tree, environment);
        return tree;
    }

    private static Dictionary<string, object?> Section(Dictionary<string, object?> tree, string name)
        => tree[name].ShouldBeOfType<Dictionary<string, object?>>();

    private static VmPoolerOptions Load(string yaml, Dictionary<string, string?> environment)
        => ConfigLoader.LoadYaml(yaml, environment, "test.yaml");

    [Fact]
    public void Apply_RedisServer_CreatesRedisSection()
    {
        var options = Load(MinimalYaml, new()
        {
            ["REDIS_SERVER"] = "redis.example.com",
            ["REDIS_PORT"] = "6380",
            ["REDIS_PASSWORD"] = "pw",
            ["REDIS_DATA_TTL"] = "24",
            ["REDIS_CONNECTION_POOL_SIZE"] = "3",
            ["REDIS_CONNECTION_POOL_TIMEOUT"] = "2",
            ["REDIS_RECONNECT_ATTEMPTS"] = "4",
            ["REDIS_KEY_PREFIX"] = "test-7",
        });

        var redis = options.Redis.ShouldNotBeNull();
        redis.Server.ShouldBe("redis.example.com");
        redis.Port.ShouldBe(6380);
        redis.Password.ShouldBe("pw");
        redis.DataTtl.ShouldBe(TimeSpan.FromHours(24));
        redis.ConnectionPoolSize.ShouldBe(3);
        redis.ConnectionPoolTimeout.ShouldBe(TimeSpan.FromSeconds(2));
        redis.ReconnectAttempts.ShouldBe(4);
        redis.KeyPrefix.ShouldBe("test-7");
    }

    [Fact]
    public void Apply_RedisPortWithoutServerOrSection_NoRedisSection()
    {
        var tree = Apply(MinimalYaml, new() { ["REDIS_PORT"] = "6380", ["REDIS_PASSWORD"] = "pw" });

        tree.ShouldNotContainKey("redis");
    }

    [Fact]
    public void Apply_RedisPortWithFileSection_Overrides()
    {
        var redis = Load(":redis:\n  server: r\n  port: 7000\n" + MinimalYaml, new() { ["REDIS_PORT"] = "7001" }).Redis.ShouldNotBeNull();

        redis.Server.ShouldBe("r");
        redis.Port.ShouldBe(7001);
    }

    [Fact]
    public void Apply_RedisPortNotNumeric_Ignored()
    {
        var redis = Load(":redis:\n  server: r\n  port: 7000\n" + MinimalYaml, new() { ["REDIS_PORT"] = "seven" }).Redis.ShouldNotBeNull();

        redis.Port.ShouldBe(7000);
    }

    [Theory]
    [InlineData("statsd", "STATSD")]
    [InlineData("graphite", "GRAPHITE")]
    public void Apply_MetricsServer_CreatesSection(string section, string prefix)
    {
        var tree = Apply(MinimalYaml, new()
        {
            [prefix + "_SERVER"] = "metrics.example.com",
            [prefix + "_PREFIX"] = "pooler",
            [prefix + "_PORT"] = "9125",
        });

        var map = Section(tree, section);
        map["server"].ShouldBe("metrics.example.com");
        map["prefix"].ShouldBe("pooler");
        map["port"].ShouldBe("9125");
    }

    [Fact]
    public void Apply_MetricsPrefixWithoutServerOrSection_NoSection()
    {
        var tree = Apply(MinimalYaml, new() { ["STATSD_PREFIX"] = "x", ["GRAPHITE_PORT"] = "1" });

        tree.ShouldNotContainKey("statsd");
        tree.ShouldNotContainKey("graphite");
    }

    [Fact]
    public void Apply_ConfigIntegersAndStrings_Override()
    {
        var config = Load(":config:\n  task_limit: 3\n  prefix: file-\n" + MinimalYaml, new()
        {
            ["TASK_LIMIT"] = "20",
            ["VM_LIFETIME_AUTH"] = "48",
            ["MAX_LIFETIME_UPPER_LIMIT"] = "100",
            ["VM_CHECKTIME"] = "2",
            ["VM_LIFETIME"] = "6",
            ["READY_TTL"] = "30",
            ["TIMEOUT"] = "0.5",
            ["TIMEOUT_NOTIFICATION"] = "0.25",
            ["PREFIX"] = "env-",
            ["LOGFILE"] = "/tmp/log",
            ["SITE_NAME"] = "Env pooler",
            ["CLONE_TARGET"] = "cluster9",
        }).Config;

        config.TaskLimit.ShouldBe(20);
        config.VmLifetimeAuthHours.ShouldBe(48);
        config.MaxLifetimeUpperLimitHours.ShouldBe(100);
        config.VmCheckTime.ShouldBe(TimeSpan.FromMinutes(2));
        config.VmLifetime.ShouldBe(TimeSpan.FromHours(6));
        config.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(30));
        config.Timeout.ShouldBe(TimeSpan.FromMinutes(0.5));
        config.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(0.25));
        config.Prefix.ShouldBe("env-");
        config.LogFile.ShouldBe("/tmp/log");
        config.SiteName.ShouldBe("Env pooler");
        config.CloneTarget.ShouldBe("cluster9");
    }

    [Theory]
    [InlineData("TASK_LIMIT", "lots")]
    [InlineData("TASK_LIMIT", "2.5")]
    [InlineData("TIMEOUT", "soon")]
    [InlineData("TIMEOUT", "NaN")]
    public void Apply_ConfigNumberNotNumeric_Ignored(string variable, string value)
    {
        var tree = Apply(":config:\n  task_limit: 3\n  timeout: 4\n" + MinimalYaml, new() { [variable] = value });

        var config = Section(tree, "config");
        config["task_limit"].ShouldBe("3");
        config["timeout"].ShouldBe("4");
    }

    [Fact]
    public void Apply_OnlyNonNumericConfigInteger_NoConfigSectionCreated()
    {
        var tree = Apply(MinimalYaml, new() { ["TASK_LIMIT"] = "lots" });

        tree.ShouldNotContainKey("config");
    }

    [Theory]
    [InlineData("false", false)]
    [InlineData("FALSE", false)]
    [InlineData("True", true)]
    [InlineData("true", true)]
    public void Apply_BooleanVariables_ParsedProperly(string value, bool expected)
    {
        var config = Load(MinimalYaml, new()
        {
            ["EXPERIMENTAL_FEATURES"] = value,
            ["USAGE_STATS"] = value,
            ["REQUEST_LOGGER"] = value,
        }).Config;

        config.ExperimentalFeatures.ShouldBe(expected);
        config.UsageStats.ShouldBe(expected);
        config.RequestLogger.ShouldBe(expected);
    }

    [Fact]
    public void Apply_FalseBooleanVariable_OverridesTrueInFile()
    {
        var config = Load(":config:\n  experimental_features: true\n" + MinimalYaml, new() { ["EXPERIMENTAL_FEATURES"] = "false" }).Config;

        config.ExperimentalFeatures.ShouldBeFalse();
    }

    [Fact]
    public void Apply_UnparsableBooleanVariable_Ignored()
    {
        var config = Load(":config:\n  experimental_features: true\n" + MinimalYaml, new() { ["EXPERIMENTAL_FEATURES"] = "sure" }).Config;

        config.ExperimentalFeatures.ShouldBeTrue();
    }

    [Fact]
    public void Apply_ProviderBooleans_WrittenAsBooleanText()
    {
        var tree = Apply(MinimalYaml, new()
        {
            ["CREATE_TEMPLATE_DELTA_DISKS"] = "TRUE",
            ["PURGE_UNCONFIGURED_FOLDERS"] = "true",
            ["CREATE_FOLDERS"] = "whatever",
            ["CREATE_LINKED_CLONES"] = "False",
        });

        var config = Section(tree, "config");
        config["create_template_delta_disks"].ShouldBe("true");
        config["purge_unconfigured_resources"].ShouldBe("true");
        config["create_folders"].ShouldBe("false");
        config["create_linked_clones"].ShouldBe("false");
    }

    [Fact]
    public void Apply_PurgeUnconfiguredResources_WinsOverDeprecatedName()
    {
        var tree = Apply(MinimalYaml, new() { ["PURGE_UNCONFIGURED_RESOURCES"] = "false", ["PURGE_UNCONFIGURED_FOLDERS"] = "true" });

        Section(tree, "config")["purge_unconfigured_resources"].ShouldBe("false");
    }

    [Fact]
    public void Apply_AuthProviderLdap_CreatesAuthAndLdapSections()
    {
        var tree = Apply(MinimalYaml, new()
        {
            ["AUTH_PROVIDER"] = "ldap",
            ["LDAP_HOST"] = "ldap.example.com",
            ["LDAP_PORT"] = "636",
            ["LDAP_BASE"] = "ou=users,dc=example,dc=com",
            ["LDAP_USER_OBJECT"] = "uid",
        });

        var auth = Section(tree, "auth");
        auth["provider"].ShouldBe("ldap");
        var ldap = Section(auth, "ldap");
        ldap["host"].ShouldBe("ldap.example.com");
        ldap["port"].ShouldBe("636");
        ldap["base"].ShouldBe("ou=users,dc=example,dc=com");
        ldap["user_object"].ShouldBe("uid");
    }

    [Fact]
    public void Apply_LdapHostWithoutAuth_Ignored()
    {
        var tree = Apply(MinimalYaml, new() { ["LDAP_HOST"] = "ldap.example.com" });

        tree.ShouldNotContainKey("auth");
    }

    [Fact]
    public void Apply_LdapHostWithLdapAuthInFile_Overrides()
    {
        var tree = Apply(":auth:\n  provider: ldap\n  :ldap:\n    host: old\n" + MinimalYaml, new() { ["LDAP_HOST"] = "new" });

        Section(Section(tree, "auth"), "ldap")["host"].ShouldBe("new");
    }

    [Fact]
    public void Apply_Domain_SetsConfigDomain()
    {
        var tree = Apply(MinimalYaml, new() { ["DOMAIN"] = "example.com" });

        Section(tree, "config")["domain"].ShouldBe("example.com");
    }

    [Fact]
    public void Apply_Tracing_CreatesSection()
    {
        var tree = Apply(MinimalYaml, new() { ["VMPOOLER_TRACING_ENABLED"] = "TRUE", ["VMPOOLER_TRACING_JAEGER_HOST"] = "http://j:14268" });

        var tracing = Section(tree, "tracing");
        tracing["enabled"].ShouldBe("true");
        tracing["jaeger_host"].ShouldBe("http://j:14268");
    }

    [Fact]
    public void Apply_EmptyValues_Ignored()
    {
        var tree = Apply(":config:\n  prefix: file-\n" + MinimalYaml, new() { ["PREFIX"] = "", ["REDIS_SERVER"] = "", ["AUTH_PROVIDER"] = null });

        Section(tree, "config")["prefix"].ShouldBe("file-");
        tree.ShouldNotContainKey("redis");
        tree.ShouldNotContainKey("auth");
    }

    [Fact]
    public void Apply_Overrides_VisibleInRaw()
    {
        var options = Load(MinimalYaml, new() { ["REDIS_SERVER"] = "r", ["TASK_LIMIT"] = "7" });

        options.Raw["redis"].ShouldBeOfType<Dictionary<string, object?>>()["server"].ShouldBe("r");
        options.Raw["config"].ShouldBeOfType<Dictionary<string, object?>>()["task_limit"].ShouldBe("7");
    }
}
