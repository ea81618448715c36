using System.Globalization;
using System.Xml.Linq;

namespace VmPooler.Providers.Libvirt;

/// <summary>
/// What vmpooler records in a domain it creates, as <c>&lt;metadata&gt;&lt;vmpooler:vm&gt;&lt;vmpooler:pool&gt;…</c>: the
/// pool (so a domain of a pool is found by any later process, leaked ones included), the template, the creation time
/// and the forwarded SSH port. Domains without it are never listed, touched or destroyed.
/// </summary>
internal sealed record VmMetadata(string Pool, string Template, DateTimeOffset? Created, int? SshPort)
{
    public const string Namespace = "https://github.com/puppetlabs/vmpooler/libvirt/1";
    public const string Prefix = "vmpooler";

    private static readonly XNamespace Ns = Namespace;

    public XElement ToElement()
    {
        var element = new XElement(
            Ns + "vm",
            new XAttribute(XNamespace.Xmlns + Prefix, Namespace),
            new XElement(Ns + "pool", Pool),
            new XElement(Ns + "template", Template));
        if (Created is { } created)
        {
            element.Add(new XElement(Ns + "created", created.ToString("O", CultureInfo.InvariantCulture)));
        }

        if (SshPort is { } port)
        {
            element.Add(new XElement(Ns + "ssh_port", port.ToString(CultureInfo.InvariantCulture)));
        }

        return element;
    }

    public static VmMetadata? Parse(string xml)
    {
        XElement root;
        try
        {
            root = XElement.Parse(xml);
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }

        // libvirt hands the element back without its namespace (<vm><pool>…): match local names.
        string? Child(string name) => root.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        var pool = Child("pool");
        if (string.IsNullOrEmpty(pool))
        {
            return null;
        }

        DateTimeOffset? created = DateTimeOffset.TryParse(Child("created"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var c) ? c : null;
        int? port = int.TryParse(Child("ssh_port"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : null;
        return new VmMetadata(pool, Child("template") ?? "", created, port);
    }
}
