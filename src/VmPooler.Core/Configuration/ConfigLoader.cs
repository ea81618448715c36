using VmPooler.Core.Providers;

namespace VmPooler.Core.Configuration;

/// <summary>
/// Loads the vmpooler YAML configuration (spec §5): picks the source, merges <c>extra_config</c> files, applies
/// environment overrides, types the result into <see cref="VmPoolerOptions"/>, fills defaults and validates.
/// Every problem is collected and reported at once through <see cref="ConfigException"/>.
/// </summary>
public static class ConfigLoader
{
    /// <summary>The file looked for in the working directory when nothing else names a configuration.</summary>
    public const string DefaultFileName = "vmpooler.yaml";

    /// <summary><see cref="VmPoolerOptions.Source"/> when the YAML came from the <c>VMPOOLER_CONFIG</c> variable.</summary>
    public const string EnvironmentSource = EnvironmentOverrides.ConfigVariable;

    /// <summary><see cref="VmPoolerOptions.Source"/> when the demo configuration was loaded.</summary>
    public const string DemoSource = "demo";

    /// <summary>
    /// Loads the configuration from, in order of precedence (spec §5.1): <paramref name="explicitPath"/> (the
    /// <c>--config</c> option); the YAML in env <c>VMPOOLER_CONFIG</c> (then <c>extra_config</c> is not processed);
    /// the file named by env <c>VMPOOLER_CONFIG_FILE</c>; <c>vmpooler.yaml</c> in <paramref name="workingDirectory"/>
    /// when it exists; otherwise <paramref name="demoConfigPath"/>. Relative paths, including those of
    /// <c>extra_config</c> files, resolve against <paramref name="workingDirectory"/> (as vmpooler resolves them
    /// against its working directory).
    /// </summary>
    /// <exception cref="ConfigException">A file is unreadable, the YAML is malformed or any value is invalid.</exception>
    public static VmPoolerOptions Load(
        string? explicitPath,
        IReadOnlyDictionary<string, string?> environment,
        string workingDirectory,
        string demoConfigPath,
        IVmProviderFactory? providers = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(workingDirectory);
        ArgumentNullException.ThrowIfNull(demoConfigPath);

        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var path = Path.GetFullPath(explicitPath, workingDirectory);
            return LoadFile(path, path, "", environment, workingDirectory, providers);
        }

        if (EnvironmentOverrides.Get(environment, EnvironmentOverrides.ConfigVariable) is { } yaml)
        {
            return LoadCore(yaml, EnvironmentSource, EnvironmentSource, environment, workingDirectory, processExtraConfig: false, providers);
        }

        if (EnvironmentOverrides.Get(environment, EnvironmentOverrides.ConfigFileVariable) is { } configFile)
        {
            var path = Path.GetFullPath(configFile, workingDirectory);
            return LoadFile(path, path, " (named by " + EnvironmentOverrides.ConfigFileVariable + ")", environment, workingDirectory, providers);
        }

        var local = Path.Combine(Path.GetFullPath(workingDirectory), DefaultFileName);
        if (File.Exists(local))
        {
            return LoadFile(local, local, "", environment, workingDirectory, providers);
        }

        var demo = Path.GetFullPath(demoConfigPath, workingDirectory);
        return LoadFile(demo, DemoSource, " (the demo configuration)", environment, workingDirectory, providers);
    }

    /// <summary>
    /// Loads one YAML document given as text: merges its <c>extra_config</c> files (relative paths resolve against
    /// <paramref name="baseDirectory"/>, or the current directory), applies environment overrides, types and validates.
    /// </summary>
    /// <param name="source">Where the text came from: names it in error messages and becomes <see cref="VmPoolerOptions.Source"/>.</param>
    /// <exception cref="ConfigException">The YAML is malformed, an extra file is unreadable or any value is invalid.</exception>
    public static VmPoolerOptions LoadYaml(
        string yaml,
        IReadOnlyDictionary<string, string?> environment,
        string source,
        string? baseDirectory = null,
        IVmProviderFactory? providers = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(source);

        return LoadCore(yaml, source, source, environment, baseDirectory ?? Directory.GetCurrentDirectory(), processExtraConfig: true, providers);
    }

    private static VmPoolerOptions LoadFile(
        string path,
        string source,
        string origin,
        IReadOnlyDictionary<string, string?> environment,
        string baseDirectory,
        IVmProviderFactory? providers)
    {
        var errors = new List<string>();
        var yaml = ReadFile(path, origin, errors);
        if (yaml is null)
        {
            throw new ConfigException(errors);
        }

        return LoadCore(yaml, source, path, environment, baseDirectory, processExtraConfig: true, providers);
    }

    private static VmPoolerOptions LoadCore(
        string yaml,
        string source,
        string label,
        IReadOnlyDictionary<string, string?> environment,
        string baseDirectory,
        bool processExtraConfig,
        IVmProviderFactory? providers)
    {
        var errors = new List<string>();
        var tree = YamlTree.Parse(yaml, label, errors);
        if (tree is null)
        {
            throw new ConfigException(errors);
        }

        if (processExtraConfig)
        {
            MergeExtraConfig(tree, environment, baseDirectory, errors);
            if (errors.Count > 0)
            {
                throw new ConfigException(errors);
            }
        }

        CopyLegacyVsphere(tree);
        EnvironmentOverrides.Apply(tree, environment);

        var mapper = new ConfigMapper(environment, providers);
        var options = mapper.Map(tree, source);
        if (mapper.Errors.Count > 0)
        {
            throw new ConfigException(mapper.Errors);
        }

        return options;
    }

    /// <summary>
    /// Merges the files listed by env <c>EXTRA_CONFIG</c>, else by <c>config.extra_config</c> (comma-separated; a
    /// YAML list is accepted too) into <paramref name="tree"/>, in order (spec §5.1).
    /// </summary>
    private static void MergeExtraConfig(
        Dictionary<string, object?> tree, IReadOnlyDictionary<string, string?> environment, string baseDirectory, List<string> errors)
    {
        var paths = new List<string>();
        if (EnvironmentOverrides.Get(environment, EnvironmentOverrides.ExtraConfigVariable) is { } fromEnvironment)
        {
            paths.AddRange(SplitList(fromEnvironment));
        }
        else if (tree.TryGetValue("config", out var config) && config is Dictionary<string, object?> section
                 && section.TryGetValue("extra_config", out var extra))
        {
            switch (extra)
            {
                case null:
                    break;
                case string text:
                    paths.AddRange(SplitList(text));
                    break;
                case List<object?> items when items.TrueForAll(item => item is string):
                    foreach (var item in items)
                    {
                        paths.AddRange(SplitList((string)item!));
                    }

                    break;
                default:
                    errors.Add("config.extra_config: must be a comma-separated list of file paths (got " + ConfigReader.Describe(extra) + ")");
                    break;
            }
        }

        foreach (var relative in paths)
        {
            var path = Path.GetFullPath(relative, baseDirectory);
            var yaml = ReadFile(path, " (listed in extra_config)", errors);
            if (yaml is not null && YamlTree.Parse(yaml, path, errors) is { } extraTree)
            {
                YamlTree.Merge(tree, extraTree);
            }
        }
    }

    /// <summary>Spec §5.2: a legacy top-level <c>:vsphere:</c> becomes <c>providers.vsphere</c> unless that exists.</summary>
    private static void CopyLegacyVsphere(Dictionary<string, object?> tree)
    {
        if (!tree.TryGetValue("vsphere", out var vsphere) || vsphere is null)
        {
            return;
        }

        if (!tree.TryGetValue("providers", out var providers) || providers is null)
        {
            providers = new Dictionary<string, object?>(StringComparer.Ordinal);
            tree["providers"] = providers;
        }

        if (providers is Dictionary<string, object?> map && !map.ContainsKey("vsphere"))
        {
            map["vsphere"] = vsphere;
        }
    }

    private static IEnumerable<string> SplitList(string value)
        => value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string? ReadFile(string path, string origin, List<string> errors)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or System.Security.SecurityException)
        {
            errors.Add(path + ": cannot read the configuration file" + origin + ": " + ex.Message);
            return null;
        }
    }
}
