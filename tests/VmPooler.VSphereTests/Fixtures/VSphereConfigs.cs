using System.Text;

namespace VmPooler.VSphereTests.Fixtures;

/// <summary>vmpooler YAML for pools on the simulator, in the format existing vmpooler users write.</summary>
public static class VSphereConfigs
{
    /// <summary>The IP the simulated guests report (through the <c>SET.guest.ipAddress</c> extraConfig the simulator honours).</summary>
    public const string GuestIp = "192.0.2.50";

    /// <summary>
    /// A configuration with one <c>vsphere</c> provider on <paramref name="vcsim"/> and one pool per entry of
    /// <paramref name="pools"/> (name, size), each in folder <c>&lt;folderRoot&gt;/&lt;name&gt;</c>, cloning the simulator's
    /// template, ready when powered on. <paramref name="configLines"/> and <paramref name="poolLines"/> add lines to
    /// <c>:config:</c> and to every pool (unindented; they are indented here).
    /// </summary>
    public static string Yaml(
        Vcsim vcsim,
        string folderRoot,
        IEnumerable<(string Name, int Size)> pools,
        string password = Vcsim.Password,
        string configLines = "",
        string poolLines = "",
        string providerLines = "")
    {
        var yaml = new StringBuilder();
        yaml.Append($"""
            ---
            :providers:
              :vsphere:
                server: '{vcsim.SdkUrl}'
                username: '{Vcsim.Username}'
                password: '{password}'
                datacenter: '{Vcsim.Datacenter}'
                {(providerLines.Contains("vsphere_timeout:", StringComparison.Ordinal) ? "" : "vsphere_timeout: 20")}
                task_timeout: 60
                ip_wait_timeout: 10
            {Indent(providerLines, 4)}
            :config:
              create_folders: true
              clone_target: '{Vcsim.Cluster}'
              timeout: 2
              check_loop_delay_min: 1
              check_loop_delay_max: 2
              provider_timeout: 30
            {Indent(configLines, 2)}
            :pools:

            """);
        foreach (var (name, size) in pools)
        {
            yaml.Append($"""
                  - name: '{name}'
                    provider: 'vsphere'
                    {(poolLines.Contains("template:", StringComparison.Ordinal) ? "" : $"template: '{Vcsim.Template}'")}
                    folder: '{folderRoot}/{name}'
                    datastore: '{Vcsim.Datastore}'
                    size: {size}
                    ready_check: 'powered_on'
                    extra_config:
                      'SET.guest.ipAddress': '{GuestIp}'
                {Indent(poolLines, 4)}

                """);
        }

        return yaml.ToString();
    }

    private static string Indent(string lines, int spaces)
        => string.Join("\n", lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => new string(' ', spaces) + l));
}
