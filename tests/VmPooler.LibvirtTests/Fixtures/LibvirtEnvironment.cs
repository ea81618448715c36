using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Providers.Libvirt;
using VmPooler.QemuTests.Fixtures;
using Xunit.Abstractions;

namespace VmPooler.LibvirtTests.Fixtures;

/// <summary>
/// What the real-VM tests share: a running libvirtd, the tiny guest of guest/build-guest.sh, a dir storage pool holding
/// its disk as the template volume, and a template domain booting it (TCG, 160 MiB). At the end every domain vmpooler
/// made in the storage pool is destroyed and counted (a leak fails the run), the template and pool are removed and a
/// libvirtd the fixture started is stopped.
/// </summary>
public sealed class LibvirtEnvironment : IAsyncLifetime
{
    public const string Uri = "qemu:///system";
    public const string StoragePool = "vmpooler-test";
    public const string Template = "vmpooler-test-tiny";

    public LibvirtDaemon Daemon { get; } = new();

    public string GuestDirectory { get; private set; } = "";

    public string PoolDirectory { get; } = "/var/tmp/vmpooler-libvirt-test-pool";

    public string Key => GuestImage.KeyOf(GuestDirectory);

    public async Task InitializeAsync()
    {
        GuestDirectory = await GuestImage.GetAsync();
        await Daemon.StartAsync();
        await RemoveLeftoversAsync();
        Directory.CreateDirectory(PoolDirectory);
        File.Copy(Path.Combine(GuestDirectory, "base.qcow2"), Path.Combine(PoolDirectory, "tiny-base.qcow2"), overwrite: true);
        await Commands.CheckAsync("virsh", "-c", Uri, "pool-define-as", StoragePool, "dir", "--target", PoolDirectory);
        await Commands.CheckAsync("virsh", "-c", Uri, "pool-start", StoragePool);
        var xml = Path.Combine(PoolDirectory, "template.xml");
        await File.WriteAllTextAsync(xml, TemplateXml());
        await Commands.CheckAsync("virsh", "-c", Uri, "define", xml);
    }

    /// <summary>The template domain: the guest's kernel and initrd, its disk as root, no NIC (the provider adds one).</summary>
    private string TemplateXml() => $"""
        <domain type='qemu'>
          <name>{Template}</name>
          <memory unit='MiB'>160</memory>
          <vcpu>1</vcpu>
          <os>
            <type arch='x86_64' machine='pc'>hvm</type>
            <kernel>{GuestDirectory}/vmlinuz</kernel>
            <initrd>{GuestDirectory}/initrd.img</initrd>
            <cmdline>console=ttyS0 panic=-1 quiet root=/dev/vda vm.hostkey=generate</cmdline>
          </os>
          <features><acpi/><apic/></features>
          <cpu mode='maximum'/>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='{PoolDirectory}/tiny-base.qcow2'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <serial type='pty'/>
            <console type='pty'/>
            <memballoon model='none'/>
          </devices>
        </domain>
        """;

    /// <summary>
    /// Defines (does not start) a domain of <paramref name="pool"/> as a crashed manager could leave one: an overlay
    /// volume on the template's disk and a domain carrying the pool's metadata. Defining is one step, so a manager
    /// running meanwhile sees it complete or not at all.
    /// </summary>
    public async Task DefineLeakedDomainAsync(string name, string pool)
    {
        await Commands.CheckAsync("virsh", "-c", Uri, "vol-create-as", StoragePool, name + ".qcow2", "128M", "--format", "qcow2", "--backing-vol", "tiny-base.qcow2", "--backing-vol-format", "qcow2");
        var xml = TemplateXml()
            .Replace($"<name>{Template}</name>", $"<name>{name}</name><metadata><vmpooler:vm xmlns:vmpooler='{VmMetadataNamespace}'><vmpooler:pool>{pool}</vmpooler:pool></vmpooler:vm></metadata>", StringComparison.Ordinal)
            .Replace($"{PoolDirectory}/tiny-base.qcow2", $"{PoolDirectory}/{name}.qcow2", StringComparison.Ordinal);
        var file = Path.Combine(PoolDirectory, name + ".xml.tmp");
        await File.WriteAllTextAsync(file, xml);
        try
        {
            await Commands.CheckAsync("virsh", "-c", Uri, "define", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    internal LibvirtProviderOptions Options(params string[] uris) => new()
    {
        Hosts = [.. (uris.Length == 0 ? [Uri] : uris).Select(u => new LibvirtHostOptions { Uri = u })],
        CallTimeout = TimeSpan.FromSeconds(60),
        StartTimeout = TimeSpan.FromSeconds(120),
        MaxConcurrentPerHost = 4,
    };

    /// <summary>A pool of the tiny guest (forwarded SSH, banner check) with a name no other test uses.</summary>
    public PoolOptions Pool(string name, int size = 0) => new()
    {
        Name = name,
        Template = Template,
        Size = size,
        Provider = "libvirt",
        Settings = new Dictionary<string, object?> { ["storage_pool"] = StoragePool, ["memory"] = "160" },
    };

    public static ILogger Logger(ITestOutputHelper output)
        => LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new XunitLoggerProvider(output))).CreateLogger<LibvirtProvider>();

    /// <summary>Names of the domains on the daemon carrying vmpooler metadata of <paramref name="pool"/> (any pool when null).</summary>
    public async Task<IReadOnlyList<string>> DomainsAsync(string? pool = null)
    {
        var names = (await Commands.CheckAsync("virsh", "-c", Uri, "list", "--all", "--name")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ours = new List<string>();
        foreach (var name in names)
        {
            var metadata = await Commands.VirshAsync(Uri, "metadata", name, VmMetadataNamespace);
            if (metadata.ExitCode == 0 && (pool is null || metadata.Output.Contains($"<pool>{pool}</pool>", StringComparison.Ordinal)))
            {
                ours.Add(name);
            }
        }

        return ours;
    }

    public const string VmMetadataNamespace = "https://github.com/puppetlabs/vmpooler/libvirt/1";

    /// <summary>Files in the storage pool's directory other than the template's.</summary>
    public IReadOnlyList<string> CloneVolumes(string? prefix = null)
        => [.. Directory.EnumerateFiles(PoolDirectory).Select(Path.GetFileName).OfType<string>()
            .Where(f => f is not "tiny-base.qcow2" and not "template.xml" && (prefix is null || f.StartsWith(prefix, StringComparison.Ordinal)))];

    /// <summary>PIDs of QEMU processes whose command line mentions the test storage pool.</summary>
    public IReadOnlyList<int> QemuProcesses(string? marker = null)
    {
        marker ??= PoolDirectory;
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline"));
                    if (commandLine.Contains("qemu-system", StringComparison.Ordinal) && commandLine.Contains(marker, StringComparison.Ordinal))
                    {
                        pids.Add(pid);
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return pids;
    }

    public async Task DisposeAsync()
    {
        // The daemons this fixture started are stopped whatever happens before (also when the start itself failed and
        // libvirtd never answered): nothing the tests start outlives them.
        IReadOnlyList<string> leaked;
        try
        {
            leaked = await DomainsAsync();
            await RemoveLeftoversAsync();
            var watch = Stopwatch.StartNew();
            while (QemuProcesses().Count > 0 && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
            }
        }
        finally
        {
            await Daemon.StopAsync();
        }

        leaked.ShouldBeEmpty("every domain a test made is destroyed by the end of the suite");
    }

    /// <summary>Destroys every vmpooler domain and the template, removes the storage pool and its directory.</summary>
    private async Task RemoveLeftoversAsync()
    {
        foreach (var name in await DomainsAsync())
        {
            await Commands.VirshAsync(Uri, "destroy", name);
            await Commands.VirshAsync(Uri, "undefine", name, "--snapshots-metadata", "--managed-save");
        }

        await Commands.VirshAsync(Uri, "undefine", Template);
        await Commands.VirshAsync(Uri, "pool-destroy", StoragePool);
        await Commands.VirshAsync(Uri, "pool-undefine", StoragePool);
        if (Directory.Exists(PoolDirectory))
        {
            Directory.Delete(PoolDirectory, recursive: true);
        }
    }

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
}

[CollectionDefinition(Name)]
public sealed class LibvirtCollection : ICollectionFixture<LibvirtEnvironment>
{
    public const string Name = "libvirt";
}
