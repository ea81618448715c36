using System.Globalization;
using System.Xml.Linq;

namespace VmPooler.Providers.Libvirt;

/// <summary>Reads and rewrites libvirt domain XML: a template domain into a clone, disks and their targets.</summary>
internal static class DomainXml
{
    public const string QemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0";

    private static readonly XNamespace Qemu = QemuNamespace;

    /// <summary>What makes a clone different from its template.</summary>
    public sealed record CloneSpec(string Name, string DiskPath, VmMetadata Metadata, int? MemoryMiB, int? Cpus, string? ForwardAddress);

    /// <summary>
    /// The template's XML turned into the clone's: new name, no UUID (libvirt makes one), no MAC addresses (libvirt makes
    /// them), the first disk replaced by the clone's overlay (further writable disks dropped: clones must not share
    /// them), the vmpooler metadata, optional memory and CPU counts, and, when <see cref="CloneSpec.ForwardAddress"/> is
    /// set, a user-mode NIC whose guest port 22 is forwarded to that address and the metadata's port (instead of the
    /// template's interfaces).
    /// </summary>
    public static string Clone(string templateXml, CloneSpec spec)
    {
        var doc = XDocument.Parse(templateXml);
        var domain = doc.Root ?? throw new LibvirtException("template domain XML has no root element", LibvirtErrorCode.XmlError);
        Set(domain, "name", spec.Name);
        domain.Element("uuid")?.Remove();
        domain.Element("description")?.Remove();
        var devices = domain.Element("devices") ?? throw new LibvirtException("template domain has no <devices>", LibvirtErrorCode.XmlError);
        foreach (var mac in devices.Elements("interface").Elements("mac").ToList())
        {
            mac.Remove();
        }

        ReplaceDisk(devices, spec.DiskPath);
        SetMetadata(domain, spec.Metadata);
        if (spec.MemoryMiB is { } memory)
        {
            domain.Element("currentMemory")?.Remove();
            Set(domain, "memory", memory.ToString(CultureInfo.InvariantCulture)).SetAttributeValue("unit", "MiB");
        }

        if (spec.Cpus is { } cpus)
        {
            Set(domain, "vcpu", cpus.ToString(CultureInfo.InvariantCulture));
        }

        if (spec.ForwardAddress is { } address && spec.Metadata.SshPort is { } port)
        {
            devices.Elements("interface").Remove();
            AddForward(domain, address, port);
        }

        return doc.ToString(SaveOptions.DisableFormatting);
    }

    private static void ReplaceDisk(XElement devices, string path)
    {
        var disks = devices.Elements("disk").Where(d => ((string?)d.Attribute("device") ?? "disk") == "disk").ToList();
        var first = disks.FirstOrDefault() ?? throw new LibvirtException("template domain has no disk to clone", LibvirtErrorCode.XmlError);
        foreach (var other in disks.Skip(1).Where(d => d.Element("readonly") is null && d.Element("shareable") is null))
        {
            other.Remove();
        }

        first.SetAttributeValue("type", "file");
        first.Element("source")?.Remove();
        first.Element("backingStore")?.Remove();
        var driver = first.Element("driver");
        if (driver is null)
        {
            driver = new XElement("driver", new XAttribute("name", "qemu"));
            first.AddFirst(driver);
        }

        driver.SetAttributeValue("type", "qcow2");
        driver.AddAfterSelf(new XElement("source", new XAttribute("file", path)));
    }

    private static void SetMetadata(XElement domain, VmMetadata metadata)
    {
        var container = domain.Element("metadata");
        if (container is null)
        {
            container = new XElement("metadata");
            (domain.Element("description") ?? domain.Element("uuid") ?? domain.Element("name")!).AddAfterSelf(container);
        }

        container.Elements().Where(e => e.Name.NamespaceName == VmMetadata.Namespace).Remove();
        container.Add(metadata.ToElement());
    }

    private static void AddForward(XElement domain, string address, int port)
    {
        domain.Elements(Qemu + "commandline").Remove();
        domain.SetAttributeValue(XNamespace.Xmlns + "qemu", QemuNamespace);
        // A fixed PCI slot well above what libvirt assigns, so the NIC never takes the slot libvirt gave a disk.
        domain.Add(new XElement(
            Qemu + "commandline",
            Arg("-netdev"),
            Arg(string.Create(CultureInfo.InvariantCulture, $"user,id=vmpnet0,hostfwd=tcp:{address}:{port}-:22")),
            Arg("-device"),
            Arg("virtio-net-pci,netdev=vmpnet0,romfile=,bus=pci.0,addr=0x1e")));
    }

    private static XElement Arg(string value) => new(Qemu + "arg", new XAttribute("value", value));

    private static XElement Set(XElement parent, string name, string value)
    {
        var element = parent.Element(name);
        if (element is null)
        {
            element = new XElement(name);
            parent.Add(element);
        }

        element.RemoveAttributes();
        element.Value = value;
        return element;
    }

    /// <summary>Source files (or <c>pool/volume</c> pairs) of the domain's disks, in order.</summary>
    public static IReadOnlyList<(string? File, string? Pool, string? Volume)> Disks(string xml)
        => [.. XDocument.Parse(xml).Root!.Element("devices")?.Elements("disk")
            .Where(d => ((string?)d.Attribute("device") ?? "disk") == "disk")
            .Select(d => d.Element("source"))
            .Where(s => s is not null)
            .Select(s => ((string?)s!.Attribute("file"), (string?)s.Attribute("pool"), (string?)s.Attribute("volume"))) ?? []];

    /// <summary>The first free virtio target name (<c>vdb</c>, <c>vdc</c>, …).</summary>
    public static string NextTarget(string xml)
    {
        var used = XDocument.Parse(xml).Root!.Descendants("target").Select(t => (string?)t.Attribute("dev")).OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (var c = 'b'; c <= 'z'; c++)
        {
            var name = "vd" + c;
            if (!used.Contains(name))
            {
                return name;
            }
        }

        throw new LibvirtException("no free virtio disk target left", LibvirtErrorCode.OperationFailed);
    }

    /// <summary>Capacity (bytes), format and path of a volume from its XML.</summary>
    public static (ulong Capacity, string Format, string Path) Volume(string xml)
    {
        var root = XDocument.Parse(xml).Root!;
        var capacity = ulong.Parse(root.Element("capacity")?.Value ?? "0", CultureInfo.InvariantCulture);
        var target = root.Element("target");
        return (capacity, (string?)target?.Element("format")?.Attribute("type") ?? "raw", target?.Element("path")?.Value ?? "");
    }

    /// <summary>XML of a qcow2 volume: an overlay on <paramref name="backingPath"/> when given, else empty.</summary>
    public static string NewVolume(string name, ulong capacity, string? backingPath, string? backingFormat)
    {
        var volume = new XElement(
            "volume",
            new XElement("name", name),
            new XElement("capacity", new XAttribute("unit", "bytes"), capacity.ToString(CultureInfo.InvariantCulture)),
            new XElement("target", new XElement("format", new XAttribute("type", "qcow2"))));
        if (backingPath is not null)
        {
            volume.Add(new XElement("backingStore", new XElement("path", backingPath), new XElement("format", new XAttribute("type", backingFormat ?? "qcow2"))));
        }

        return volume.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>XML of a hot-added qcow2 disk.</summary>
    public static string DiskDevice(string path, string target)
        => new XElement(
            "disk",
            new XAttribute("type", "file"),
            new XAttribute("device", "disk"),
            new XElement("driver", new XAttribute("name", "qemu"), new XAttribute("type", "qcow2")),
            new XElement("source", new XAttribute("file", path)),
            new XElement("target", new XAttribute("dev", target), new XAttribute("bus", "virtio"))).ToString(SaveOptions.DisableFormatting);
}
