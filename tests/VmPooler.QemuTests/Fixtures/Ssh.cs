using System.Diagnostics;
using System.Globalization;

namespace VmPooler.QemuTests.Fixtures;

/// <summary>Runs a command on a guest with the real OpenSSH client (openssh-client), as a user would.</summary>
public static class Ssh
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string key, string address, int port, string command)
    {
        var startInfo = new ProcessStartInfo("ssh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "-i", key, "-p", port.ToString(CultureInfo.InvariantCulture),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
            // A guest reverted to a snapshot forgets the connections it had: without keep-alives the client would wait forever.
            "-o", "ServerAliveInterval=3", "-o", "ServerAliveCountMax=3",
            "root@" + address, command,
        })
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
