using System.Globalization;
using System.Xml.Linq;

namespace VmPooler.Providers.VSphere;

/// <summary>One object of a PropertyCollector answer: its reference and the properties asked for (absent when unset).</summary>
internal sealed class ObjectContent(MoRef obj, IReadOnlyDictionary<string, XElement> properties)
{
    public MoRef Obj { get; } = obj;

    /// <summary>Property path → its <c>val</c> element.</summary>
    public IReadOnlyDictionary<string, XElement> Properties { get; } = properties;

    public XElement? Element(string path) => Properties.TryGetValue(path, out var value) ? value : null;

    public string? String(string path) => Element(path)?.Value;

    public MoRef? Ref(string path) => Element(path) is { } value ? VimXml.ToRef(value) : null;

    public bool? Bool(string path) => Element(path) is { } value ? string.Equals(value.Value, "true", StringComparison.OrdinalIgnoreCase) : null;

    public long? Long(string path)
        => long.TryParse(String(path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public DateTimeOffset? Time(string path)
        => DateTimeOffset.TryParse(String(path), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;

    /// <summary>The references in an array-of-ManagedObjectReference property (e.g. <c>childEntity</c>, <c>host</c>).</summary>
    public IReadOnlyList<MoRef> Refs(string path)
        => Element(path) is { } value ? [.. value.Elements().Select(VimXml.ToRef)] : [];
}
