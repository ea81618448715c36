using StackExchange.Redis;
using VmPooler.Core.Inventory;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A real <c>redis-server</c> of its own holding a Ruby vmpooler's data, written key by key in the Ruby layout (spec §3:
/// <c>vmpooler__vm__&lt;vm&gt;</c>, <c>vmpooler__running__&lt;pool&gt;</c>, <c>vmpooler__token__&lt;token&gt;</c> …) with
/// times in Ruby's <c>Time#to_s</c> form, plus <see cref="DumpAsync"/> to prove that something did not change.
/// </summary>
public sealed class RubyVmpoolerRedis : IAsyncDisposable
{
    private readonly RedisServer _server;
    private readonly ConnectionMultiplexer _connection;

    private RubyVmpoolerRedis(RedisServer server, ConnectionMultiplexer connection)
    {
        _server = server;
        _connection = connection;
    }

    public RedisServer Server => _server;

    /// <summary>The <c>--from</c> address of this server.</summary>
    public string Url => $"redis://127.0.0.1:{_server.Port}";

    public IDatabase Db => _connection.GetDatabase();

    public static async Task<RubyVmpoolerRedis> StartAsync()
    {
        var server = await RedisServer.StartNewAsync();
        try
        {
            var connection = await ConnectionMultiplexer.ConnectAsync($"{server.Endpoint},allowAdmin=true");
            return new RubyVmpoolerRedis(server, connection);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Ruby's <c>Time#to_s</c>.</summary>
    public static string Time(DateTimeOffset time) => VmTime.FormatRuby(time);

    public Task TokenAsync(string token, string user, DateTimeOffset created, DateTimeOffset? last = null)
        => HashAsync("vmpooler__token__" + token, [("user", user), ("created", Time(created)), .. last is { } l ? new[] { ("last", Time(l)) } : []]);

    /// <summary>A VM in a state set of <paramref name="pool"/> (<c>pending</c>, <c>ready</c>, <c>running</c>, <c>completed</c> …) with its hash.</summary>
    public async Task VmAsync(string state, string pool, string vm, params (string Field, string Value)[] fields)
    {
        await Db.SetAddAsync($"vmpooler__{state}__{pool}", vm);
        if (fields.Length > 0)
        {
            await HashAsync("vmpooler__vm__" + vm, fields);
        }
    }

    public Task HashAsync(string key, params (string Field, string Value)[] fields)
        => Db.HashSetAsync(key, [.. fields.Select(f => new HashEntry(f.Field, f.Value))]);

    /// <summary>
    /// Every key of the server (all databases used here: 0) with its <c>DUMP</c> and remaining time to live, so two
    /// snapshots compare equal only when no key, value or expiry changed.
    /// </summary>
    public Task<IReadOnlyDictionary<string, string>> DumpAsync(string pattern = "*") => DumpAsync(_connection, pattern);

    public static async Task<IReadOnlyDictionary<string, string>> DumpAsync(ConnectionMultiplexer connection, string pattern)
    {
        var db = connection.GetDatabase();
        var keys = await VmPooler.Import.RubyRedisReader.ScanAsync(db, pattern);
        var dumps = await Task.WhenAll(keys.Select(async k => (Key: k, Dump: await db.KeyDumpAsync(k), Ttl: await db.KeyTimeToLiveAsync(k))));
        return dumps.ToDictionary(
            d => d.Key,
            d => Convert.ToBase64String(d.Dump ?? []) + (d.Ttl is { } ttl ? $" ttl≈{Math.Round(ttl.TotalMinutes)}m" : ""),
            StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        _connection.Dispose();
        await _server.DisposeAsync();
    }
}
