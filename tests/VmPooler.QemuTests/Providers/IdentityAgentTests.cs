using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using VmPooler.Providers.Qemu;
using VmPooler.Tests.Shared;

namespace VmPooler.QemuTests.Providers;

/// <summary>
/// The identity given to a clone whose golden VM was saved with the guest's identity agent waiting on the console, against
/// a fake agent on the console's socket: what the request carries, and that only the agent's SHA-256 of the key file as it
/// reads it back makes the clone count as having its key (the real agent: QemuSharedStateTests). Needs dropbearkey only.
/// </summary>
public class IdentityAgentTests : IAsyncLifetime
{
    private readonly string _runDir = Directory.CreateDirectory(Path.Combine("/tmp", "vmpia-" + Guid.NewGuid().ToString("N")[..8])).FullName;
    private readonly List<QemuProvider> _providers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        // dropbearkey writes the keys made ahead into run_dir for a moment
        foreach (var provider in _providers)
        {
            await provider.HostKeysFilling.DefaultTimeout();
        }

        Directory.Delete(_runDir, recursive: true);
    }

    [Fact]
    public async Task AgentAnswersTheKeysHash_TheCloneHasItsKey_AndTheRequestCarriesNameClockEntropyAndKey()
    {
        var (provider, files) = Setup();
        string? request = null;
        var agent = FakeAgentAsync(files, line =>
        {
            request = line;
            var fields = line.Split(' ');
            return $"ok {Convert.ToHexStringLower(SHA256.HashData(Convert.FromHexString(fields[5])))}";
        });

        var fingerprint = await provider.GiveIdentityAsync(files, "vm-one", agentWaiting: true, CancellationToken.None).DefaultTimeout();
        await agent;

        var fields = request.ShouldNotBeNull().Split(' ');
        fields.Length.ShouldBe(6);
        fields[0].ShouldBe("VMPOOLER-IDENTITY");
        fields[2].ShouldBe("vm-one");
        Math.Abs(long.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture) - TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()).ShouldBeLessThan(60_000);
        Convert.FromHexString(fields[4]).Length.ShouldBe(64, "64 bytes of host entropy");
        DropbearHostKey.Parse(Convert.FromHexString(fields[5])).Fingerprint.ShouldBe(fingerprint);
    }

    [Fact]
    public async Task AgentCannotWriteTheKey_TheIdentityFails()
    {
        var (provider, files) = Setup();
        var agent = FakeAgentAsync(files, _ => "failed host key: Read-only file system");

        var error = await Should.ThrowAsync<InvalidOperationException>(() => provider.GiveIdentityAsync(files, "vm-ro", agentWaiting: true, CancellationToken.None).DefaultTimeout());
        await agent;

        error.Message.ShouldContain("Read-only file system");
    }

    [Fact]
    public async Task AgentReadsBackAShortKey_TheIdentityFails()
    {
        var (provider, files) = Setup();
        var agent = FakeAgentAsync(files, line =>
        {
            var key = Convert.FromHexString(line.Split(' ')[5]);
            return $"ok {Convert.ToHexStringLower(SHA256.HashData(key.AsSpan(0, key.Length - 1)))}";
        });

        var error = await Should.ThrowAsync<InvalidOperationException>(() => provider.GiveIdentityAsync(files, "vm-short", agentWaiting: true, CancellationToken.None).DefaultTimeout());
        await agent;

        error.Message.ShouldContain("did not install its own SSH host key");
    }

    private (QemuProvider Provider, VmFiles Files) Setup()
    {
        var files = new VmFiles(Path.Combine(_runDir, "vm" + Guid.NewGuid().ToString("N")[..6]));
        Directory.CreateDirectory(files.Directory);
        var provider = new QemuProvider("qemu", new QemuProviderOptions { RunDir = _runDir, BootTimeout = TimeSpan.FromSeconds(20) }, TimeProvider.System);
        _providers.Add(provider);
        return (provider, files);
    }

    /// <summary>
    /// Listens on the VM's console socket like QEMU does, takes one request line and answers it as the agent would
    /// (<c>VMPOOLER-IDENTITY NONCE</c> and <paramref name="answer"/>), after a line of other console output.
    /// </summary>
    private static async Task FakeAgentAsync(VmFiles files, Func<string, string> answer)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(files.Serial));
        listener.Listen(1);
        await Task.Yield();
        using var console = await listener.AcceptAsync().DefaultTimeout();
        using var reader = new StreamReader(new NetworkStream(console), Encoding.ASCII);
        string? line;
        while ((line = await reader.ReadLineAsync()) is not null && !line.StartsWith("VMPOOLER-IDENTITY ", StringComparison.Ordinal))
        {
        }

        var request = line.ShouldNotBeNull();
        var reply = $"[138] Dec 07 02:05:27 Child connection from 10.0.2.2:40932\r\nVMPOOLER-IDENTITY {request.Split(' ')[1]} {answer(request)}\r\n";
        await console.SendAsync(Encoding.ASCII.GetBytes(reply), SocketFlags.None);
    }
}
