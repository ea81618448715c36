using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace VmPooler.LoadGen;

/// <summary>
/// The measured window of an HTTP point driven by wrk (C, epoll) with <c>bench/wrk/pairs.lua</c> instead of .NET's
/// HttpClient: the same closed-loop checkout+return pairs, one connection per wrk thread, from a client that costs a
/// fraction of the CPU. On two cores the load generator shares the CPU with the service and Redis, so its own cost is
/// taken from what the service can do; this shows the service with less of it.
/// </summary>
internal static partial class WrkLoad
{
    public static async Task<HttpPoint> RunAsync(
        string inventory, string script, Uri baseAddress, int serverPid, IReadOnlyList<string> pools, int clients, TimeSpan duration, RedisCommandStats? redisStats)
    {
        // bash's `time` reports wrk's own CPU (user and system seconds) once it has exited.
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("TIMEFORMAT='wrk-cpu %U %S'; time wrk \"$@\"");
        info.ArgumentList.Add("wrk");
        foreach (var argument in new[]
                 {
                     "-t", clients.ToString(CultureInfo.InvariantCulture), "-c", clients.ToString(CultureInfo.InvariantCulture),
                     "-d", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s", "--timeout", "30s", "--latency",
                     "-s", script, baseAddress.ToString().TrimEnd('/'),
                 })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["POOLS"] = string.Join(',', pools);
        var window = await MeasuredWindow.StartAsync(serverPid, redisStats);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start wrk");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var (seconds, serverCpuMs, redisCalls) = await window.EndAsync();
        var output = await stdout + await stderr;
        if (process.ExitCode != 0 || PairsLine().Match(output) is not { Success: true } counts || CpuLine().Match(output) is not { Success: true } cpu)
        {
            throw new InvalidOperationException("wrk failed (is Debian's wrk installed?):\n" + output);
        }

        static long Count(Match m, int group) => long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
        var clientCpuMs = (double.Parse(cpu.Groups[1].Value, CultureInfo.InvariantCulture) + double.Parse(cpu.Groups[2].Value, CultureInfo.InvariantCulture)) * 1000;
        return new HttpPoint(
            inventory,
            clients,
            seconds,
            Count(counts, 1),
            Count(counts, 2),
            Count(counts, 3),
            [],
            [],
            serverCpuMs,
            clientCpuMs,
            window.Load)
        {
            RedisCalls = redisCalls,
            Client = "wrk",
            WrkLatency = string.Join(" / ", LatencyLine().Matches(output).Select(m => m.Groups[1].Value + " " + m.Groups[2].Value)),
        };
    }

    [GeneratedRegex(@"wrk-pairs: (\d+) pairs, (\d+) empty, (\d+) errors")]
    private static partial Regex PairsLine();

    [GeneratedRegex(@"wrk-cpu ([\d.]+) ([\d.]+)")]
    private static partial Regex CpuLine();

    [GeneratedRegex(@"^\s+(50|99)%\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();
}
