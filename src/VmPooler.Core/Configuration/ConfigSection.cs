namespace VmPooler.Core.Configuration;

/// <summary>
/// One mapping of the configuration (a provider's section, a pool entry) bound to its key path, read through a
/// <see cref="ConfigReader"/>: <c>section.Int("memory", 64, 1 &lt;&lt; 20)</c> reads <c>memory</c> with the reader's
/// rules and records a problem as <c>providers.qemu.memory: …</c>. It holds no rules of its own.
/// </summary>
public readonly struct ConfigSection(ConfigReader reader, IReadOnlyDictionary<string, object?> map, string path)
{
    /// <summary>The reader every value goes through (and every problem goes to).</summary>
    public ConfigReader Reader { get; } = reader;

    /// <summary>The key path of this mapping: <c>providers.qemu</c>, <c>pools[2]</c>.</summary>
    public string Path { get; } = path;

    /// <summary>The mapping as written.</summary>
    public IReadOnlyDictionary<string, object?> Map { get; } = map;

    /// <summary>The key path of <paramref name="key"/> in this mapping.</summary>
    public string PathOf(string key) => ConfigReader.Child(Path, key);

    /// <summary>Records a problem at <paramref name="key"/> of this mapping.</summary>
    public void Error(string key, string message) => Reader.Error(PathOf(key), message);

    /// <summary>Whether <paramref name="key"/> is present with a value other than null.</summary>
    public bool Has(string key) => ConfigReader.HasValue(Map, key);

    /// <inheritdoc cref="ConfigReader.ReadString"/>
    public string? String(string key) => Reader.ReadString(Map, key, PathOf(key));

    /// <inheritdoc cref="ConfigReader.ReadRequiredString"/>
    public string? RequiredString(string key, string what) => Reader.ReadRequiredString(Map, key, PathOf(key), what);

    /// <inheritdoc cref="ConfigReader.ReadInt"/>
    public int? Int(string key, int min = int.MinValue, int max = int.MaxValue) => Reader.ReadInt(Map, key, PathOf(key), min, max);

    /// <inheritdoc cref="ConfigReader.ReadBool"/>
    public bool? Bool(string key) => Reader.ReadBool(Map, key, PathOf(key));

    /// <inheritdoc cref="ConfigReader.ReadSeconds"/>
    public TimeSpan? Seconds(string key, NumberRule rule, double maxSeconds = ConfigReader.MaxDurationSeconds)
        => Reader.ReadSeconds(Map, key, PathOf(key), rule, maxSeconds);

    /// <inheritdoc cref="ConfigReader.ReadPercent"/>
    public double? Percent(string key) => Reader.ReadPercent(Map, key, PathOf(key));

    /// <inheritdoc cref="ConfigReader.ReadStringList"/>
    public List<string>? StringList(string key) => Reader.ReadStringList(Map, key, PathOf(key));

    /// <inheritdoc cref="ConfigReader.ReadStringMap"/>
    public List<KeyValuePair<string, string>>? StringMap(string key) => Reader.ReadStringMap(Map, key, PathOf(key));
}
