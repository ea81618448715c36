using System.Globalization;
using StackExchange.Redis;

namespace VmPooler.LoadGen;

/// <summary>
/// The commands a <c>redis-server</c> executed, from <c>INFO commandstats</c>, zeroed with <c>CONFIG RESETSTAT</c>.
/// Commands that Lua scripts run (<c>redis.call</c>) are counted under their own names as well as the <c>EVALSHA</c>
/// that ran them, so the total is every command the server executed, in scripts or not.
/// </summary>
internal sealed class RedisCommandStats : IDisposable
{
    private readonly ConnectionMultiplexer _multiplexer;
    private readonly IServer _server;

    private RedisCommandStats(ConnectionMultiplexer multiplexer, IServer server)
    {
        _multiplexer = multiplexer;
        _server = server;
    }

    public static async Task<RedisCommandStats> ConnectAsync(int port)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(
            string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port},allowAdmin=true,abortConnect=false"));
        return new RedisCommandStats(multiplexer, multiplexer.GetServer("127.0.0.1", port));
    }

    /// <summary><c>CONFIG RESETSTAT</c>: every command's count back to zero.</summary>
    public Task ResetAsync() => _server.ConfigResetStatisticsAsync();

    /// <summary>Calls per command since the last reset (the <c>CONFIG RESETSTAT</c> and <c>INFO</c> themselves excluded).</summary>
    public async Task<IReadOnlyDictionary<string, long>> ReadAsync()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var group in await _server.InfoAsync("commandstats"))
        {
            foreach (var (key, value) in group)
            {
                // cmdstat_hgetall:calls=120,usec=…  (SE.Redis splits at the colon: key "cmdstat_hgetall", value "calls=…").
                var name = key.StartsWith("cmdstat_", StringComparison.Ordinal) ? key["cmdstat_".Length..] : key;
                var field = value.Split(',').FirstOrDefault(f => f.StartsWith("calls=", StringComparison.Ordinal));
                if (field is not null && name is not ("config|resetstat" or "info" or "config"))
                {
                    calls[name] = long.Parse(field["calls=".Length..], CultureInfo.InvariantCulture);
                }
            }
        }

        return calls;
    }

    /// <summary>"total N: hgetall a, evalsha b, …" per <paramref name="per"/> (the top <paramref name="top"/> commands).</summary>
    public static string Describe(IReadOnlyDictionary<string, long> calls, double per, int top = 6)
    {
        var c = CultureInfo.InvariantCulture;
        var parts = calls.OrderByDescending(p => p.Value).Take(top).Select(p => string.Create(c, $"{p.Key} {p.Value / per:0.#}"));
        return string.Create(c, $"{calls.Values.Sum() / per:0.#} ({string.Join(", ", parts)})");
    }

    public void Dispose() => _multiplexer.Dispose();
}
