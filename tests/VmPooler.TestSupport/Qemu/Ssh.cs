using System.Diagnostics;
using System.Globalization;

namespace VmPooler.QemuTests.Fixtures;

/// <summary>Runs a command on a guest with the real OpenSSH client (openssh-client), as a user would.</summary>
public static class Ssh
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Task<Result> RunAsync(string key, string address, int port, string command)
        => RunAsync(key, address, port, command, ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]);

    /// <summary>Runs <paramref name="command"/> trusting only the host keys in <paramref name="knownHosts"/> (StrictHostKeyChecking=yes).</summary>
    public static Task<Result> RunStrictAsync(string key, string knownHosts, string address, int port, string command)
        => RunAsync(key, address, port, command, ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts]);

    /// <summary>
    /// The guest's ed25519 host key as a known_hosts line (ssh-keyscan) and its fingerprint as <c>ssh-keygen -l</c>
    /// prints it (<c>SHA256:…</c>).
    /// </summary>
    public static async Task<(string KnownHostsLine, string Fingerprint)> ScanHostKeyAsync(string address, int port)
    {
        var scan = await ToolAsync("ssh-keyscan", ["-t", "ed25519", "-p", port.ToString(CultureInfo.InvariantCulture), address], null);
        var line = scan.Split('\n').Single(l => l.Contains("ssh-ed25519", StringComparison.Ordinal));
        var fingerprint = (await ToolAsync("ssh-keygen", ["-l", "-f", "-"], line + "\n")).Split(' ')[1];
        return (line, fingerprint);
    }

    /// <summary>
    /// Runs <paramref name="command"/> with a client that accepts only the host key algorithms
    /// <paramref name="hostKeyAlgorithms"/> (HostKeyAlgorithms, comma-separated); a server that offers none of them is
    /// refused at negotiation (<c>Unable to negotiate with …: no matching host key type found. Their offer: …</c> in the
    /// error output: ssh logs it at level INFO, which this client keeps, the first LogLevel given being the one used).
    /// </summary>
    public static Task<Result> RunWithHostKeyAlgorithmsAsync(string key, string address, int port, string hostKeyAlgorithms, string command)
        => RunAsync(key, address, port, command, ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "HostKeyAlgorithms=" + hostKeyAlgorithms, "-o", "LogLevel=INFO"]);

    /// <summary>
    /// Every host key the guest serves to a client that asks for one of <paramref name="types"/> (ssh-keyscan, one
    /// connection per type, each insisting on its type), as <c>(type, fingerprint)</c>; types it serves no key for
    /// are missing.
    /// </summary>
    public static async Task<IReadOnlyList<(string Type, string Fingerprint)>> ScanHostKeysAsync(string address, int port, string types = "rsa,dsa,ecdsa,ed25519")
    {
        var (_, output, _) = await ToolResultAsync("ssh-keyscan", ["-T", "20", "-t", types, "-p", port.ToString(CultureInfo.InvariantCulture), address], null);
        var keys = new List<(string, string)>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            var fingerprint = (await ToolAsync("ssh-keygen", ["-l", "-f", "-"], line + "\n")).Split(' ')[1];
            keys.Add((line.Split(' ')[1], fingerprint));
        }

        return keys;
    }

    private static async Task<string> ToolAsync(string tool, string[] arguments, string? input)
    {
        var (exitCode, output, error) = await ToolResultAsync(tool, arguments, input);
        exitCode.ShouldBe(0, $"{tool} {string.Join(' ', arguments)}: {error}");
        return output;
    }

    private static async Task<(int ExitCode, string Output, string Error)> ToolResultAsync(string tool, string[] arguments, string? input)
    {
        var startInfo = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return (process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    private static async Task<Result> RunAsync(string key, string address, int port, string command, string[] hostKeyOptions)
    {
        var startInfo = new ProcessStartInfo("ssh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        string[] arguments =
        [
            "-i", key, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-o", "BatchMode=yes", .. hostKeyOptions,
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
            // A guest reverted to a snapshot forgets the connections it had: without keep-alives the client would wait forever.
            "-o", "ServerAliveInterval=3", "-o", "ServerAliveCountMax=3",
            "root@" + address, command,
        ];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // A hung session is a failed attempt (callers that wait for a state retry), not a hung test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return new Result(-1, (await output).Trim(), $"ssh -p {port} root@{address} '{command}' did not finish within 30 s");
        }

        return new Result(process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    /// <summary>Runs <paramref name="command"/> and returns its output, failing the test when it does not succeed.</summary>
    public static async Task<string> OutputAsync(string key, string address, int port, string command)
    {
        var result = await RunAsync(key, address, port, command);
        result.ExitCode.ShouldBe(0, $"ssh -p {port} root@{address} '{command}': {result.Error}");
        return result.Output;
    }
}
