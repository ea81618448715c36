using System.Globalization;
using System.Text;

namespace VmPooler.Bench.Shared;

/// <summary>The generated vmpooler YAML files the benchmarks run on: many pools of the dummy provider with zero delays.</summary>
public static class BenchConfig
{
    /// <summary>The name of pool <paramref name="index"/>.</summary>
    public static string PoolName(int index) => $"bench-{index:000}";

    /// <summary>
    /// A configuration of <paramref name="pools"/> pools of <paramref name="size"/> VMs each on the dummy provider with
    /// no clone, boot or destroy delays, on Redis at <paramref name="redisEndpoint"/> (or the embedded inventory when null).
    /// </summary>
    public static string Yaml(int pools, int size, string? redisEndpoint = null, string keyPrefix = "bench", int taskLimit = 10)
    {
        var yaml = new StringBuilder();
        yaml.Append(CultureInfo.InvariantCulture, $"""
            ---
            :providers:
              :dummy:
                createvm_max_time: 0
                boot_max_time: 0
                destroyvm_max_time: 0
                destroyvm_max_shutdown_time: 0
            :dns_configs:
              :bench:
                dns_class: dynamic-dns
                domain: 'bench.example.com'
            :config:
              site_name: 'vmpooler benchmark'
              task_limit: {taskLimit}
              timeout: 15
              vm_lifetime: 12
              ready_ttl: 1440
              vm_checktime: 1
              check_loop_delay_min: 5
              check_loop_delay_max: 60
              check_loop_delay_decay: 2.0

            """);
        if (redisEndpoint is not null)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"""
                :redis:
                  server: '{redisEndpoint}'
                  key_prefix: '{keyPrefix}'
                  operation_timeout: 5

                """);
        }

        yaml.Append(":pools:\n");
        for (var i = 0; i < pools; i++)
        {
            var name = PoolName(i);
            yaml.Append(CultureInfo.InvariantCulture, $"""
                  - name: '{name}'
                    alias: [ '{name}-alias' ]
                    template: 'templates/{name}'
                    size: {size}
                    provider: dummy
                    dns_plugin: bench

                """);
        }

        return yaml.ToString();
    }
}
