using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace VmPooler.QemuBench;

/// <summary>What a QEMU process costs, from /proc: memory (smaps_rollup) and CPU time (stat), and whether its SSH answers.</summary>
internal static class VmStats
{
    /// <summary>Rss, Pss and Private (clean + dirty) in KiB, from /proc/PID/smaps_rollup.</summary>
    public static (long Rss, long Pss, long Private) Memory(int pid)
    {
        long rss = 0, pss = 0, priv = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var kb))
            {
                continue;
            }

            switch (parts[0])
            {
                case "Rss:": rss = kb; break;
                case "Pss:": pss = kb; break;
                case "Private_Clean:" or "Private_Dirty:": priv += kb; break;
            }
        }

        return (rss, pss, priv);
    }

    /// <summary>User + system CPU seconds of the process (all threads).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public static int Threads(int pid)
        => int.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Threads:", StringComparison.Ordinal))[8..].Trim(), CultureInfo.InvariantCulture);

    /// <summary>MemAvailable of the machine in MiB.</summary>
    public static long AvailableMiB()
        => long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    /// <summary>True when an SSH banner can be read from the port within 30 s.</summary>
    public static async Task<bool> AnswersSshAsync(string address, int port)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30), TimeProvider.System);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(address, port, cts.Token);
            var buffer = new byte[4];
            var read = 0;
            var stream = client.GetStream();
            while (read < 4)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read), cts.Token);
                if (n == 0)
                {
                    return false;
                }

                read += n;
            }

            return Encoding.ASCII.GetString(buffer) == "SSH-";
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
