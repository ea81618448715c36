using System.Diagnostics;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using VmPooler.Providers.Qemu;

namespace VmPooler.QemuTests.Fixtures;

/// <summary>
/// What every qemu test shares: the guest image, one short root directory under /tmp for all run directories, and one
/// saved-state directory (so the golden VM is booted once per run, not once per test). All qemu tests form one
/// collection, so they run one after another (the machine has few cores). When the collection ends, every QEMU process
/// started under the root is killed and counted: a leak fails the run.
/// </summary>
public sealed class QemuEnvironment : IAsyncLifetime
{
    public string GuestDirectory { get; private set; } = "";

    /// <summary>Root of everything the tests create (short: Unix socket paths must stay under 108 bytes).</summary>
    public string Root { get; } = Path.Combine("/tmp", "vmpq-" + Guid.NewGuid().ToString("N")[..8]);

    public string SavedStateDirectory => Path.Combine(Root, "states");

    public string Key => GuestImage.KeyOf(GuestDirectory);

    public async Task InitializeAsync()
    {
        // A missing tool fails the run naming the Debian package (never a silent skip).
        var errors = new List<string>();
        QemuProviderOptions.Parse(new Dictionary<string, object?>(), "providers.qemu", errors);
        if (ExecutableLookup.Find("ssh") is null)
        {
            errors.Add("ssh not found: install the Debian package openssh-client");
        }

        errors.ShouldBeEmpty("the qemu tests need QEMU and an ssh client (.ci/run installs them)");
        GuestDirectory = await GuestImage.GetAsync();
        Directory.CreateDirectory(Root);
    }

    /// <summary>A fresh, empty run directory.</summary>
    public string NewRunDirectory(string prefix = "r")
    {
        var dir = Path.Combine(Root, prefix + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Provider options for <paramref name="runDir"/> sharing this run's saved states.</summary>
    public QemuProviderOptions ProviderOptions(string runDir) => new()
    {
        RunDir = runDir,
        SavedStateDir = SavedStateDirectory,
        MaxConcurrentBoots = 2,
        BootTimeout = TimeSpan.FromSeconds(120),
    };

    /// <summary>A qemu pool of the test guest; <paramref name="savedState"/>: shared, copy or false (cold boots).</summary>
    public PoolOptions Pool(string name, string savedState = "shared", int size = 0) => new()
    {
        Name = name,
        Template = GuestDirectory,
        Size = size,
        Provider = "qemu",
        Settings = new Dictionary<string, object?>
        {
            ["memory"] = "160",
            ["saved_state"] = savedState,
        },
    };

    /// <summary>A logger that writes to the test's output (shown when it fails).</summary>
    public ILogger Logger(ITestOutputHelper output)
    {
        var factory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new XunitLoggerProvider(output)));
        return factory.CreateLogger<QemuProvider>();
    }

    /// <summary>PIDs of live QEMU processes whose command line mentions <paramref name="marker"/> (default: this run's root).</summary>
    public IReadOnlyList<int> QemuProcesses(string? marker = null)
    {
        marker ??= Root;
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    continue;
                }

                var commandLine = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (commandLine.StartsWith("qemu-system", StringComparison.Ordinal) || commandLine.Contains("/qemu-system", StringComparison.Ordinal))
                {
                    if (commandLine.Contains(marker, StringComparison.Ordinal))
                    {
                        pids.Add(pid);
                    }
                }
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }

        return pids;
    }

    /// <summary>
    /// The golden RAM file (a saved state's <c>ram</c>) that QEMU process <paramref name="pid"/> maps, and how: "p"
    /// (private) or "s" (shared); the path ends in " (deleted)" when the file was removed meanwhile. Null when none.
    /// </summary>
    public static (string Path, string Mode)? GoldenRamOf(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
        {
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 6 && (fields[5].EndsWith("/ram", StringComparison.Ordinal) || fields[5].EndsWith("/ram (deleted)", StringComparison.Ordinal)))
            {
                return (fields[5], fields[1][3].ToString());
            }
        }

        return null;
    }

    /// <summary>What a VM's SSH forward answered before the VM had its own host key.</summary>
    /// <param name="BannerProblem">Null when it answered with an SSH banner (its sshd listens), else why not.</param>
    /// <param name="Keys">The host keys it served to ssh-keyscan (it must serve none).</param>
    public sealed record BeforeIdentity(string? BannerProblem, IReadOnlyList<(string Type, string Fingerprint)> Keys);

    /// <summary>
    /// Watches the VMs <paramref name="provider"/> starts: for each, once it runs but before it has its own host key,
    /// whether its SSH forward answers with a banner and which host keys it serves to a client asking for
    /// <paramref name="types"/>.
    /// </summary>
    public static System.Collections.Concurrent.ConcurrentQueue<BeforeIdentity> WatchSshBeforeIdentity(QemuProvider provider, string types = "rsa,dsa,ecdsa,ed25519")
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<BeforeIdentity>();
        provider.BeforeIdentity = async (address, port) => seen.Enqueue(new BeforeIdentity(
            await GuestProbe.SshBannerProblemAsync(address, port, TimeSpan.FromSeconds(5), TimeProvider.System, CancellationToken.None),
            await Ssh.ScanHostKeysAsync(address, port, types)));
        return seen;
    }

    /// <summary>The SHA-256 of a file, hex.</summary>
    public static string Checksum(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    /// <summary>Kills every QEMU under <paramref name="marker"/>; returns how many there were.</summary>
    public int KillAll(string? marker = null)
    {
        var pids = QemuProcesses(marker);
        foreach (var pid in pids)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }

        return pids.Count;
    }

    public async Task DisposeAsync()
    {
        var leaked = QemuProcesses();
        KillAll();
        await AsyncTestHelpersWait(() => QemuProcesses().Count == 0);
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }

        leaked.ShouldBeEmpty("every QEMU process a test started is gone at the end of the suite");
    }

    private static async Task AsyncTestHelpersWait(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition() && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class QemuCollection : ICollectionFixture<QemuEnvironment>
{
    public const string Name = "qemu";
}
