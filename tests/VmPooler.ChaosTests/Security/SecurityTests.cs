using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using VmPooler.Core.Tokens;
using VmPooler.IntegrationTests.Fixtures;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.ChaosTests.Security;

/// <summary>
/// Security checks of issue 9 that the integration tests did not have yet: tokens and passwords never reach the log,
/// and token comparisons go through a constant-time compare. (LDAP injection, tokens in Redis, request size and rate
/// limits and <c>/full_config</c> redaction are tested in VmPooler.IntegrationTests; docs/reliability.md lists them.)
/// </summary>
public sealed partial class SecurityTests(ITestOutputHelper output)
{
    private const string Yaml = """
        ---
        :config:
          max_lifetime_upper_limit: 48
        :pools:
          - name: 'alpha'
            size: 2
            provider: dummy
        """;

    [Fact]
    public async Task TokenLifecycle_EveryLogLineAtDebug_NeverContainsTheTokenOrThePassword()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var prefix = "sec-" + Guid.NewGuid().ToString("N")[..8];
        var log = new CapturingOutput();
        var yaml = WithDummyAuth(Yaml) + $":redis:\n  server: '127.0.0.1'\n  port: {redis.Port.ToString(CultureInfo.InvariantCulture)}\n  key_prefix: '{prefix}'\n";
        await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.Api, output: log, environment: DebugEnvironment);
        await server.SeedReadyAsync("alpha", "sec-vm-1", "sec-vm-2");

        // Every route that takes or shows a token, in every way a client uses it (and some ways it should not).
        var token = await server.CreateTokenAsync();
        var second = await server.CreateTokenAsync();
        // One character off the real token (a fixed "x" would be the token itself whenever it already ends in "x").
        var nearMiss = second[..^1] + (second[^1] == 'x' ? "y" : "x");
        (await server.RequestAsync(HttpMethod.Get, "api/v3/token", Basic())).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Get, $"api/v3/token/{token}")).Status.ShouldBe(HttpStatusCode.OK);
        var checkout = await server.RequestAsync(HttpMethod.Post, "api/v3/vm/alpha", token: token);
        checkout.Status.ShouldBe(HttpStatusCode.OK, checkout.Body);
        var vm = checkout.Object["alpha"]!["hostname"]!.GetValue<string>();
        (await server.RequestAsync(HttpMethod.Get, $"api/v3/vm/{vm}", token: token)).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Put, $"api/v3/vm/{vm}", token: token, body: "{\"lifetime\": 2}")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Put, $"api/v3/vm/{vm}", token: nearMiss, body: "{\"lifetime\": 3}")).Status.ShouldBe(HttpStatusCode.Unauthorized);
        (await server.RequestAsync(HttpMethod.Get, $"api/v3/token/{token}")).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Delete, $"api/v3/vm/{vm}", token: token)).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Delete, $"api/v3/token/{token}", Basic("admin", "wrong-password-ZQX"))).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Delete, $"api/v3/token/{second}", Basic())).Status.ShouldBe(HttpStatusCode.OK);
        (await server.RequestAsync(HttpMethod.Get, $"api/v3/token/{second}")).Status.ShouldBe(HttpStatusCode.NotFound);

        var lines = log.Lines;
        output.WriteLine($"{lines.Count} log lines captured at Debug and above; tokens {TokenHashing.Hint(token)} and {TokenHashing.Hint(second)}");
        lines.Count.ShouldBeGreaterThan(10, "the log was captured");
        string[] secrets = [token, second, nearMiss, Password, "wrong-password-ZQX"];
        foreach (var secret in secrets)
        {
            lines.Where(l => l.Contains(secret, StringComparison.OrdinalIgnoreCase)).ShouldBeEmpty($"a log line shows the secret {secret[..4]}…");
        }

        // Nor in Redis, anywhere (keys or values): RedisTokenSecrecyTests covers the token store; this is the whole run.
        var everything = await redis.CliAsync("--scan", "--pattern", prefix + ":*");
        foreach (var key in everything.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var type = (await redis.CliAsync("type", key)).Trim();
            var value = type switch
            {
                "string" => await redis.CliAsync("get", key),
                "hash" => await redis.CliAsync("hgetall", key),
                "set" => await redis.CliAsync("smembers", key),
                "zset" => await redis.CliAsync("zrange", key, "0", "-1"),
                "list" => await redis.CliAsync("lrange", key, "0", "-1"),
                _ => "",
            };
            foreach (var secret in secrets)
            {
                (key + value).ShouldNotContain(secret, Case.Insensitive, $"Redis key {key} holds a secret in clear text");
            }
        }
    }

    [Fact]
    public void TokenHashing_FixedTimeEquals_CallsCryptographicOperationsFixedTimeEquals()
    {
        var compare = typeof(TokenHashing).GetMethod(nameof(TokenHashing.FixedTimeEquals))!;
        var fixedTime = typeof(CryptographicOperations).GetMethod(nameof(CryptographicOperations.FixedTimeEquals), [typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<byte>)])!;

        CalledMethods(compare).ShouldContain(fixedTime, "TokenHashing.FixedTimeEquals compares with CryptographicOperations.FixedTimeEquals");
        CalledMethods(typeof(TokenHashing).GetMethod(nameof(TokenHashing.Matches))!).ShouldContain(compare, "Matches hashes the token and compares the hashes in constant time");
        TokenHashing.FixedTimeEquals("abc", "abc").ShouldBeTrue();
        TokenHashing.FixedTimeEquals("abc", "abd").ShouldBeFalse();
        TokenHashing.FixedTimeEquals("abc", "abcd").ShouldBeFalse();
    }

    [Fact]
    public void RequestAuth_TokenCheck_ComparesThroughFixedTimeEquals()
    {
        // The token check of the API (and the owner checks) compare hashes with TokenHashing.FixedTimeEquals; the
        // async methods live in compiler-made state machines nested in RequestAuth, so all of them are read.
        var api = typeof(VmPooler.Api.VmPoolerApi).Assembly;
        var requestAuth = api.GetTypes().Single(t => t.Name == "RequestAuth");
        var compare = typeof(TokenHashing).GetMethod(nameof(TokenHashing.FixedTimeEquals))!;
        var methods = new[] { requestAuth }.Concat(requestAuth.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public))
            .SelectMany(t => t.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly));

        methods.Count(m => CalledMethods(m).Contains(compare)).ShouldBeGreaterThanOrEqualTo(2, "the token check and the owner check");
    }

    [Fact]
    public void Sources_TokensAndHashes_NeverComparedWithOrdinaryEquality()
    {
        // A source scan backing the two tests above: no `token == x`, `hash != x` or `token.Equals(x)` anywhere in src
        // (comparisons with null, lengths and counts are fine).
        PlainCompare().IsMatch("if (record.Hash == hash)").ShouldBeTrue("the scan finds a plain comparison");
        PlainCompare().IsMatch("return token.Equals(other);").ShouldBeTrue("the scan finds a plain comparison");
        PlainCompare().IsMatch("if (token == null || hash != default)").ShouldBeFalse("null checks are fine");
        var root = FindRepoRoot();
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal)))
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (PlainCompare().IsMatch(lines[i]))
                {
                    offenders.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        output.WriteLine(offenders.Count == 0 ? "no plain token or hash comparisons in src" : string.Join('\n', offenders));
        offenders.ShouldBeEmpty();
    }

    /// <summary>Every method a method's IL calls (call, callvirt, newobj, ldftn).</summary>
    private static HashSet<MethodBase> CalledMethods(MethodBase method)
    {
        var result = new HashSet<MethodBase>();
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (var i = 0; i + 4 < il.Length; i++)
        {
            var isCall = il[i] is 0x28 or 0x6F or 0x73 || (il[i] == 0xFE && i + 5 < il.Length && il[i + 1] == 0x06);
            if (!isCall)
            {
                continue;
            }

            var at = il[i] == 0xFE ? i + 2 : i + 1;
            var token = BitConverter.ToInt32(il, at);
            try
            {
                if (method.Module.ResolveMethod(token, method.DeclaringType?.GetGenericArguments(), null) is { } called)
                {
                    result.Add(called);
                }
            }
            catch (Exception ex) when (ex is ArgumentException or BadImageFormatException)
            {
                // Not a method token at this offset (an operand byte that looks like a call opcode).
            }
        }

        return result;
    }

    private static string FindRepoRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "VmPooler.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("VmPooler.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary><c>token == x</c>, <c>hash != x</c>, <c>xToken.Equals(</c>, <c>string.Equals(token, …)</c>, except against null.</summary>
    [GeneratedRegex(@"(?i)(\b\w*(token|hash)\b\s*[!=]=\s*(?!null\b|default\b)[\w""(])|(\b\w*(token|hash)\w*\s*\.\s*Equals\s*\()|(string\.Equals\(\s*\w*(token|hash)\w*\s*,)")]
    private static partial Regex PlainCompare();

    /// <summary>An <see cref="ITestOutputHelper"/> that keeps every line (the app's logger writes into it).</summary>
    private sealed class CapturingOutput : ITestOutputHelper
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => [.. _lines];

        public void WriteLine(string message) => _lines.Enqueue(message);

        public void WriteLine(string format, params object[] args) => _lines.Enqueue(string.Format(CultureInfo.InvariantCulture, format, args));
    }
}
