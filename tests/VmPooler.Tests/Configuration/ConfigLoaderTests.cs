using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Configuration;

public class ConfigLoaderTests
{
    private const string SeedExample = """
        ---
        :vsphere:
          server: 'vsphere.company.com'
          username: 'vmpooler'
          password: 'swimsw1msw!m'
        :redis:
          server: 'redis.company.com'
        :config:
          logfile: '/var/log/vmpooler.log'
        :pools:
          - name: 'debian-7-i386'
            template: 'Templates/debian-7-i386'
            folder: 'Pooled VMs/debian-7-i386'
            pool: 'Pooled VMs/debian-7-i386'
            datastore: 'vmstorage'
            size: 5
            provider: vsphere
        """;

    private const string MinimalYaml = """
        :pools:
          - name: centos
            size: 2
        """;

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private static VmPoolerOptions Load(string yaml, Dictionary<string, string?>? environment = null, StubProviderFactory? factory = null)
        => ConfigLoader.LoadYaml(yaml, environment ?? NoEnvironment, "test.yaml", providers: factory);

    private static ConfigException LoadFails(string yaml, Dictionary<string, string?>? environment = null, StubProviderFactory? factory = null)
        => Should.Throw<ConfigException>(() => Load(yaml, environment, factory));

    [Fact]
    public void LoadYaml_SymbolKeys_SectionsRead()
    {
        var options = Load("""
            :config:
              task_limit: 4
            :providers:
              :dummy:
                filename: /tmp/dummy.yaml
            :pools:
              - name: centos
                size: 1
            """);

        options.Config.TaskLimit.ShouldBe(4);
        options.Providers.Keys.ShouldBe(["dummy"]);
        options.Providers["dummy"].Settings["filename"].ShouldBe("/tmp/dummy.yaml");
        options.Pools.Single().Name.ShouldBe("centos");
    }

    [Fact]
    public void LoadYaml_PlainKeys_SectionsRead()
    {
        var options = Load("""
            config:
              task_limit: 4
            providers:
              dummy: {}
            pools:
              - name: centos
                size: 1
            """);

        options.Config.TaskLimit.ShouldBe(4);
        options.Providers.Keys.ShouldBe(["dummy"]);
        options.Pools.Single().Name.ShouldBe("centos");
    }

    [Fact]
    public void LoadYaml_SymbolAndPlainFormOfSameKey_Error()
    {
        var error = LoadFails("""
            :config:
              task_limit: 4
            config:
              task_limit: 5
            :pools:
              - name: centos
                size: 1
            """);

        error.Errors.ShouldHaveSingleItem().ShouldContain("duplicate key \"config\"");
    }

    [Fact]
    public void LoadYaml_SeedExampleWithFactoryKnowingVsphere_Loads()
    {
        var factory = new StubProviderFactory(["dummy", "vsphere"]);

        var options = Load(SeedExample, factory: factory);

        var vsphere = options.Providers["vsphere"];
        vsphere.ProviderClass.ShouldBe("vsphere");
        vsphere.Settings["server"].ShouldBe("vsphere.company.com");
        vsphere.Settings["password"].ShouldBe("swimsw1msw!m");
        var pool = options.Pools.ShouldHaveSingleItem();
        pool.Name.ShouldBe("debian-7-i386");
        pool.Template.ShouldBe("Templates/debian-7-i386");
        pool.Size.ShouldBe(5);
        pool.Provider.ShouldBe("vsphere");
        pool.Settings["folder"].ShouldBe("Pooled VMs/debian-7-i386");
        pool.Settings["datastore"].ShouldBe("vmstorage");
        options.Redis.ShouldNotBeNull().Server.ShouldBe("redis.company.com");
        options.Redis.Port.ShouldBe(6379);
        options.Config.LogFile.ShouldBe("/var/log/vmpooler.log");
        var validated = factory.Validated.ShouldHaveSingleItem();
        validated.Provider.Name.ShouldBe("vsphere");
        validated.Pools.ShouldHaveSingleItem().Index.ShouldBe(0);
    }

    [Fact]
    public void LoadYaml_SeedExampleWithoutFactory_LegacyVsphereBecomesProvider()
    {
        var options = Load(SeedExample);

        options.Providers["vsphere"].Settings["username"].ShouldBe("vmpooler");
        options.Pools.ShouldHaveSingleItem().Provider.ShouldBe("vsphere");
        options.Raw["providers"].ShouldBeOfType<Dictionary<string, object?>>().ShouldContainKey("vsphere");
    }

    [Fact]
    public void LoadYaml_SeedExampleWithFactoryNotKnowingVsphere_ProviderClassError()
    {
        var error = LoadFails(SeedExample, factory: new StubProviderFactory(["dummy"]));

        error.Errors.ShouldHaveSingleItem().ShouldStartWith("providers.vsphere: unknown provider class \"vsphere\"");
    }

    [Fact]
    public void LoadYaml_LegacyVsphereAndProvidersVsphere_ProvidersEntryKept()
    {
        var options = Load("""
            :vsphere:
              server: legacy
            :providers:
              :vsphere:
                server: current
            :pools:
              - name: centos
                template: t
                size: 1
                provider: vsphere
            """);

        options.Providers["vsphere"].Settings["server"].ShouldBe("current");
    }

    [Fact]
    public void LoadYaml_MinimalConfig_DefaultsFilled()
    {
        var options = Load(MinimalYaml);

        var config = options.Config;
        config.SiteName.ShouldBe("<b>vmpooler</b>");
        config.Prefix.ShouldBe("");
        config.LogFile.ShouldBeNull();
        config.TaskLimit.ShouldBe(10);
        config.Timeout.ShouldBe(TimeSpan.FromMinutes(15));
        config.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(5));
        config.VmCheckTime.ShouldBe(TimeSpan.FromMinutes(1));
        config.VmLifetime.ShouldBe(TimeSpan.FromHours(24));
        config.VmLifetimeAuthHours.ShouldBeNull();
        config.MaxLifetimeUpperLimitHours.ShouldBeNull();
        config.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(60));
        config.AllowedTags.ShouldBeNull();
        config.ExperimentalFeatures.ShouldBeFalse();
        config.CheckLoopDelayMin.ShouldBe(TimeSpan.FromSeconds(5));
        config.CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(60));
        config.CheckLoopDelayDecay.ShouldBe(2.0);
        config.ProviderTimeout.ShouldBe(TimeSpan.FromSeconds(60));
        config.MaxVmRetries.ShouldBe(3);
        var pool = options.Pools.ShouldHaveSingleItem();
        pool.Provider.ShouldBe("dummy");
        pool.Template.ShouldBe("centos");
        pool.Aliases.ShouldBeEmpty();
        pool.AliasAsConfigured.ShouldBeNull();
        pool.DnsPlugin.ShouldBeNull();
        pool.Timeout.ShouldBeNull();
        pool.CheckLoopDelayMax.ShouldBeNull();
        options.Providers["dummy"].ProviderClass.ShouldBe("dummy");
        options.Redis.ShouldBeNull();
        options.Auth.ShouldBeNull();
        options.TagFilter.ShouldBeEmpty();
        options.DnsConfigs.ShouldBeEmpty();
        options.Source.ShouldBe("test.yaml");
    }

    [Fact]
    public void LoadYaml_FullGlobalSection_Typed()
    {
        var options = Load("""
            :config:
              site_name: 'My pooler'
              prefix: 'ci-'
              vm_lifetime: 12
              vm_lifetime_auth: 48
              max_lifetime_upper_limit: 168
              allowed_tags: [project, owner]
              clone_target: cluster1
              backend_weight:
                cluster1: 60
                cluster2: 40.5
              experimental_features: true
              usage_stats: 'yes'
              request_logger: False
              max_vm_retries: 0
              provider_timeout: 2.5
            :pools:
              - name: centos
                size: 1
            """);

        var config = options.Config;
        config.SiteName.ShouldBe("My pooler");
        config.Prefix.ShouldBe("ci-");
        config.VmLifetime.ShouldBe(TimeSpan.FromHours(12));
        config.VmLifetimeAuthHours.ShouldBe(48);
        config.MaxLifetimeUpperLimitHours.ShouldBe(168);
        config.AllowedTags.ShouldBe(["project", "owner"]);
        config.CloneTarget.ShouldBe("cluster1");
        config.BackendWeight.ShouldBe(new Dictionary<string, double> { ["cluster1"] = 60, ["cluster2"] = 40.5 });
        config.ExperimentalFeatures.ShouldBeTrue();
        config.UsageStats.ShouldBeTrue();
        config.RequestLogger.ShouldBeFalse();
        config.MaxVmRetries.ShouldBe(0);
        config.ProviderTimeout.ShouldBe(TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public void LoadYaml_AliasString_KeptAsString()
    {
        var pool = Load("""
            :pools:
              - name: centos-7
                alias: centos
                size: 1
            """).Pools.Single();

        pool.Aliases.ShouldBe(["centos"]);
        pool.AliasAsConfigured.ShouldBe("centos");
    }

    [Fact]
    public void LoadYaml_AliasList_KeptAsList()
    {
        var pool = Load("""
            :pools:
              - name: centos-7
                alias: [centos, el7]
                size: 1
            """).Pools.Single();

        pool.Aliases.ShouldBe(["centos", "el7"]);
        pool.AliasAsConfigured.ShouldBeOfType<List<string>>().ShouldBe(["centos", "el7"]);
    }

    [Fact]
    public void LoadYaml_PoolOverrides_Typed()
    {
        var pool = Load("""
            :dns_configs:
              :example:
                dns_class: dynamic-dns
                domain: example.com
            :pools:
              - name: centos
                size: 0
                template: templates/centos
                dns_plugin: example
                clone_target: cluster2
                timeout: 0.5
                timeout_notification: 0.25
                ready_ttl: 30
                check_loop_delay_min: 0.2
                check_loop_delay_max: 2
                check_loop_delay_decay: 1.5
            """).Pools.Single();

        pool.Size.ShouldBe(0);
        pool.Template.ShouldBe("templates/centos");
        pool.DnsPlugin.ShouldBe("example");
        pool.CloneTarget.ShouldBe("cluster2");
        pool.Timeout.ShouldBe(TimeSpan.FromMinutes(0.5));
        pool.TimeoutNotification.ShouldBe(TimeSpan.FromMinutes(0.25));
        pool.ReadyTtl.ShouldBe(TimeSpan.FromMinutes(30));
        pool.CheckLoopDelayMin.ShouldBe(TimeSpan.FromSeconds(0.2));
        pool.CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(2));
        pool.CheckLoopDelayDecay.ShouldBe(1.5);
    }

    [Fact]
    public void LoadYaml_DecimalGlobalDurations_Accepted()
    {
        var config = Load("""
            :config:
              timeout: 0.5
              check_loop_delay_min: 0.2
              check_loop_delay_max: 1
            :pools:
              - name: centos
                size: 1
            """).Config;

        config.Timeout.ShouldBe(TimeSpan.FromMinutes(0.5));
        config.CheckLoopDelayMin.ShouldBe(TimeSpan.FromSeconds(0.2));
        config.CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("0.5")]
    [InlineData("1")]
    [InlineData("-3")]
    public void LoadYaml_DecayAtMostOne_ReplacedByTwo(string decay)
    {
        var options = Load($"""
            :config:
              check_loop_delay_decay: {decay}
            :pools:
              - name: centos
                size: 1
                check_loop_delay_decay: {decay}
            """);

        options.Config.CheckLoopDelayDecay.ShouldBe(2.0);
        options.Pools.Single().CheckLoopDelayDecay.ShouldBe(2.0);
    }

    [Fact]
    public void LoadYaml_GlobalMaxBelowMin_MaxRaisedToMin()
    {
        var config = Load("""
            :config:
              check_loop_delay_min: 30
              check_loop_delay_max: 10
            :pools:
              - name: centos
                size: 1
            """).Config;

        config.CheckLoopDelayMin.ShouldBe(TimeSpan.FromSeconds(30));
        config.CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void LoadYaml_PoolMinAboveGlobalMax_PoolMaxRaisedToPoolMin()
    {
        var pools = Load("""
            :config:
              check_loop_delay_max: 60
            :pools:
              - name: slow
                size: 1
                check_loop_delay_min: 90
              - name: low-max
                size: 1
                check_loop_delay_max: 2
              - name: fine
                size: 1
                check_loop_delay_min: 1
            """).Pools;

        pools[0].CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(90));
        pools[1].CheckLoopDelayMax.ShouldBe(TimeSpan.FromSeconds(5));
        pools[2].CheckLoopDelayMax.ShouldBeNull();
    }

    [Fact]
    public void LoadYaml_ThreeDistinctMistakes_ThreeMessages()
    {
        var error = LoadFails("""
            :config:
              task_limit: 0
            :pools:
              - name: centos
                size: five
              - size: 1
            """);

        error.Errors.Count.ShouldBe(3);
        error.Errors.ShouldContain(e => e.StartsWith("config.task_limit: must be an integer ≥ 1", StringComparison.Ordinal));
        error.Errors.ShouldContain("pools[0].size: must be an integer ≥ 0 (got \"five\")");
        error.Errors.ShouldContain("pools[1].name: is required");
        error.Message.Split('\n').Length.ShouldBe(3);
    }

    [Theory]
    [InlineData("- name: a\n  size: five", "pools[0].size: must be an integer ≥ 0 (got \"five\")")]
    [InlineData("- name: a\n  size: -1", "pools[0].size: must be an integer ≥ 0 (got \"-1\")")]
    [InlineData("- name: a", "pools[0].size: is required")]
    [InlineData("- size: 1", "pools[0].name: is required")]
    [InlineData("- name: a\n  size: 1\n- name: b\n  size: 1\n- name: a\n  size: 1", "pools[2].name: duplicate pool name \"a\"")]
    [InlineData("- name: 'a b'\n  size: 1", "pools[0].name: must match [A-Za-z0-9_-]+")]
    [InlineData("- name: a\n  size: 1\n- name: b\n  size: 1\n  provider: foo", "pools[1].provider: unknown provider \"foo\" (known: dummy)")]
    [InlineData("- name: a\n  size: 1\n  dns_plugin: x", "pools[0].dns_plugin: no dns_configs entry \"x\"")]
    [InlineData("- name: a\n  size: 1\n  timeout: soon", "pools[0].timeout: must be a number > 0 (got \"soon\")")]
    [InlineData("- name: a\n  size: 1\n  alias: [x, [y]]", "pools[0].alias[1]: must be a string")]
    [InlineData("- just-a-name", "pools[0]: must be a mapping")]
    [InlineData("[]", "pools: at least one pool is required")]
    [InlineData("{ a: 1 }", "pools: must be a list of pools")]
    public void LoadYaml_BadPool_ErrorNamesKey(string pools, string expected)
    {
        var yaml = ":pools:\n" + string.Join('\n', pools.Split('\n').Select(line => "  " + line));

        var error = LoadFails(yaml);

        error.Errors.ShouldHaveSingleItem().ShouldStartWith(expected);
    }

    [Theory]
    [InlineData(":config:\n  task_limit: 0", "config.task_limit: must be an integer ≥ 1")]
    [InlineData(":config:\n  task_limit: lots", "config.task_limit: must be an integer ≥ 1 (got \"lots\")")]
    [InlineData(":config:\n  timeout: 0", "config.timeout: must be a number > 0")]
    [InlineData(":config:\n  timeout: -2.5", "config.timeout: must be a number > 0")]
    [InlineData(":config:\n  experimental_features: maybe", "config.experimental_features: must be true or false (got \"maybe\")")]
    [InlineData(":config:\n  domain: example.com", "config.domain: removed in vmpooler 3.0; use dns_configs and dns_plugin per pool")]
    [InlineData(":config:\n  backend_weight:\n    c1: heavy", "config.backend_weight.c1: must be a number ≥ 0")]
    [InlineData(":config: [1, 2]", "config: must be a mapping")]
    [InlineData(":redis:\n  port: 70000", "redis.port: must be an integer between 1 and 65535 (got \"70000\")")]
    [InlineData(":redis:\n  data_ttl: forever", "redis.data_ttl: must be a number > 0")]
    [InlineData(":auth:\n  provider: kerberos", "auth.provider: must be \"dummy\" or \"ldap\" (got \"kerberos\")")]
    [InlineData(":auth:\n  provider: ldap", "auth.ldap: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    port: 389\n    base: dc=x\n    user_object: uid", "auth.ldap.host: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    user_object: uid", "auth.ldap.base: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: ' '\n    user_object: uid", "auth.ldap.base: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x", "auth.ldap.user_object: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x\n    user_object: 'uid=*'", "auth.ldap.user_object: must be attribute names such as uid or cn (got \"uid=*\")")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x\n    user_object: uid\n    encryption:\n      :method: :ssl", "auth.ldap.encryption.method: must be simple_tls or start_tls (got \":ssl\")")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x\n    user_object: uid\n    service_account_hash:\n      :user_dn: cn=svc", "auth.ldap.service_account_hash.password: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x\n    user_object: uid\n    service_account_hash:\n      :password: p", "auth.ldap.service_account_hash.user_dn: is required")]
    [InlineData(":auth:\n  provider: ldap\n  :ldap:\n    host: h\n    base: dc=x\n    user_object: uid\n    timeout: 0", "auth.ldap.timeout: must be a number > 0")]
    [InlineData(":auth:\n  provider: dummy", "auth.provider: dummy authentication requires VMPOOLER_DEBUG")]
    [InlineData(":tagfilter:\n  url: '(unclosed'", "tagfilter.url: invalid regular expression")]
    [InlineData(":statsd:\n  prefix: vmpooler", "statsd.server: is required")]
    [InlineData(":providers:\n  :vsphere:\n    server: x", "pools[0].template: is required for provider \"vsphere\"")]
    [InlineData(":providers:\n  :other: 5", "providers.other: must be a mapping")]
    [InlineData(":dns_configs:\n  :x: [1]", "dns_configs.x: must be a mapping")]
    public void LoadYaml_BadSection_ErrorNamesKey(string section, string expected)
    {
        var pool = section.Contains("vsphere", StringComparison.Ordinal)
            ? ":pools:\n  - name: a\n    size: 1\n    provider: vsphere"
            : ":pools:\n  - name: a\n    size: 1";

        var error = LoadFails(section + "\n" + pool);

        error.Errors.ShouldHaveSingleItem().ShouldStartWith(expected);
    }

    [Fact]
    public void LoadYaml_EmptyDocument_PoolsRequired()
    {
        var error = LoadFails("");

        error.Errors.ShouldBe(["pools: at least one pool is required"]);
    }

    [Fact]
    public void LoadYaml_TopLevelNotMapping_Error()
    {
        var error = LoadFails("- a\n- b");

        error.Errors.ShouldHaveSingleItem().ShouldStartWith("test.yaml: the configuration must be a YAML mapping");
    }

    [Fact]
    public void LoadYaml_InvalidYaml_ErrorWithLine()
    {
        var error = LoadFails(":pools:\n  - name: a\n    size: [1, 2\n");

        error.Errors.ShouldHaveSingleItem().ShouldStartWith("test.yaml: invalid YAML at line ");
    }

    [Fact]
    public void LoadYaml_EnvironmentDomain_Error()
    {
        var error = LoadFails(MinimalYaml, new() { ["DOMAIN"] = "example.com" });

        error.Errors.ShouldBe(["config.domain: removed in vmpooler 3.0; use dns_configs and dns_plugin per pool"]);
    }

    [Fact]
    public void LoadYaml_DummyAuthWithDebug_Loads()
    {
        var options = Load(":auth:\n  provider: dummy\n" + MinimalYaml, new() { ["VMPOOLER_DEBUG"] = "1" });

        options.Auth.ShouldNotBeNull().Provider.ShouldBe("dummy");
    }

    [Fact]
    public void LoadYaml_DummyAuthWithEmptyDebug_Error()
    {
        var error = LoadFails(":auth:\n  provider: dummy\n" + MinimalYaml, new() { ["VMPOOLER_DEBUG"] = "" });

        error.Errors.ShouldBe(["auth.provider: dummy authentication requires VMPOOLER_DEBUG"]);
    }

    [Fact]
    public void LoadYaml_LdapAuth_SettingsKeptWithSymbolKeysPlain()
    {
        var auth = Load("""
            :auth:
              provider: ldap
              :ldap:
                host: ldap.example.com
                port: 636
                base: 'ou=users,dc=example,dc=com'
                user_object: uid
                service_account_hash:
                  :user_dn: 'cn=svc,dc=example,dc=com'
                  :password: secret
                encryption:
                  :method: :simple_tls
            :pools:
              - name: centos
                size: 1
            """).Auth.ShouldNotBeNull();

        auth.Provider.ShouldBe("ldap");
        var ldap = auth.Settings["ldap"].ShouldBeOfType<Dictionary<string, object?>>();
        ldap["host"].ShouldBe("ldap.example.com");
        ldap["service_account_hash"].ShouldBeOfType<Dictionary<string, object?>>()["user_dn"].ShouldBe("cn=svc,dc=example,dc=com");
        ldap["encryption"].ShouldBeOfType<Dictionary<string, object?>>()["method"].ShouldBe(":simple_tls");
    }

    [Fact]
    public void LoadYaml_Redis_TypedWithDefaults()
    {
        var redis = Load(":redis:\n  server: r1\n  password: p\n  data_ttl: 0.5\n  key_prefix: test1\n" + MinimalYaml).Redis.ShouldNotBeNull();

        redis.Server.ShouldBe("r1");
        redis.Port.ShouldBe(6379);
        redis.Password.ShouldBe("p");
        redis.DataTtl.ShouldBe(TimeSpan.FromHours(0.5));
        redis.ConnectionPoolSize.ShouldBe(10);
        redis.ConnectionPoolTimeout.ShouldBe(TimeSpan.FromSeconds(5));
        redis.ReconnectAttempts.ShouldBe(10);
        redis.KeyPrefix.ShouldBe("test1");
    }

    [Fact]
    public void LoadYaml_RedisWithoutKeyPrefix_DefaultPrefix()
    {
        Load(":redis:\n  server: r1\n" + MinimalYaml).Redis.ShouldNotBeNull().KeyPrefix.ShouldBe("vmpooler");
    }

    [Fact]
    public void LoadYaml_RedisTlsSentinelsDurability_Typed()
    {
        var redis = Load("""
            :redis:
              username: vmp
              password: p
              ssl: true
              ssl_ca_file: /etc/ca.pem
              ssl_cert_file: /etc/client.pem
              ssl_key_file: /etc/client.key
              ssl_host: redis.internal
              sentinels: ['s1:26379', 's2:26379']
              sentinel_service: mymaster
              durability: replica
              operation_timeout: 2
              durability_timeout: 1.5
            """ + "\n" + MinimalYaml).Redis.ShouldNotBeNull();

        redis.Username.ShouldBe("vmp");
        redis.Ssl.ShouldBeTrue();
        (redis.SslCaFile, redis.SslCertFile, redis.SslKeyFile, redis.SslHost).ShouldBe(("/etc/ca.pem", "/etc/client.pem", "/etc/client.key", "redis.internal"));
        redis.Sentinels.ShouldBe(["s1:26379", "s2:26379"]);
        redis.SentinelService.ShouldBe("mymaster");
        redis.Durability.ShouldBe(RedisDurability.Replica);
        redis.DurabilityTimeout.ShouldBe(TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public void LoadYaml_RedisDefaults_NoTlsNoSentinelsDurabilityNoneHalfSecond()
    {
        var redis = Load(":redis:\n  server: r1\n" + MinimalYaml).Redis.ShouldNotBeNull();

        redis.Ssl.ShouldBeFalse();
        redis.Sentinels.ShouldBeEmpty();
        redis.Durability.ShouldBe(RedisDurability.None);
        redis.DurabilityTimeout.ShouldBe(TimeSpan.FromSeconds(0.5));
    }

    [Theory]
    [InlineData("ssl_ca_file: /ca.pem", "redis.ssl_ca_file: needs redis.ssl: true")]
    [InlineData("ssl: true\n  ssl_cert_file: /c.pem", "redis.ssl_cert_file: and redis.ssl_key_file go together")]
    [InlineData("sentinels: ['s1:26379']", "redis.sentinels: and redis.sentinel_service go together")]
    [InlineData("sentinel_service: m", "redis.sentinels: and redis.sentinel_service go together")]
    [InlineData("durability: always", "redis.durability: must be \"none\" or \"replica\"")]
    [InlineData("durability_timeout: 1", "redis.durability_timeout: must be below redis.operation_timeout")]
    public void LoadYaml_RedisInconsistentSecurityOrDurability_NamedError(string line, string error)
    {
        LoadFails(":redis:\n  " + line + "\n" + MinimalYaml).Errors.ShouldContain(e => e.StartsWith(error, StringComparison.Ordinal));
    }

    [Fact]
    public void LoadYaml_DnsConfigs_TypedAndDomainResolved()
    {
        var options = Load("""
            :dns_configs:
              :internal:
                domain: example.com
              :gcp-clouddns:
                dns_class: gcp
                project: p
            :pools:
              - name: centos
                size: 1
                dns_plugin: internal
            """);

        options.DnsConfigs["internal"].DnsClass.ShouldBe("dynamic-dns");
        options.DnsConfigs["gcp-clouddns"].DnsClass.ShouldBe("gcp");
        options.DnsConfigs["gcp-clouddns"].Domain.ShouldBeNull();
        options.DnsConfigs["gcp-clouddns"].Settings["project"].ShouldBe("p");
        options.DomainOf(options.Pools.Single()).ShouldBe("example.com");
    }

    [Fact]
    public void LoadYaml_TagFilter_Compiled()
    {
        var options = Load(":tagfilter:\n  url: '(.*)\\/'\n" + MinimalYaml);

        var match = options.TagFilter["url"].Match("foo.com/something.html");
        match.Success.ShouldBeTrue();
        match.Groups[1].Value.ShouldBe("foo.com");
    }

    [Fact]
    public void LoadYaml_ProviderClass_DefaultsToInstanceName()
    {
        var options = Load("""
            :providers:
              :vsphere-pdx:
                provider_class: vsphere
              :dummy:
            :pools:
              - name: centos
                template: t
                size: 1
                provider: vsphere-pdx
            """, factory: new StubProviderFactory(["dummy", "vsphere"]));

        options.Providers["vsphere-pdx"].ProviderClass.ShouldBe("vsphere");
        options.Providers["dummy"].ProviderClass.ShouldBe("dummy");
        options.Providers["dummy"].Settings.ShouldBeEmpty();
    }

    [Fact]
    public void LoadYaml_PoolNamesUnlistedKnownClass_ProviderSynthesized()
    {
        var factory = new StubProviderFactory(["dummy", "vsphere"]);

        var options = Load("""
            :pools:
              - name: a
                size: 1
              - name: b
                template: t
                size: 1
                provider: vsphere
            """, factory: factory);

        options.Providers.Keys.ShouldBe(["dummy", "vsphere"], ignoreOrder: true);
        options.Providers["vsphere"].ProviderClass.ShouldBe("vsphere");
        factory.Validated.Single(v => v.Provider.Name == "vsphere").Pools.ShouldHaveSingleItem().Index.ShouldBe(1);
    }

    [Fact]
    public void LoadYaml_UnknownProviderWithFactory_ErrorListsKnownNames()
    {
        var error = LoadFails("""
            :providers:
              :vsphere-pdx:
                provider_class: vsphere
            :pools:
              - name: a
                template: t
                size: 1
                provider: nope
            """, factory: new StubProviderFactory(["dummy", "vsphere"]));

        error.Errors.ShouldBe(["pools[0].provider: unknown provider \"nope\" (known: dummy, vsphere, vsphere-pdx)"]);
    }

    [Fact]
    public void LoadYaml_UnknownProviderClass_Error()
    {
        var error = LoadFails("""
            :providers:
              :x:
                provider_class: openstack
            :pools:
              - name: a
                template: t
                size: 1
                provider: x
            """, factory: new StubProviderFactory(["dummy"]));

        error.Errors.ShouldBe(["providers.x.provider_class: unknown provider class \"openstack\" (known: dummy)"]);
    }

    [Fact]
    public void LoadYaml_FactoryValidationMessages_ReportedWithOtherErrors()
    {
        var factory = new StubProviderFactory(
            ["dummy"],
            (provider, pools) => pools.Select(p => $"pools[{p.Index}].createvm_fail_percent: must be between 0 and 100").ToList());

        var error = LoadFails("""
            :config:
              timeout: never
            :pools:
              - name: a
                size: 1
                createvm_fail_percent: 200
            """, factory: factory);

        error.Errors.ShouldBe([
            "config.timeout: must be a number > 0 (got \"never\")",
            "pools[0].createvm_fail_percent: must be between 0 and 100",
        ]);
        factory.Validated.ShouldHaveSingleItem().Pools.Single().Pool.Settings["createvm_fail_percent"].ShouldBe("200");
    }

    [Fact]
    public void LoadYaml_UnknownTopLevelKeys_KeptInRaw()
    {
        var options = Load(":frobnicate:\n  a: 1\n:graphs:\n  server: g\n" + MinimalYaml);

        options.Raw.Keys.ShouldBe(["frobnicate", "graphs", "pools"]);
        options.Raw["frobnicate"].ShouldBeOfType<Dictionary<string, object?>>()["a"].ShouldBe("1");
    }

    [Fact]
    public void LoadYaml_NullScalars_ReadAsAbsent()
    {
        var options = Load("""
            :config:
              prefix: ~
              timeout:
              site_name: null
            :pools:
              - name: centos
                size: 1
            """);

        options.Config.Prefix.ShouldBe("");
        options.Config.Timeout.ShouldBe(TimeSpan.FromMinutes(15));
        options.Config.SiteName.ShouldBe("<b>vmpooler</b>");
        options.Raw["config"].ShouldBeOfType<Dictionary<string, object?>>()["timeout"].ShouldBeNull();
    }

    [Fact]
    public void LoadYaml_AnchorsAndMergeKeys_Resolved()
    {
        var pools = Load("""
            :pools:
              - &base
                name: a
                size: 1
                timeout: 20
              - <<: *base
                name: b
            """).Pools;

        pools[1].Name.ShouldBe("b");
        pools[1].Size.ShouldBe(1);
        pools[1].Timeout.ShouldBe(TimeSpan.FromMinutes(20));
    }

    [Fact]
    public void LoadYaml_MergeKeyThenExplicitKeys_ExplicitKeysWin()
    {
        var pool = Load("""
            :defaults: &defaults
              size: 3
              template: base
            :pools:
              - <<: *defaults
                name: a
                template: own
            """).Pools.Single();

        pool.Size.ShouldBe(3);
        pool.Template.ShouldBe("own");
    }

    [Fact]
    public void LoadYaml_SymbolKeyAfterFlowSequence_Parsed()
    {
        // YamlDotNet alone rejects a ':key' line right after a flow collection; the loader works around it.
        var options = Load("""
            :config:
              allowed_tags: [project, owner]
            :pools:
              - name: centos
                alias: [el]
                :size: 1
            :tagfilter:
              url: '(.*)\/'
            """);

        options.Config.AllowedTags.ShouldBe(["project", "owner"]);
        options.Pools.Single().Size.ShouldBe(1);
        options.TagFilter.ContainsKey("url").ShouldBeTrue();
    }

    [Fact]
    public void QuoteSymbolKeys_SymbolKeysOutsideBlockScalars_Quoted()
    {
        var quoted = YamlTree.QuoteSymbolKeys(":a: [1]\n  - :b: 2\ntext: |\n  :not_a_key: x\n:c:\n  d: e\n");

        quoted.ShouldBe("':a': [1]\n  - ':b': 2\ntext: |\n  :not_a_key: x\n':c':\n  d: e\n");
    }

    [Fact]
    public void Load_ExplicitPath_WinsOverEverything()
    {
        using var dir = new TempDirectory();
        dir.Write("explicit.yaml", Pool("explicit"));
        dir.Write("vmpooler.yaml", Pool("local"));
        var file = dir.Write("file.yaml", Pool("file"));
        var demo = dir.Write("demo.yaml", Pool("demo"));
        var env = new Dictionary<string, string?> { ["VMPOOLER_CONFIG"] = Pool("env"), ["VMPOOLER_CONFIG_FILE"] = file };

        var options = ConfigLoader.Load("explicit.yaml", env, dir.Path, demo);

        options.Pools.Single().Name.ShouldBe("explicit");
        options.Source.ShouldBe(Path.Combine(dir.Path, "explicit.yaml"));
    }

    [Fact]
    public void Load_VmpoolerConfigVariable_WinsOverFiles()
    {
        using var dir = new TempDirectory();
        dir.Write("vmpooler.yaml", Pool("local"));
        var file = dir.Write("file.yaml", Pool("file"));
        var env = new Dictionary<string, string?> { ["VMPOOLER_CONFIG"] = Pool("env"), ["VMPOOLER_CONFIG_FILE"] = file };

        var options = ConfigLoader.Load(null, env, dir.Path, dir.Write("demo.yaml", Pool("demo")));

        options.Pools.Single().Name.ShouldBe("env");
        options.Source.ShouldBe("VMPOOLER_CONFIG");
    }

    [Fact]
    public void Load_VmpoolerConfigFileVariable_WinsOverWorkingDirectory()
    {
        using var dir = new TempDirectory();
        dir.Write("vmpooler.yaml", Pool("local"));
        dir.Write("conf/file.yaml", Pool("file"));
        var env = new Dictionary<string, string?> { ["VMPOOLER_CONFIG_FILE"] = "conf/file.yaml" };

        var options = ConfigLoader.Load(null, env, dir.Path, dir.Write("demo.yaml", Pool("demo")));

        options.Pools.Single().Name.ShouldBe("file");
        options.Source.ShouldBe(Path.Combine(dir.Path, "conf", "file.yaml"));
    }

    [Fact]
    public void Load_WorkingDirectoryFile_WinsOverDemo()
    {
        using var dir = new TempDirectory();
        dir.Write("vmpooler.yaml", Pool("local"));

        var options = ConfigLoader.Load(null, NoEnvironment, dir.Path, dir.Write("demo/demo.yaml", Pool("demo")));

        options.Pools.Single().Name.ShouldBe("local");
        options.Source.ShouldBe(Path.Combine(dir.Path, "vmpooler.yaml"));
    }

    [Fact]
    public void Load_NothingElse_DemoUsed()
    {
        using var dir = new TempDirectory();
        var demo = dir.Write("demo/demo.yaml", Pool("demo"));

        var options = ConfigLoader.Load(null, new Dictionary<string, string?> { ["VMPOOLER_CONFIG"] = "", ["VMPOOLER_CONFIG_FILE"] = "" }, dir.Path, demo);

        options.Pools.Single().Name.ShouldBe("demo");
        options.Source.ShouldBe("demo");
    }

    [Fact]
    public void Load_MissingExplicitFile_ErrorNamesFile()
    {
        using var dir = new TempDirectory();

        var error = Should.Throw<ConfigException>(() => ConfigLoader.Load("missing.yaml", NoEnvironment, dir.Path, "demo.yaml"));

        error.Errors.ShouldHaveSingleItem().ShouldStartWith(Path.Combine(dir.Path, "missing.yaml") + ": cannot read the configuration file");
    }

    [Fact]
    public void Load_MissingConfigFileVariableTarget_Error()
    {
        using var dir = new TempDirectory();
        dir.Write("vmpooler.yaml", Pool("local"));

        var error = Should.Throw<ConfigException>(
            () => ConfigLoader.Load(null, new Dictionary<string, string?> { ["VMPOOLER_CONFIG_FILE"] = "nope.yaml" }, dir.Path, "demo.yaml"));

        error.Errors.ShouldHaveSingleItem().ShouldContain("VMPOOLER_CONFIG_FILE");
    }

    [Fact]
    public void Load_InvalidYamlInFile_ErrorNamesFileAndLine()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("vmpooler.yaml", ":pools:\n  - name: a\n   size: 1\n");

        var error = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, NoEnvironment, dir.Path, "demo.yaml"));

        error.Errors.ShouldHaveSingleItem().ShouldStartWith(path + ": invalid YAML at line 3");
    }

    [Fact]
    public void Load_ExtraConfig_PoolsUnionedAndMainScalarsWin()
    {
        using var dir = new TempDirectory();
        dir.Write("extra1.yaml", """
            :config:
              task_limit: 99
              site_name: from extra
            :providers:
              :dummy:
                filename: /tmp/extra.yaml
            :pools:
              - name: a
                size: 7
              - name: c
                size: 3
            """);
        dir.Write("sub/extra2.yaml", """
            :pools:
              - name: d
                size: 4
            """);
        dir.Write("vmpooler.yaml", """
            :config:
              task_limit: 2
              extra_config: 'extra1.yaml, sub/extra2.yaml'
            :providers:
              :dummy:
                connection_pool_size: 1
            :pools:
              - name: a
                size: 1
              - name: b
                size: 2
            """);

        var options = ConfigLoader.Load(null, NoEnvironment, dir.Path, "demo.yaml");

        options.Pools.Select(p => (p.Name, p.Size)).ShouldBe([("a", 1), ("b", 2), ("c", 3), ("d", 4)]);
        options.Config.TaskLimit.ShouldBe(2);
        options.Config.SiteName.ShouldBe("from extra");
        options.Providers["dummy"].Settings.Keys.ShouldBe(["connection_pool_size", "filename"]);
    }

    [Fact]
    public void Load_ExtraConfigVariable_OverridesConfiguredList()
    {
        using var dir = new TempDirectory();
        dir.Write("configured.yaml", ":pools:\n  - name: configured\n    size: 1\n");
        dir.Write("fromenv.yaml", ":pools:\n  - name: fromenv\n    size: 1\n");
        dir.Write("vmpooler.yaml", ":config:\n  extra_config: configured.yaml\n" + Pool("main"));

        var options = ConfigLoader.Load(null, new Dictionary<string, string?> { ["EXTRA_CONFIG"] = "fromenv.yaml" }, dir.Path, "demo.yaml");

        options.Pools.Select(p => p.Name).ShouldBe(["main", "fromenv"]);
        options.Raw["config"].ShouldBeOfType<Dictionary<string, object?>>()["extra_config"].ShouldBe("fromenv.yaml");
    }

    [Fact]
    public void Load_VmpoolerConfigVariable_ExtraConfigNotProcessed()
    {
        using var dir = new TempDirectory();
        dir.Write("extra.yaml", ":pools:\n  - name: extra\n    size: 1\n");
        var yaml = ":config:\n  extra_config: extra.yaml\n" + Pool("main");

        var options = ConfigLoader.Load(null, new Dictionary<string, string?> { ["VMPOOLER_CONFIG"] = yaml, ["EXTRA_CONFIG"] = "extra.yaml" }, dir.Path, "demo.yaml");

        options.Pools.Select(p => p.Name).ShouldBe(["main"]);
    }

    [Fact]
    public void Load_MissingAndBrokenExtraConfigs_AllReported()
    {
        using var dir = new TempDirectory();
        var broken = dir.Write("broken.yaml", ":pools: [\n");
        dir.Write("vmpooler.yaml", ":config:\n  extra_config: missing.yaml,broken.yaml\n" + Pool("main"));

        var error = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, NoEnvironment, dir.Path, "demo.yaml"));

        error.Errors.Count.ShouldBe(2);
        error.Errors[0].ShouldStartWith(Path.Combine(dir.Path, "missing.yaml") + ": cannot read the configuration file (listed in extra_config)");
        error.Errors[1].ShouldStartWith(broken + ": invalid YAML at line");
    }

    [Fact]
    public void LoadYaml_ExtraConfigRelativePath_ResolvedAgainstBaseDirectory()
    {
        using var dir = new TempDirectory();
        dir.Write("extra.yaml", ":pools:\n  - name: extra\n    size: 1\n");

        var options = ConfigLoader.LoadYaml(
            ":config:\n  extra_config: extra.yaml\n" + Pool("main"), NoEnvironment, "inline", dir.Path);

        options.Pools.Select(p => p.Name).ShouldBe(["main", "extra"]);
    }

    [Fact]
    public void Load_RepositoryDemoConfig_Loads()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "VmPooler.slnx")))
        {
            root = root.Parent;
        }

        root.ShouldNotBeNull("the repository root (VmPooler.slnx) was not found above the test binaries");
        using var empty = new TempDirectory();

        var options = ConfigLoader.Load(null, NoEnvironment, empty.Path, Path.Combine(root.FullName, "examples", "vmpooler.yaml"));

        options.Source.ShouldBe("demo");
        options.Pools.ShouldNotBeEmpty();
    }

    private static string Pool(string name) => $":pools:\n  - name: {name}\n    size: 1\n";
}
