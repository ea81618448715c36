using System.Globalization;

namespace VmPooler.Providers.Qemu;

/// <summary>The files of one VM (or golden VM) directory.</summary>
internal sealed record VmFiles(string Directory)
{
    public string Record => Path.Combine(Directory, "vm.json");
    public string Pid => Path.Combine(Directory, "qemu.pid");
    public string Qmp => Path.Combine(Directory, "qmp.sock");
    public string Serial => Path.Combine(Directory, "serial.sock");
    public string Console => Path.Combine(Directory, "console.log");
    public string Log => Path.Combine(Directory, "qemu.log");
    public string Errors => Path.Combine(Directory, "qemu.err");
    public string Disk => Path.Combine(Directory, "disk.qcow2");

    public string ExtraDisk(int index) => Path.Combine(Directory, $"disk-{index}.qcow2");

    /// <summary>Every path must fit a Unix socket address (107 bytes) and QEMU's comma-separated option syntax.</summary>
    public void Check()
    {
        if (Serial.Length > 107 || Qmp.Length > 107)
        {
            throw new InvalidOperationException($"the VM directory path is too long for a Unix socket ({Serial.Length} > 107 bytes): shorten run_dir");
        }

        if (Directory.Contains(',', StringComparison.Ordinal) || Directory.Contains('\'', StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the VM directory path must not contain ',' or quotes: {Directory}");
        }
    }
}

/// <summary>
/// How a VM's QEMU starts: its RAM (anonymous, or the file <paramref name="RamFile"/> mapped shared or private),
/// what it restores (<paramref name="Incoming"/>: a migration URI, or <c>defer</c> to set capabilities over QMP first),
/// whether its CPUs wait for <c>cont</c> (<paramref name="Paused"/>), and whether it starts without the template's
/// kernel and initrd (<paramref name="BootsFromDisk"/>: a restored VM whose disk boots on its own never needs them unless it
/// reboots, and QEMU keeps a private copy of both in every process).
/// </summary>
internal sealed record QemuStart(string? RamFile = null, bool ShareRam = false, string? Incoming = null, bool Paused = false, bool BootsFromDisk = false)
{
    /// <summary>A cold boot with anonymous RAM.</summary>
    public static QemuStart Cold { get; } = new();

    /// <summary>The memory backend's id; a saved state names its RAM block after it, so every start uses the same.</summary>
    public const string RamId = "vmpram";
}

/// <summary>Builds the <c>qemu-system-x86_64</c> command line of a VM (the shape of guest/boot-vm.sh).</summary>
internal static class QemuCommandLine
{
    /// <summary>PCIe root ports created on q35 machines, one per disk that can be hot-added.</summary>
    public const int Q35HotplugPorts = 4;

    /// <summary>The acceleration to use: <c>auto</c> picks KVM only where it really works.</summary>
    public static bool UseKvm(QemuAccel accel) => accel switch
    {
        QemuAccel.Kvm => true,
        QemuAccel.Tcg => false,
        _ => KvmWorks.Value,
    };

    private static readonly Lazy<bool> KvmWorks = new(() =>
    {
        try
        {
            // /dev/kvm writable, hardware virtualisation, and not a PVM host (stock kernels crawl under kvm_pvm).
            using (File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite))
            {
            }

            var flags = File.ReadAllText("/proc/cpuinfo");
            var hasVmx = flags.Contains(" vmx", StringComparison.Ordinal) || flags.Contains(" svm", StringComparison.Ordinal);
            return hasVmx && !System.IO.Directory.Exists("/sys/module/kvm_pvm");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    });

    /// <summary>
    /// The arguments for a VM. <paramref name="guestHostname"/> goes on the kernel command line (the golden VM's name for
    /// restored clones, whose device configuration must match the golden VM's exactly). <paramref name="start"/> says how
    /// its RAM is backed and what it restores.
    /// </summary>
    public static List<string> Build(
        QemuPoolOptions pool,
        VmFiles files,
        string name,
        string guestHostname,
        string sshAddress,
        int sshPort,
        QemuStart start)
    {
        var template = pool.Template ?? throw new InvalidOperationException("the pool's template was not resolved");
        var kvm = UseKvm(pool.Accel);
        var args = new List<string>();
        if (kvm)
        {
            args.AddRange(["-accel", "kvm", "-cpu", "host"]);
        }
        else
        {
            // -cpu max gives RDRAND (dropbear does not wait for entropy); tb-size caps the translation cache per VM,
            // which is most of what an idle VM costs beyond the guest pages it wrote.
            args.AddRange(["-accel", $"tcg,tb-size={pool.TcgTbSizeMiB.ToString(CultureInfo.InvariantCulture)}", "-cpu", "max"]);
        }

        var append = $"console=ttyS0 panic=-1 quiet vm.hostname={guestHostname} root=/dev/vda";
        string nic;
        string blk;
        switch (pool.Machine)
        {
            case QemuMachine.Microvm:
                args.AddRange(["-M", $"microvm,rtc=on,memory-backend={QemuStart.RamId}"]);
                nic = "virtio-net-device";
                blk = "virtio-blk-device";
                if (!kvm && TscKhz() is { } khz)
                {
                    // No HPET/PM timer: under TCG the PIT-based TSC calibration can hang the boot.
                    append += " tsc_early_khz=" + khz.ToString(CultureInfo.InvariantCulture);
                }

                break;
            case QemuMachine.Q35:
                args.AddRange(["-M", $"q35,memory-backend={QemuStart.RamId}"]);
                nic = "virtio-net-pci,romfile=";
                blk = "virtio-blk-pci";
                break;
            default:
                args.AddRange(["-M", $"pc,memory-backend={QemuStart.RamId}"]);
                nic = "virtio-net-pci,romfile=";
                blk = "virtio-blk-pci";
                break;
        }

        if (pool.KernelAppend.Length > 0)
        {
            append += " " + pool.KernelAppend;
        }

        var size = pool.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M";
        args.AddRange(["-object", start.RamFile is { } ramFile
            ? $"memory-backend-file,id={QemuStart.RamId},size={size},mem-path={ramFile},share={(start.ShareRam ? "on" : "off")}"
            : $"memory-backend-ram,id={QemuStart.RamId},size={size}"]);
        args.AddRange(["-m", size, "-smp", pool.Cpus.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["-nodefaults", "-no-user-config", "-display", "none", "-name", name]);
        if (template.Kernel is { } kernel && !start.BootsFromDisk)
        {
            args.AddRange(["-kernel", kernel]);
            if (template.Initrd is { } initrd)
            {
                args.AddRange(["-initrd", initrd]);
            }

            args.AddRange(["-append", append]);
        }

        args.AddRange(["-chardev", $"socket,id=ser0,path={files.Serial},server=on,wait=off,logfile={files.Console}", "-serial", "chardev:ser0"]);
        args.AddRange(["-qmp", $"unix:{files.Qmp},server=on,wait=off"]);
        args.AddRange(["-netdev", $"user,id=net0,hostfwd=tcp:{sshAddress}:{sshPort.ToString(CultureInfo.InvariantCulture)}-:22", "-device", $"{nic},netdev=net0"]);
        args.AddRange(["-blockdev", $"driver=file,filename={files.Disk},node-name=f0", "-blockdev", "driver=qcow2,file=f0,node-name=disk0", "-device", $"{blk},drive=disk0"]);
        if (pool.Machine == QemuMachine.Q35)
        {
            for (var i = 1; i <= Q35HotplugPorts; i++)
            {
                args.AddRange(["-device", $"pcie-root-port,id=hp{i},chassis={i},bus=pcie.0"]);
            }
        }

        if (start.Incoming is { } incoming)
        {
            args.AddRange(["-incoming", incoming]);
        }

        if (start.Paused)
        {
            args.Add("-S");
        }

        args.AddRange(["-daemonize", "-pidfile", files.Pid, "-D", files.Log]);
        return args;
    }

    private static long? TscKhz()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal)
                    && double.TryParse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var mhz))
                {
                    return (long)(mhz * 1000);
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
