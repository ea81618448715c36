using System.Text.RegularExpressions;

namespace VmPooler.Core.Configuration;

/// <summary>The <c>:providers:</c> and <c>:pools:</c> sections.</summary>
internal sealed partial class ConfigMapper
{
    private Dictionary<string, ProviderOptions> MapProviders(Dictionary<string, object?>? section)
    {
        var result = new Dictionary<string, ProviderOptions>(StringComparer.Ordinal);
        if (section is null)
        {
            return result;
        }

        foreach (var (name, value) in section)
        {
            var path = ConfigReader.Child("providers", name);
            if (value is not null && _reader.AsMapping(value, path) is null)
            {
                continue;
            }

            var settings = value as Dictionary<string, object?> ?? new Dictionary<string, object?>(StringComparer.Ordinal);
            var providerClass = _reader.ReadString(settings, "provider_class", path + ".provider_class");
            if (providerClass is not null && !ClassExists(providerClass))
            {
                _reader.Error(
                    path + ".provider_class",
                    "unknown provider class " + ConfigReader.Describe(providerClass) + " (known: " + KnownClassList() + ")");
            }
            else if (providerClass is null && !HasValue(settings, "provider_class") && !ClassExists(name))
            {
                _reader.Error(
                    path,
                    "unknown provider class " + ConfigReader.Describe(name) + "; set provider_class (known: " + KnownClassList() + ")");
            }

            result[name] = new ProviderOptions { Name = name, ProviderClass = providerClass ?? name, Settings = settings };
        }

        return result;
    }

    private List<(int Index, PoolOptions Pool)> MapPools(
        Dictionary<string, object?> tree,
        GlobalOptions global,
        Dictionary<string, ProviderOptions> providers,
        Dictionary<string, DnsConfigOptions> dnsConfigs)
    {
        var pools = new List<(int Index, PoolOptions Pool)>();
        tree.TryGetValue("pools", out var section);
        switch (section)
        {
            case null:
            case List<object?> { Count: 0 }:
                _reader.Error("pools", "at least one pool is required");
                return pools;
            case not List<object?>:
                _reader.Error("pools", "must be a list of pools (got " + ConfigReader.Describe(section) + ")");
                return pools;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = (List<object?>)section;
        for (var i = 0; i < entries.Count; i++)
        {
            var path = ConfigReader.Item("pools", i);
            if (entries[i] is not Dictionary<string, object?> entry)
            {
                _reader.Error(path, "must be a mapping with at least name and size (got " + ConfigReader.Describe(entries[i]) + ")");
                continue;
            }

            if (MapPool(entry, path, global, providers, dnsConfigs, names) is { } pool)
            {
                pools.Add((i, pool));
            }
        }

        return pools;
    }

    private PoolOptions? MapPool(
        Dictionary<string, object?> entry,
        string path,
        GlobalOptions global,
        Dictionary<string, ProviderOptions> providers,
        Dictionary<string, DnsConfigOptions> dnsConfigs,
        HashSet<string> names)
    {
        var name = MapPoolName(entry, path, names);

        var aliases = _reader.ReadStringList(entry, "alias", path + ".alias") ?? [];
        entry.TryGetValue("alias", out var rawAlias);
        object? aliasAsConfigured = rawAlias switch
        {
            string text => text,
            List<object?> => new List<string>(aliases),
            _ => null,
        };

        int? size = null;
        if (!HasValue(entry, "size"))
        {
            _reader.Error(path + ".size", "is required (an integer ≥ 0; 0 = on-demand only)");
        }
        else
        {
            size = _reader.ReadInt(entry, "size", path + ".size", 0);
        }

        var providerName = _reader.ReadString(entry, "provider", path + ".provider") ?? DummyClass;
        var provider = ResolveProvider(providerName, path + ".provider", providers);

        var template = _reader.ReadString(entry, "template", path + ".template");
        if (string.IsNullOrWhiteSpace(template) && (template is not null || !HasValue(entry, "template")) && provider is not null)
        {
            if (string.Equals(provider.ProviderClass, DummyClass, StringComparison.OrdinalIgnoreCase))
            {
                template = name;
            }
            else
            {
                _reader.Error(
                    path + ".template",
                    "is required for provider " + ConfigReader.Describe(providerName)
                        + " (class " + ConfigReader.Describe(provider.ProviderClass) + ")");
            }
        }

        var dnsPlugin = _reader.ReadString(entry, "dns_plugin", path + ".dns_plugin");
        if (dnsPlugin is not null && !dnsConfigs.ContainsKey(dnsPlugin))
        {
            _reader.Error(
                path + ".dns_plugin",
                "no dns_configs entry " + ConfigReader.Describe(dnsPlugin)
                    + (dnsConfigs.Count == 0 ? " (there is no :dns_configs: section)" : " (known: " + string.Join(", ", dnsConfigs.Keys) + ")"));
        }

        var min = _reader.ReadDuration(entry, "check_loop_delay_min", path + ".check_loop_delay_min", DurationUnit.Seconds, NumberRule.Positive);
        var max = _reader.ReadDuration(entry, "check_loop_delay_max", path + ".check_loop_delay_max", DurationUnit.Seconds, NumberRule.Positive);
        var decay = _reader.ReadNumber(entry, "check_loop_delay_decay", path + ".check_loop_delay_decay", NumberRule.Any);
        if (decay <= 1.0)
        {
            decay = GlobalOptions.DefaultCheckLoopDelayDecay;
        }

        // Spec §4.2 / Q10: global values first, then the pool's; the effective max is never below the effective min.
        if ((max ?? global.CheckLoopDelayMax) < (min ?? global.CheckLoopDelayMin))
        {
            max = min ?? global.CheckLoopDelayMin;
        }

        if (name is null)
        {
            return null;
        }

        return new PoolOptions
        {
            Name = name,
            Aliases = aliases,
            AliasAsConfigured = aliasAsConfigured,
            Template = template ?? "",
            Size = size ?? 0,
            Provider = providerName,
            DnsPlugin = dnsPlugin,
            CloneTarget = _reader.ReadString(entry, "clone_target", path + ".clone_target"),
            Timeout = _reader.ReadDuration(entry, "timeout", path + ".timeout", DurationUnit.Minutes, NumberRule.Positive),
            TimeoutNotification = _reader.ReadDuration(entry, "timeout_notification", path + ".timeout_notification", DurationUnit.Minutes, NumberRule.NonNegative),
            ReadyTtl = _reader.ReadDuration(entry, "ready_ttl", path + ".ready_ttl", DurationUnit.Minutes, NumberRule.Positive),
            CheckLoopDelayMin = min,
            CheckLoopDelayMax = max,
            CheckLoopDelayDecay = decay,
            Settings = entry,
            Labels = MapLabels(entry, path + ".labels"),
        };
    }

    /// <summary>
    /// <c>labels:</c>, a mapping of non-empty strings (what <c>--pools-label key=value</c> selects on, so a name holds no
    /// <c>=</c>). Absent: no labels.
    /// </summary>
    private Dictionary<string, string> MapLabels(Dictionary<string, object?> entry, string path)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in _reader.ReadMapping(entry, "labels", path) ?? [])
        {
            var labelPath = ConfigReader.Child(path, name);
            if (string.IsNullOrWhiteSpace(name) || name.Contains('=', StringComparison.Ordinal))
            {
                _reader.Error(path, "label names must be non-empty and hold no '=' (got " + ConfigReader.Describe(name) + ")");
            }
            else if (value is not string text || string.IsNullOrWhiteSpace(text))
            {
                _reader.Error(labelPath, "must be a non-empty string (got " + ConfigReader.Describe(value) + ")");
            }
            else
            {
                labels[name] = text;
            }
        }

        return labels;
    }

    /// <summary>The pool's name, or null when it is missing, malformed or a duplicate (each recorded as an error).</summary>
    private string? MapPoolName(Dictionary<string, object?> entry, string path, HashSet<string> names)
    {
        var namePath = path + ".name";
        var name = _reader.ReadString(entry, "name", namePath);
        if (name is null)
        {
            if (!HasValue(entry, "name"))
            {
                _reader.Error(namePath, "is required");
            }

            return null;
        }

        if (!PoolNamePattern().IsMatch(name))
        {
            _reader.Error(namePath, "must match [A-Za-z0-9_-]+ (got " + ConfigReader.Describe(name) + ")");
            return null;
        }

        if (!names.Add(name))
        {
            _reader.Error(namePath, "duplicate pool name " + ConfigReader.Describe(name));
            return null;
        }

        return name;
    }

    /// <summary>
    /// The provider instance a pool names. An instance under <c>:providers:</c> always resolves; a name that is not
    /// there resolves when it is itself a known provider class (then an instance with no settings is added).
    /// </summary>
    private ProviderOptions? ResolveProvider(string name, string path, Dictionary<string, ProviderOptions> providers)
    {
        if (providers.TryGetValue(name, out var provider))
        {
            return provider;
        }

        if (_factory is null ? string.Equals(name, DummyClass, StringComparison.Ordinal) : ClassExists(name))
        {
            provider = new ProviderOptions { Name = name, ProviderClass = name };
            providers[name] = provider;
            return provider;
        }

        var known = new SortedSet<string>(providers.Keys, StringComparer.Ordinal);
        known.UnionWith(_factory?.KnownClasses ?? [DummyClass]);
        _reader.Error(path, "unknown provider " + ConfigReader.Describe(name) + " (known: " + string.Join(", ", known) + ")");
        return null;
    }

    /// <summary>Lets the provider factory check each instance and the pools using it.</summary>
    private void ValidateProviders(
        Dictionary<string, ProviderOptions> providers, List<(int Index, PoolOptions Pool)> pools, Dictionary<string, object?>? rawConfig, GlobalOptions global)
    {
        if (_factory is null)
        {
            return;
        }

        foreach (var provider in providers.Values)
        {
            if (ClassExists(provider.ProviderClass))
            {
                var users = pools.FindAll(entry => string.Equals(entry.Pool.Provider, provider.Name, StringComparison.Ordinal));
                _reader.AddRange(_factory.Validate(provider, users, rawConfig, global));
            }
        }
    }

    /// <summary>Whether a provider class exists; without a factory every class is accepted.</summary>
    private bool ClassExists(string providerClass)
        => _factory is null || _factory.KnownClasses.Contains(providerClass, StringComparer.OrdinalIgnoreCase);

    private string KnownClassList()
        => _factory is null ? "any" : string.Join(", ", _factory.KnownClasses.Order(StringComparer.Ordinal));

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex PoolNamePattern();
}
