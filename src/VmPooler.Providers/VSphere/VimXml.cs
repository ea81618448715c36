using System.Globalization;
using System.Xml.Linq;

namespace VmPooler.Providers.VSphere;

/// <summary>Builds and reads the XML of the vSphere Web Services API (namespace <c>urn:vim25</c>).</summary>
internal static class VimXml
{
    public static readonly XNamespace Vim = "urn:vim25";
    public static readonly XNamespace Soap = "http://schemas.xmlsoap.org/soap/envelope/";
    public static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    public static readonly XNamespace Xsd = "http://www.w3.org/2001/XMLSchema";

    /// <summary>An element in the vim25 namespace. Null content items are skipped, so optional fields can be passed as null.</summary>
    public static XElement El(string name, params object?[] content) => new(Vim + name, content.Where(c => c is not null));

    /// <summary>An element carrying a managed object reference, e.g. <c>&lt;_this type="Folder"&gt;group-v3&lt;/_this&gt;</c>.</summary>
    public static XElement Ref(string name, MoRef reference) => new(Vim + name, new XAttribute("type", reference.Type), reference.Value);

    /// <summary>An element with an <c>xsi:type</c>, for fields whose declared type is a base type.</summary>
    public static XElement Typed(string name, string type, params object?[] content)
        => new(Vim + name, new object?[] { new XAttribute(Xsi + "type", type) }.Concat(content).Where(c => c is not null));

    public static XElement? Opt(string name, string? value) => value is null ? null : El(name, value);

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>An <c>OptionValue</c> (extraConfig entry) with a string value.</summary>
    public static XElement OptionValue(string name, string key, string value)
        => Typed(name, "OptionValue", El("key", key), new XElement(Vim + "value", new XAttribute(Xsi + "type", "xsd:string"), value));

    public static XDocument Envelope(XElement body)
        => new(new XElement(
            Soap + "Envelope",
            new XAttribute(XNamespace.Xmlns + "soapenv", Soap.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "xsi", Xsi.NamespaceName),
            new XAttribute(XNamespace.Xmlns + "xsd", Xsd.NamespaceName),
            new XElement(Soap + "Body", body)));

    /// <summary>The <c>xsi:type</c> of an element without its prefix, or null.</summary>
    public static string? TypeOf(XElement element)
    {
        var type = (string?)element.Attribute(Xsi + "type");
        if (type is null)
        {
            return null;
        }

        var colon = type.IndexOf(':', StringComparison.Ordinal);
        return colon >= 0 ? type[(colon + 1)..] : type;
    }

    public static MoRef ToRef(XElement element) => new((string?)element.Attribute("type") ?? "", element.Value.Trim());

    public static XElement? Child(this XElement element, string name) => element.Element(Vim + name);

    public static IEnumerable<XElement> ChildrenNamed(this XElement element, string name) => element.Elements(Vim + name);

    public static string? ChildValue(this XElement element, string name) => element.Element(Vim + name)?.Value;

    public static int? ChildInt(this XElement element, string name)
        => int.TryParse(element.ChildValue(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public static long? ChildLong(this XElement element, string name)
        => long.TryParse(element.ChildValue(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
