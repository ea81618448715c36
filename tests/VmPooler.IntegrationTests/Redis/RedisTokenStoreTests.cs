using System.Net;
using StackExchange.Redis;
using VmPooler.Core.Tokens;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using VmPooler.Tests.Shared.Tokens;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>The token store contract against <see cref="RedisTokenStore"/> on a real redis-server, each test under a fresh key prefix.</summary>
[Collection(RedisCollection.Name)]
public class RedisTokenStoreContractTests(RedisFixtures redis) : TokenStoreContractTests
{
    private readonly RedisInventories _connections = new();

    protected override async Task<ITokenStore> CreateStoreAsync()
        => new RedisTokenStore(await _connections.ConnectAsync(redis.Server.Endpoint).DefaultTimeout(), TimeProvider.System);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _connections.DisposeAsync();
    }

    [Fact]
    public async Task TwoConnections_SeeTheSameTokens()
    {
        // Another API process on the same Redis and prefix sees a token at once, and its delete at once.
        var prefix = RedisFixtures.NewPrefix();
        var a = new RedisTokenStore(await _connections.ConnectAsync(redis.Server.Endpoint, prefix), TimeProvider.System);
        var b = new RedisTokenStore(await _connections.ConnectAsync(redis.Server.Endpoint, prefix), TimeProvider.System);
        var (_, record) = NewToken("alice", T0);

        await a.CreateAsync(record, None).DefaultTimeout();
        (await b.GetAsync(record.Hash, None).DefaultTimeout()).ShouldNotBeNull();
        (await b.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeTrue();

        (await a.GetAsync(record.Hash, None).DefaultTimeout()).ShouldBeNull();
    }
}

/// <summary>The application on Redis: a token never reaches Redis in clear text (issue 4, spec §7.1 hardening).</summary>
[Collection(RedisCollection.Name)]
public class RedisTokenSecrecyTests(RedisFixtures redis, ITestOutputHelper output)
{
    [Fact]
    public async Task PostToken_AndUseIt_TheTokenAppearsNowhereInRedis()
    {
        var prefix = RedisFixtures.NewPrefix();
        var yaml = WithDummyAuth(TestConfigs.ApiPools) + $"""
            :redis:
              server: '{redis.Server.Endpoint}'
              key_prefix: '{prefix}'
            """;
        await using var server = await StartApiAsync(yaml, output);
        await server.SeedReadyAsync("debian", "d1");
        var token = await server.CreateTokenAsync();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).ShouldBeJson(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: token, body: """{"lifetime": 3}""")).ShouldBeOkTrue();
        (await server.GetAsync("api/v3/token/" + token)).ShouldBeJson(HttpStatusCode.OK).Object[token]!["vms"].ShouldNotBeNull();

        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Endpoint + ",allowAdmin=true").DefaultTimeout();
        var db = connection.GetDatabase();
        var texts = new List<string>();
        var keys = connection.GetServer(redis.Server.Endpoint).Keys(pattern: "*", pageSize: 1000).ToList();
        keys.ShouldNotBeEmpty();
        foreach (var key in keys)
        {
            texts.Add(key!);
            texts.AddRange(await ValuesAsync(db, key).DefaultTimeout());
        }

        var hash = TokenHashing.Hash(token);
        texts.ShouldContain(t => t.Contains(hash, StringComparison.Ordinal), "the token is stored by its hash (so the scan did reach it)");
        texts.ShouldContain(t => t == "admin", "the token's user is stored");
        texts.Where(t => t.Contains(token, StringComparison.OrdinalIgnoreCase)).ShouldBeEmpty("the token itself is never stored");
    }

    [Fact]
    public async Task DeleteVm_CheckedOutWithTokenThenAuthRemoved_StillNeedsAValidToken()
    {
        // Spec §2.4 DELETE step 3 / §7.1: a VM carrying an owner token needs some valid token to be returned, even after
        // the :auth: section is removed from the configuration.
        var prefix = RedisFixtures.NewPrefix();
        var redisSection = $"""
            :redis:
              server: '{redis.Server.Endpoint}'
              key_prefix: '{prefix}'
            """;
        string token;
        await using (var withAuth = await StartApiAsync(WithDummyAuth(TestConfigs.ApiPools) + redisSection, output))
        {
            await withAuth.SeedReadyAsync("debian", "d1");
            token = await withAuth.CreateTokenAsync();
            (await withAuth.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).ShouldBeJson(HttpStatusCode.OK);
        }

        await using var withoutAuth = await StartApiAsync(TestConfigs.ApiPools.TrimEnd('\n') + "\n" + redisSection, output);

        (await withoutAuth.DeleteAsync("api/v3/vm/d1")).ShouldBeUnauthorized();
        (await withoutAuth.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: "abcdefghijklmnopqrstuvwxyz012345")).ShouldBeUnauthorized();
        (await withoutAuth.StateOfAsync("d1")).ShouldBe(VmPooler.Core.Inventory.VmState.Running);
        (await withoutAuth.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: token)).ShouldBeOkTrue();
    }

    /// <summary>Every value of a key as text, whatever its type.</summary>
    private static async Task<IEnumerable<string>> ValuesAsync(IDatabase db, RedisKey key)
    {
        switch (await db.KeyTypeAsync(key))
        {
            case RedisType.String:
                return [(string?)await db.StringGetAsync(key) ?? ""];
            case RedisType.Hash:
                return (await db.HashGetAllAsync(key)).SelectMany(e => new[] { (string)e.Name!, (string?)e.Value ?? "" });
            case RedisType.Set:
                return (await db.SetMembersAsync(key)).Select(v => (string?)v ?? "");
            case RedisType.SortedSet:
                return (await db.SortedSetRangeByRankWithScoresAsync(key)).Select(e => (string?)e.Element ?? "");
            case RedisType.List:
                return (await db.ListRangeAsync(key)).Select(v => (string?)v ?? "");
            case RedisType.None:
                return [];
            default:
                throw new InvalidOperationException($"unexpected Redis type for {key}");
        }
    }
}
