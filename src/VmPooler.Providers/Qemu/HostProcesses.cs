using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace VmPooler.Providers.Qemu;

/// <summary>Starting helper programs and watching QEMU processes by PID (which are not our children once daemonized).</summary>
internal static class HostProcesses
{
    /// <summary>The result of a finished helper program.</summary>
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public string Describe() => (Error.Trim().Length > 0 ? Error.Trim() : Output.Trim()) is { Length: > 0 } text ? text : $"exit code {ExitCode}";
    }

    /// <summary>Runs <paramref name="file"/> to completion with its output captured; kills it when the time runs out.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        using var limit = new TimeLimit(timeout, time, cancellationToken);
        try
        {
            var output = process.StandardOutput.ReadToEndAsync(limit.Token);
            var error = process.StandardError.ReadToEndAsync(limit.Token);
            await process.WaitForExitAsync(limit.Token);
            return new Result(process.ExitCode, await output, await error);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            if (limit.Expired && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Path.GetFileName(file)} did not finish within {timeout.TotalSeconds:0.#} s");
            }

            throw;
        }
    }

    /// <summary>
    /// Runs a program that daemonizes itself (QEMU with <c>-daemonize</c>) with stdin and stdout on /dev/null and stderr
    /// appended to <paramref name="errorFile"/>, so the daemon holds none of our descriptors: it must outlive this process
    /// (a crash of the service must not take the VMs with it, nor a SIGPIPE on a closed pipe). Returns the exit code of
    /// the foreground process, which exits once the daemon is set up (or failed).
    /// </summary>
    public static async Task<int> RunDetachedAsync(string file, IEnumerable<string> arguments, string errorFile, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add("err=$1; shift; exec \"$@\" </dev/null >/dev/null 2>>\"$err\"");
        startInfo.ArgumentList.Add("sh");
        startInfo.ArgumentList.Add(errorFile);
        startInfo.ArgumentList.Add(file);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"could not start {file}");
        using var limit = new TimeLimit(timeout, time, cancellationToken);
        try
        {
            await process.WaitForExitAsync(limit.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // already gone
            }

            if (limit.Expired && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{Path.GetFileName(file)} did not start within {timeout.TotalSeconds:0.#} s");
            }

            throw;
        }
    }

    /// <summary>The PID in <paramref name="pidFile"/>, or null when there is none (yet).</summary>
    public static int? ReadPid(string pidFile)
    {
        try
        {
            var text = File.ReadAllText(pidFile).Trim();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is a live (not zombie) process whose command line mentions <paramref name="marker"/>
    /// (the VM's directory), so a recycled PID is never mistaken for the VM.
    /// </summary>
    public static bool IsAlive(int pid, string marker)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length || stat[close + 2] is 'Z' or 'X')
            {
                return false;
            }

            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
            return commandLine.Contains(marker, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Sends SIGKILL to <paramref name="pid"/>; false when it was already gone.</summary>
    public static bool Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Waits until the process is gone; false when it still runs after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, string marker, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (IsAlive(pid, marker))
        {
            if (time.GetElapsedTime(started) > timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), time, cancellationToken);
        }

        return true;
    }

    /// <summary>The last <paramref name="lines"/> lines of a text file, or "" when it cannot be read.</summary>
    public static string Tail(string file, int lines = 8)
    {
        try
        {
            var all = File.ReadAllLines(file);
            return string.Join(" | ", all.Skip(Math.Max(0, all.Length - lines)).Select(l => l.Trim()).Where(l => l.Length > 0));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }
}
