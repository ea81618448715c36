namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>Configurations the tests start servers with.</summary>
public static class TestConfigs
{
    /// <summary>
    /// Pools for API tests, deliberately not in alphabetical order: <c>debian</c> (size 3, aliases <c>deb</c> and
    /// <c>linux</c>, domain example.com), <c>centos</c> (size 2, alias <c>el</c> as a string, domain example.com),
    /// <c>ubuntu</c> (size 1, no alias, no domain) and <c>spare</c> (size 0). Default lifetime 12 h; a tag filter on
    /// <c>url</c>.
    /// </summary>
    public const string ApiPools = """
        ---
        :dns_configs:
          :example:
            dns_class: dynamic-dns
            domain: 'example.com'
        :config:
          vm_lifetime: 12
        :tagfilter:
          url: '(.*)\/'
        :pools:
          - name: 'debian'
            alias: [ 'deb', 'linux' ]
            size: 3
            dns_plugin: example
          - name: 'centos'
            alias: 'el'
            size: 2
            dns_plugin: example
          - name: 'ubuntu'
            size: 1
          - name: 'spare'
            size: 0
        """;

    /// <summary><see cref="ApiPools"/> plus extra lines in the <c>:config:</c> section (indent them by two spaces).</summary>
    public static string ApiPoolsWithConfig(string configLines)
        => ApiPools.Replace("  vm_lifetime: 12\n", "  vm_lifetime: 12\n" + configLines.TrimEnd('\n') + "\n", StringComparison.Ordinal);
}
