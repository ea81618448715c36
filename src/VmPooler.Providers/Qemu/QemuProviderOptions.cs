using System.Globalization;
using VmPooler.Core.Configuration;

namespace VmPooler.Providers.Qemu;

/// <summary>How a VM's SSH port is forwarded to the host (QEMU user-mode networking, <c>hostfwd</c>).</summary>
public enum SshForward
{
    /// <summary>A free port on 127.0.0.1 per VM: <c>ssh -p PORT root@127.0.0.1</c>. Works everywhere.</summary>
    Port,

    /// <summary>
    /// Its own loopback address per VM on port 22 (<c>127.0.0.N:22</c>), so <c>ssh root@127.0.0.N</c> just works. Needs
    /// nothing else listening on port 22 of all addresses (a host sshd on 0.0.0.0:22 clashes).
    /// </summary>
    Address,
}

/// <summary>
/// The <c>qemu</c> provider section (<c>:providers: :qemu:</c>). Every key is optional. Pool keys (memory, cpus, machine,
/// accel, saved_state, tcg_tb_size) may also be set here as defaults for the pools of this provider.
/// </summary>
public sealed record QemuProviderOptions
{
    public const string DefaultRunDir = "/var/tmp/vmpooler-qemu";

    /// <summary>The default <see cref="BootTimeout"/>: 120 s.</summary>
    public static readonly TimeSpan DefaultBootTimeout = TimeSpan.FromSeconds(120);

    private static readonly TimeSpan MinBootTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBootTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// <c>run_dir</c>: one directory per VM (<c>RUN_DIR/POOL/VM</c>) holding its overlay disk, QMP and serial sockets,
    /// PID file and logs; a new provider instance or process finds the VMs of an earlier one here. Unix socket paths
    /// are limited to 107 bytes, so keep it short. Default <c>/var/tmp/vmpooler-qemu</c>.
    /// </summary>
    public string RunDir { get; init; } = DefaultRunDir;

    /// <summary><c>saved_state_dir</c>: where golden VM states for fast clones are kept. Default <c>RUN_DIR/saved-states</c>.</summary>
    public string SavedStateDir { get; init; } = Path.Combine(DefaultRunDir, "saved-states");

    /// <summary><c>qemu_binary</c>: the emulator. Default <c>qemu-system-x86_64</c> (Debian package qemu-system-x86).</summary>
    public string QemuBinary { get; init; } = "qemu-system-x86_64";

    /// <summary><c>qemu_img_binary</c>: the image tool. Default <c>qemu-img</c> (Debian package qemu-utils).</summary>
    public string QemuImgBinary { get; init; } = "qemu-img";

    /// <summary>
    /// <c>dropbearkey_binary</c>: makes each VM's own SSH host key, on the host. Default <c>dropbearkey</c> (Debian
    /// package dropbear-bin).
    /// </summary>
    public string DropbearKeyBinary { get; init; } = "dropbearkey";

    /// <summary><c>max_concurrent_boots</c>: cold boots at once (they are CPU-bound). Default: the number of cores.</summary>
    public int MaxConcurrentBoots { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// <c>max_concurrent_restores</c>: clones restored from a saved state at once, bounded apart from cold boots (a
    /// shared-memory restore costs a fraction of a boot). Default: 4 per core.
    /// </summary>
    public int MaxConcurrentRestores { get; init; } = 4 * Environment.ProcessorCount;

    /// <summary><c>ssh_forward</c>: <c>port</c> (default) or <c>address</c>, see <see cref="SshForward"/>.</summary>
    public SshForward SshForward { get; init; } = SshForward.Port;

    /// <summary><c>boot_timeout</c> (seconds, 1 to 3600): how long a clone may take to answer SSH before it fails. Default 120.</summary>
    public TimeSpan BootTimeout { get; init; } = DefaultBootTimeout;

    /// <summary>Defaults for the pools of this provider (the same keys as a pool).</summary>
    public QemuPoolOptions PoolDefaults { get; init; } = new();

    /// <summary>Reads the provider section, collecting every problem (each naming its key) into <paramref name="errors"/>.</summary>
    public static QemuProviderOptions Parse(IReadOnlyDictionary<string, object?> settings, string path, ICollection<string> errors)
    {
        var reader = new ConfigReader();
        var options = Parse(reader.Section(settings, path));
        ProviderSettings.CopyErrors(reader, errors);
        return options;
    }

    /// <summary>Reads the provider section; problems go to the section's reader, each naming its key.</summary>
    public static QemuProviderOptions Parse(ConfigSection section)
    {
        var runDir = section.String("run_dir") ?? DefaultRunDir;
        if (!Path.IsPathFullyQualified(runDir))
        {
            section.Error("run_dir", $"must be an absolute path (got \"{runDir}\")");
        }
        else if (runDir.Length > 60)
        {
            section.Error("run_dir", $"is {runDir.Length} characters long; keep it under 60 so the VMs' Unix socket paths fit in 107 bytes");
        }
        else if (runDir.Contains(',', StringComparison.Ordinal) || runDir.Contains('\'', StringComparison.Ordinal))
        {
            section.Error("run_dir", "must not contain ',' or quotes (QEMU option syntax)");
        }

        var configuredStateDir = section.String("saved_state_dir");
        var savedStateDir = configuredStateDir ?? Path.Combine(runDir, "saved-states");
        if (configuredStateDir is not null && !Path.IsPathFullyQualified(configuredStateDir))
        {
            section.Error("saved_state_dir", $"must be an absolute path (got \"{savedStateDir}\")");
        }

        var forward = SshForward.Port;
        switch (section.String("ssh_forward")?.ToLowerInvariant())
        {
            case null:
            case "port":
                break;
            case "address":
                forward = SshForward.Address;
                break;
            case { } other:
                section.Error("ssh_forward", $"must be \"port\" (a free port on 127.0.0.1) or \"address\" (127.0.0.N:22) (got \"{other}\")");
                break;
        }

        var options = new QemuProviderOptions
        {
            RunDir = runDir,
            SavedStateDir = savedStateDir,
            QemuBinary = section.String("qemu_binary") ?? "qemu-system-x86_64",
            QemuImgBinary = section.String("qemu_img_binary") ?? "qemu-img",
            DropbearKeyBinary = section.String("dropbearkey_binary") ?? "dropbearkey",
            MaxConcurrentBoots = section.Int("max_concurrent_boots", 1, 256) ?? Environment.ProcessorCount,
            MaxConcurrentRestores = section.Int("max_concurrent_restores", 1, 1024) ?? 4 * Environment.ProcessorCount,
            SshForward = forward,
            BootTimeout = ReadBootTimeout(section) ?? DefaultBootTimeout,
            PoolDefaults = QemuPoolOptions.ParseKeys(section, new QemuPoolOptions()),
        };

        if (ExecutableLookup.Find(options.QemuBinary) is null)
        {
            section.Error("qemu_binary", $"\"{options.QemuBinary}\" not found; install the Debian package qemu-system-x86 (apt-get install qemu-system-x86)");
        }

        if (ExecutableLookup.Find(options.QemuImgBinary) is null)
        {
            section.Error("qemu_img_binary", $"\"{options.QemuImgBinary}\" not found; install the Debian package qemu-utils (apt-get install qemu-utils)");
        }

        if (ExecutableLookup.Find(options.DropbearKeyBinary) is null)
        {
            section.Error("dropbearkey_binary", $"\"{options.DropbearKeyBinary}\" not found; install the Debian package dropbear-bin (apt-get install dropbear-bin): it makes each VM's own SSH host key");
        }

        return options;
    }

    /// <summary><c>boot_timeout</c>: seconds, from 1 to 3600.</summary>
    private static TimeSpan? ReadBootTimeout(ConfigSection section)
    {
        var timeout = section.Seconds("boot_timeout", NumberRule.Positive, MaxBootTimeout.TotalSeconds);
        if (timeout < MinBootTimeout)
        {
            section.Error("boot_timeout", $"must be at least {MinBootTimeout.TotalSeconds} s (got {timeout.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture)})");
            return null;
        }

        return timeout;
    }
}

/// <summary>Machine types the provider knows how to build a command line for.</summary>
public enum QemuMachine
{
    /// <summary><c>pc</c> (i440FX): PCI hot-plug works out of the box. The default.</summary>
    Pc,

    /// <summary><c>q35</c>: disks are hot-added behind <c>pcie-root-port</c>s created at boot.</summary>
    Q35,

    /// <summary><c>microvm</c>: no PCI, so no disk hot-add; under TCG it needs <c>tsc_early_khz</c> (set automatically).</summary>
    Microvm,
}

/// <summary>How the clones of a pool start (<c>saved_state</c>).</summary>
public enum SavedStateMode
{
    /// <summary>Every clone cold-boots.</summary>
    Off,

    /// <summary>Clones restore the saved state, each copying its RAM image into its own memory.</summary>
    Copy,

    /// <summary>
    /// Clones restore the saved device state and map the saved RAM file privately (copy-on-write), so they share its
    /// pages until they write them. Falls back to <see cref="Copy"/>, then to a cold boot. The default.
    /// </summary>
    Shared,
}

/// <summary>The acceleration a pool asks for.</summary>
public enum QemuAccel
{
    /// <summary>KVM only where it really works (usable /dev/kvm, vmx/svm, not a PVM host), else TCG.</summary>
    Auto,
    Kvm,
    Tcg,
}

/// <summary>
/// The per-pool options of a qemu pool. <c>template</c> is a guest directory (from <c>guest/build-guest.sh</c>:
/// <c>vmlinuz</c>, <c>initrd.img</c>, <c>base.qcow2</c>) or the path of a qcow2 base image (with <c>vmlinuz</c> and
/// <c>initrd.img</c> beside it it boots that kernel, otherwise the image boots itself).
/// </summary>
public sealed record QemuPoolOptions
{
    /// <summary><c>memory</c> (MiB). Default 192.</summary>
    public int MemoryMiB { get; init; } = 192;

    /// <summary><c>cpus</c>. Default 1.</summary>
    public int Cpus { get; init; } = 1;

    /// <summary><c>machine</c>: pc (default), q35 or microvm.</summary>
    public QemuMachine Machine { get; init; } = QemuMachine.Pc;

    /// <summary><c>accel</c>: auto (default), kvm or tcg.</summary>
    public QemuAccel Accel { get; init; } = QemuAccel.Auto;

    /// <summary>
    /// <c>saved_state</c>: how clones start. <c>shared</c> (default; <c>true</c> means the same) restores a saved golden
    /// state whose RAM file every clone maps copy-on-write; <c>copy</c> restores it by copying the RAM into each clone;
    /// <c>false</c> cold-boots every clone.
    /// </summary>
    public SavedStateMode SavedState { get; init; } = SavedStateMode.Shared;

    /// <summary>
    /// <c>tcg_tb_size</c> (MiB): the TCG translation cache of each VM (without KVM). An idle guest runs little code, so a
    /// small cache is enough and is what an idle VM's private memory is mostly made of. Default 16.
    /// </summary>
    public int TcgTbSizeMiB { get; init; } = 16;

    /// <summary><c>kernel_append</c>: extra kernel command-line arguments (only when a kernel is booted directly).</summary>
    public string KernelAppend { get; init; } = "";

    /// <summary>The resolved template (null until validated).</summary>
    public QemuTemplate? Template { get; init; }

    /// <summary>Reads a pool's options over the provider's defaults, collecting every problem into <paramref name="errors"/>.</summary>
    public static QemuPoolOptions Parse(
        string template,
        IReadOnlyDictionary<string, object?> settings,
        QemuPoolOptions defaults,
        string path,
        ICollection<string> errors)
    {
        var reader = new ConfigReader();
        var options = Parse(template, reader.Section(settings, path), defaults);
        ProviderSettings.CopyErrors(reader, errors);
        return options;
    }

    /// <summary>Reads a pool's options over the provider's defaults; problems go to the section's reader.</summary>
    public static QemuPoolOptions Parse(string template, ConfigSection section, QemuPoolOptions defaults)
    {
        var options = ParseKeys(section, defaults);
        var resolved = QemuTemplate.Resolve(template, out var problem);
        if (problem is not null)
        {
            section.Error("template", problem);
        }

        return options with { Template = resolved };
    }

    /// <summary><c>saved_state</c>: shared, copy, or a boolean (true = shared, false = off) by the reader's boolean rule.</summary>
    private static SavedStateMode? ParseSavedState(ConfigSection section)
    {
        var text = section.String("saved_state");
        switch (text?.Trim().ToLowerInvariant())
        {
            case null:
                return null;
            case "shared":
                return SavedStateMode.Shared;
            case "copy":
                return SavedStateMode.Copy;
        }

        switch (ConfigReader.ParseBool(text))
        {
            case true:
                return SavedStateMode.Shared;
            case false:
                return SavedStateMode.Off;
            default:
                section.Error("saved_state", $"must be shared (clones map the saved RAM copy-on-write), copy (each clone copies it) or false (cold boots) (got \"{text}\")");
                return null;
        }
    }

    internal static QemuPoolOptions ParseKeys(ConfigSection section, QemuPoolOptions defaults)
    {
        var machine = defaults.Machine;
        switch (section.String("machine")?.ToLowerInvariant())
        {
            case null:
                break;
            case "pc":
                machine = QemuMachine.Pc;
                break;
            case "q35":
                machine = QemuMachine.Q35;
                break;
            case "microvm":
                machine = QemuMachine.Microvm;
                break;
            case { } other:
                section.Error("machine", $"must be pc, q35 or microvm (got \"{other}\")");
                break;
        }

        var accel = defaults.Accel;
        switch (section.String("accel")?.ToLowerInvariant())
        {
            case null:
                break;
            case "auto":
                accel = QemuAccel.Auto;
                break;
            case "kvm":
                accel = QemuAccel.Kvm;
                break;
            case "tcg":
                accel = QemuAccel.Tcg;
                break;
            case { } other:
                section.Error("accel", $"must be auto, kvm or tcg (got \"{other}\")");
                break;
        }

        return defaults with
        {
            MemoryMiB = section.Int("memory", 64, 1 << 20) ?? defaults.MemoryMiB,
            Cpus = section.Int("cpus", 1, 64) ?? defaults.Cpus,
            Machine = machine,
            Accel = accel,
            SavedState = ParseSavedState(section) ?? defaults.SavedState,
            TcgTbSizeMiB = section.Int("tcg_tb_size", 1, 2048) ?? defaults.TcgTbSizeMiB,
            KernelAppend = section.String("kernel_append") ?? defaults.KernelAppend,
        };
    }
}

/// <summary>What a pool boots: a base disk image and, optionally, a kernel and initrd to boot directly.</summary>
public sealed record QemuTemplate(string BaseImage, string? Kernel, string? Initrd)
{
    /// <summary>A guest directory or a qcow2 image; null (with <paramref name="problem"/>) when it is unusable.</summary>
    public static QemuTemplate? Resolve(string template, out string? problem)
    {
        problem = null;
        if (string.IsNullOrWhiteSpace(template))
        {
            problem = "is required for a qemu pool: a guest directory (build one with guest/build-guest.sh DIR) or a qcow2 base image";
            return null;
        }

        if (!Path.IsPathFullyQualified(template))
        {
            problem = $"must be an absolute path (got \"{template}\")";
            return null;
        }

        string directory;
        string image;
        if (Directory.Exists(template))
        {
            directory = template;
            image = Path.Combine(template, "base.qcow2");
            if (!File.Exists(image))
            {
                problem = $"guest directory \"{template}\" has no base.qcow2; build it with guest/build-guest.sh {template}";
                return null;
            }
        }
        else if (File.Exists(template))
        {
            image = template;
            directory = Path.GetDirectoryName(template) ?? "/";
        }
        else
        {
            problem = $"\"{template}\" does not exist; build a guest with guest/build-guest.sh {template}";
            return null;
        }

        var kernel = Path.Combine(directory, "vmlinuz");
        var initrd = Path.Combine(directory, "initrd.img");
        return File.Exists(kernel)
            ? new QemuTemplate(image, kernel, File.Exists(initrd) ? initrd : null)
            : new QemuTemplate(image, null, null);
    }
}

/// <summary>Finds an executable the way a shell would: a path as it is, a bare name on the PATH.</summary>
internal static class ExecutableLookup
{
    public static string? Find(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
