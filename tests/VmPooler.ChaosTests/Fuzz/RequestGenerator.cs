using System.Text;
using System.Text.RegularExpressions;

namespace VmPooler.ChaosTests.Fuzz;

/// <summary>One generated request and what it is meant to exercise.</summary>
internal sealed record FuzzRequest(string Method, string Target, IReadOnlyList<(string Name, string Value)> Headers, byte[]? Body, string Kind)
{
    public byte[] ToBytes() => RawHttp.Build(Method, Target, Headers, Body);

    public override string ToString()
    {
        var body = Body is null ? "" : Encoding.UTF8.GetString(Body);
        return $"[{Kind}] {Method} {Truncate(Target)} headers [{string.Join(", ", Headers.Select(h => $"{h.Name}: {Truncate(h.Value)}"))}] body {Truncate(body)}";
    }

    private static string Truncate(string text) => text.Length <= 120 ? text : $"{text[..120]}…({text.Length} chars)";
}

/// <summary>
/// Generates malformed and hostile requests from a seed (the same seed gives the same requests): every method on every
/// route with hostile path values, invalid and deeply nested JSON, huge bodies, wrong types in every body field,
/// unknown and overlong names, traversal and control characters in hostnames, duplicate keys, bad Basic auth, unknown
/// tokens, oversized headers. It never produces a request that may legitimately change state: real pool and VM names
/// appear in paths only on GET, and on PUT with an invalid body, and in bodies only with invalid values; credentials are
/// never valid (the dummy authenticator accepts any user/password pair that differ, so generated pairs are equal or
/// malformed).
/// </summary>
internal sealed partial class RequestGenerator(int seed, IReadOnlyList<string> routes, IReadOnlyList<string> realPools, IReadOnlyList<string> realVms)
{
    public static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FUZZ"];

    /// <summary>Field names the API reads from bodies (docs/api.md), plus the pools.</summary>
    private static readonly string[] Fields =
    [
        "count", "lifetime", "tags", "disk", "snapshot", "request_id", "pool", "template", "hostname", "token", "user", "ok",
    ];

    private static readonly string[] HostileNames =
    [
        "", "no-such-pool", "NO-SUCH", "..", "../..", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e", "%00", "a%00b",
        "%0d%0aX-Injected:%20yes", "%0a", "%09", "%7f", "%ff%fe", "%c0%af", "%", "%%", "%zz", "a%20b", "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%201=1--", "*)(uid=*))(%7C(uid=*", "cn=admin,dc=example", "${jndi:ldap:%2F%2Fx}", "%F0%9F%98%80", "vmpooler:{alpha}:ready",
        "%7Balpha%7D", "-1", "0", "99999999999999999999", "1e309", "NaN", "null", "true", "[]", "{}", ";", ",", "+", "++", "a+", "+a",
        ".", "~", "CON", "\\..\\..", "a.b.c.d.e.f.g.h.i.j.k.l.m.n", "x;y=z", "..;", "%2F", "%5C",
    ];

    private readonly Random _random = new(seed);
    private readonly IReadOnlyList<string> _routes = routes;

    /// <summary>Every route with every method, once, with hostile values in its parameters; then random requests up to <paramref name="count"/>.</summary>
    public IEnumerable<FuzzRequest> Generate(int count)
    {
        var produced = 0;
        foreach (var route in _routes)
        {
            foreach (var method in Methods)
            {
                produced++;
                yield return new FuzzRequest(method, Fill(route, method == "GET"), RandomHeaders(), method is "GET" or "HEAD" ? null : RandomBody(), "route×method");
            }
        }

        for (; produced < count; produced++)
        {
            yield return Next();
        }
    }

    private FuzzRequest Next()
    {
        var route = Pick(_routes);
        var method = _random.Next(4) == 0 ? Pick(Methods) : Pick(["GET", "POST", "PUT", "DELETE"]);
        return _random.Next(10) switch
        {
            0 => new(method, Fill(route), [.. BadAuth()], RandomBody(), "bad auth"),
            1 => new(method, Fill(route), [("X-AUTH-TOKEN", BadToken())], RandomBody(), "bad token"),
            2 => new(method, Fill(route), [.. OversizedHeaders()], null, "oversized headers"),
            3 => new(method, RawTarget(route), RandomHeaders(), null, "raw target"),
            4 => new(method, Fill(route, method == "GET") + Query(), RandomHeaders(), null, "query"),
            5 => new(method, Fill(route), [("Content-Type", "application/json")], HugeBody(), "huge body"),
            6 => new(method, Fill(route, method is "GET" or "PUT"), [("Content-Type", Pick(ContentTypes))], Nested(), "nested json"),
            7 => new(method, Fill(route, method is "GET" or "PUT"), [.. RandomHeaders(), ("Content-Type", "application/json")], WrongTypes(), "wrong types"),
            8 => new(method, Fill(route, method is "GET" or "PUT"), [("Content-Type", Pick(ContentTypes))], InvalidJson(), "invalid json"),
            _ => new(method, Fill(route), RandomHeaders(), RandomBody(), "mixed"),
        };
    }

    private static readonly string[] ContentTypes =
    [
        "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
        "application/json; charset=utf-32", "application/xml", "", "*/*", "application/json; charset=\"",
    ];

    /// <summary>
    /// The route with each <c>{parameter}</c> replaced by a hostile value (URL-safe or percent-encoded), or, when
    /// <paramref name="real"/> allows it, now and then by a real pool or VM name (so requests reach past the lookup).
    /// </summary>
    private string Fill(string route, bool real = false)
        => Parameter().Replace(route, _ => real && _random.Next(3) == 0 ? Pick(_random.Next(2) == 0 ? realPools : realVms) : HostileName());

    /// <summary>The route with raw bytes in the target that a well-behaved client would never send.</summary>
    private string RawTarget(string route)
    {
        string[] raw = ["../../etc/passwd", "a b", "a\tb", "a\u0001b", "a\u007fb", "é", "\u0000", "a\\b", "//", "/./", "a?b?c", "a#b", "\u202e", new string('x', 10_000)];
        return Parameter().Replace(route, _ => Pick(raw));
    }

    private string HostileName()
        => _random.Next(6) switch
        {
            0 => new string(Pick(['a', 'z', '-', '9', '.']), _random.Next(64, 3000)),
            1 => Uri.EscapeDataString(RandomUnicode(_random.Next(1, 40))),
            _ => Pick(HostileNames),
        };

    private string Query()
    {
        string[] keys = ["view", "pool", "from", "to", "token", "", "a[b]", "%00", "offset", "limit"];
        string[] values =
        [
            "", "../../", "9999-99-99", "0000-00-00", "2024-02-30", "x", "%0d%0a", new string('q', 5000), "boot,capacity,clone,pools,queue,nope", "-1",
            "2147483647", "99999999999999999999", "1e3", "0",
        ];
        return "?" + string.Join('&', Enumerable.Range(0, _random.Next(1, 6)).Select(_ => $"{Pick(keys)}={Pick(values)}"));
    }

    private List<(string, string)> RandomHeaders()
        => _random.Next(4) switch
        {
            0 => [.. BadAuth()],
            1 => [("X-AUTH-TOKEN", BadToken())],
            2 => [("Content-Type", Pick(ContentTypes))],
            _ => [],
        };

    private IEnumerable<(string, string)> BadAuth()
    {
        var base64 = (string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        string[] values =
        [
            "Basic", "Basic ", "Basic !!!!", "Basic ====", "Basic " + base64("nocolon"), "Basic " + base64("same:same"),
            "Basic " + base64(":"), "Basic " + base64("admin:admin"), "Basic " + base64("*)(uid=*:*)(uid=*"), "Bearer " + base64("a:b"),
            "basic", "Basic " + base64(new string('a', 3000) + ":" + new string('a', 3000)), "Basic " + base64("\u0000:\u0000"),
            "Basic " + base64("%00:%00"), "Digest username=\"a\"", "Basic dGVzdA", "Basic " + base64("é:é"), "NTLM TlRMTVNTUAAB",
        ];
        yield return ("Authorization", Pick(values));
        if (_random.Next(3) == 0)
        {
            yield return ("Authorization", Pick(values));
        }
    }

    private string BadToken()
    {
        string[] values =
        [
            "", "x", new string('a', 32), "z" + new string('0', 31), new string('a', 4000), "' OR '1'='1", "*", "../token",
            "%00", "null", RandomToken(), RandomToken().ToUpperInvariant(),
        ];
        return Pick(values);
    }

    private string RandomToken() => new([.. Enumerable.Range(0, 32).Select(_ => "abcdefghijklmnopqrstuvwxyz0123456789"[_random.Next(36)])]);

    private IEnumerable<(string, string)> OversizedHeaders()
    {
        switch (_random.Next(3))
        {
            case 0:
                yield return ("X-Big", new string('h', _random.Next(9_000, 70_000)));
                break;
            case 1:
                for (var i = 0; i < _random.Next(100, 400); i++)
                {
                    yield return ($"X-Many-{i}", new string('m', 100));
                }

                break;
            default:
                yield return ("X-AUTH-TOKEN", new string('t', _random.Next(9_000, 40_000)));
                break;
        }
    }

    private byte[]? RandomBody()
        => _random.Next(5) switch
        {
            0 => null,
            1 => InvalidJson(),
            2 => WrongTypes(),
            3 => Nested(),
            _ => Encoding.UTF8.GetBytes(Pick(["{}", "[]", "null", "0", "\"\"", "true", "{\"\":\"\"}"])),
        };

    private byte[] InvalidJson()
    {
        string[] values =
        [
            "{", "[", "nul", "{\"a\":}", "{\"a\" 1}", "\"unterminated", "{'a': 1}", "{a: 1}", "[1,]", "{\"a\":1,}", "\u0000", "{\"a\":\"\\u00\"}",
            "// comment\n{}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":01}", "{\"a\":1}{\"b\":2}", "\uFEFF{}", "{\"\\ud800\":1}", "}{",
        ];
        return _random.Next(6) == 0 ? [0xff, 0xfe, 0x00, 0x7b, 0xc0, 0x80] : Encoding.UTF8.GetBytes(Pick(values));
    }

    private byte[] Nested()
    {
        var depth = _random.Next(2) == 0 ? _random.Next(6, 64) : _random.Next(1_000, 100_000);
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var builder = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            builder.Append(open);
        }

        builder.Append('1');
        for (var i = 0; i < depth; i++)
        {
            builder.Append(close);
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private byte[] HugeBody()
        => _random.Next(3) switch
        {
            0 => Encoding.UTF8.GetBytes(new string('a', _random.Next(10_241, 2_000_000))),
            1 => Encoding.UTF8.GetBytes("{\"" + Pick(Fields) + "\":\"" + new string('x', _random.Next(10_241, 500_000)) + "\"}"),
            _ => Encoding.UTF8.GetBytes("[" + string.Join(',', Enumerable.Repeat("1", _random.Next(6_000, 200_000))) + "]"),
        };

    /// <summary>An object whose fields (known ones, real pool names and hostile names) carry values of the wrong type or out of range, with duplicate keys now and then.</summary>
    private byte[] WrongTypes()
    {
        string[] invalid =
        [
            "null", "true", "false", "1.5", "-1", "1e309", "-0.0", "[]", "{}", "[1,2]", "{\"a\":1}", "\"\"", "\"abc\"", "\" 1\"", "\"1.0\"",
            "\"-5\"", "\"99999999999999999999\"", "99999999999999999999", "\"" + new string('z', 3000) + "\"", "\"\\u0000\"", "\"0x10\"", "\"1e3\"",
        ];
        var entries = new List<string>();
        for (var i = 0; i < _random.Next(1, 6); i++)
        {
            var key = _random.Next(3) switch
            {
                0 => Pick(realPools),
                1 => Pick(Fields),
                _ => Uri.UnescapeDataString(Pick(HostileNames).Replace("%", "%25", StringComparison.Ordinal)),
            };
            var escapedKey = System.Text.Json.JsonEncodedText.Encode(key).ToString();
            entries.Add($"\"{escapedKey}\":{Pick(invalid)}");
            if (_random.Next(5) == 0)
            {
                entries.Add($"\"{escapedKey}\":{Pick(invalid)}");
            }
        }

        return Encoding.UTF8.GetBytes("{" + string.Join(',', entries) + "}");
    }

    private string RandomUnicode(int length)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var c = (char)_random.Next(0x01, 0xD7FF);
            builder.Append(c);
        }

        return builder.ToString();
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
