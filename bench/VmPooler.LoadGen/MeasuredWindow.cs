using System.Diagnostics;

namespace VmPooler.LoadGen;

/// <summary>
/// The measured part of an HTTP point, whoever drives it (this program's clients or wrk): the service's CPU, the load
/// average at the start, the Redis commands and the elapsed time, taken the same way for both.
/// </summary>
internal sealed class MeasuredWindow
{
    private readonly int _serverPid;
    private readonly RedisCommandStats? _redisStats;
    private readonly double _serverCpu;
    private readonly Stopwatch _clock;

    private MeasuredWindow(int serverPid, RedisCommandStats? redisStats)
    {
        _serverPid = serverPid;
        _redisStats = redisStats;
        _serverCpu = ProcessStats.CpuMilliseconds(serverPid);
        Load = ProcessStats.LoadAverage();
        _clock = Stopwatch.StartNew();
    }

    /// <summary>The 1-minute load average when the window started.</summary>
    public string Load { get; }

    /// <summary>Starts a window: reads the service's CPU and the load, and zeroes Redis's command counts.</summary>
    public static async Task<MeasuredWindow> StartAsync(int serverPid, RedisCommandStats? redisStats)
    {
        if (redisStats is not null)
        {
            await redisStats.ResetAsync();
        }

        return new MeasuredWindow(serverPid, redisStats);
    }

    /// <summary>Ends the window: its length, the service's CPU in it and the Redis commands run in it.</summary>
    public async Task<(double Seconds, double ServerCpuMs, IReadOnlyDictionary<string, long>? RedisCalls)> EndAsync()
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var serverCpuMs = ProcessStats.CpuMilliseconds(_serverPid) - _serverCpu;
        return (seconds, serverCpuMs, _redisStats is null ? null : await _redisStats.ReadAsync());
    }
}
