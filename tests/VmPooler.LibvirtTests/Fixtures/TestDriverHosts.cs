using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Providers.Libvirt;

namespace VmPooler.LibvirtTests.Fixtures;

/// <summary>
/// Hosts of libvirt's <c>test:///</c> driver, each from a node XML file: the node's memory, a storage pool
/// <c>default</c> holding the template volume, a template domain <c>tmpl</c> (shut off: runstate 5) and a network <c>default</c>,
/// so the driver reports guest addresses. Every connection to a file URI gets its own fresh copy of the node.
/// </summary>
public sealed class TestDriverHosts : IDisposable
{
    public const string Template = "tmpl";

    private readonly string _directory = Directory.CreateTempSubdirectory("vmp-libvirt-test-").FullName;

    /// <summary>The URI of a new node file with <paramref name="memoryMiB"/> of memory.</summary>
    public string Host(string name, int memoryMiB)
    {
        var path = Path.Combine(_directory, name + ".xml");
        File.WriteAllText(path, string.Create(CultureInfo.InvariantCulture, $"""
            <node>
              <cpu><mhz>2000</mhz><model>x86_64</model><active>4</active><nodes>1</nodes><sockets>1</sockets><cores>4</cores><threads>1</threads></cpu>
              <memory>{memoryMiB * 1024}</memory>
              <network>
                <name>default</name>
                <bridge name='virbr0'/>
                <forward/>
                <ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip>
              </network>
              <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                <name>{Template}</name>
                <test:runstate>5</test:runstate>
                <memory unit='MiB'>256</memory>
                <os><type>hvm</type></os>
                <devices>
                  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/vmp-{name}/tmpl.qcow2'/><target dev='vda' bus='virtio'/></disk>
                  <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/></interface>
                </devices>
              </domain>
              <pool type='dir'>
                <name>default</name>
                <target><path>/vmp-{name}</path></target>
                <volume><name>tmpl.qcow2</name><capacity unit='MiB'>64</capacity><target><format type='qcow2'/></target></volume>
              </pool>
            </node>
            """));
        return "test://" + path;
    }

    internal static LibvirtProviderOptions Options(params string[] uris) => new()
    {
        Hosts = [.. uris.Select(u => new LibvirtHostOptions { Uri = u })],
        CallTimeout = TimeSpan.FromSeconds(10),
        StartTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A pool of <see cref="Template"/> that counts a running domain with an address as ready.</summary>
    public static PoolOptions Pool(string name, int memoryMiB = 256) => new()
    {
        Name = name,
        Template = Template,
        Provider = "libvirt",
        Settings = new Dictionary<string, object?>
        {
            ["network"] = "template",
            ["ready_check"] = "running",
            ["memory"] = memoryMiB.ToString(CultureInfo.InvariantCulture),
        },
    };

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
