using System.Diagnostics;
using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A real <c>redis-server</c> with TLS on its own port (mutual TLS: clients must show a certificate of the test CA) and
/// its plain port for setting it up; certificates made per run with <c>openssl</c>: a CA, a server certificate for the
/// name <see cref="ServerName"/> only, a client certificate, and an unrelated CA. Fails with the apt package to install
/// when openssl is missing.
/// </summary>
public sealed class RedisTlsServer : IAsyncLifetime
{
    /// <summary>The only name in the server's certificate (not 127.0.0.1: connecting needs <c>ssl_host</c>).</summary>
    public const string ServerName = "redis.test";

    private const string AdminUser = "fixture-admin";
    private static readonly string AdminPassword = Guid.NewGuid().ToString("N");
    private string _directory = "";
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("the TLS Redis server has not started");

    public int TlsPort { get; private set; }

    public string CaFile => Path.Combine(_directory, "ca.pem");

    public string OtherCaFile => Path.Combine(_directory, "other-ca.pem");

    public string ClientCertFile => Path.Combine(_directory, "client.pem");

    public string ClientKeyFile => Path.Combine(_directory, "client.key");

    public async Task InitializeAsync()
    {
        _directory = Directory.CreateTempSubdirectory("vmpooler-redis-tls-").FullName;
        await MakeCertificatesAsync();
        TlsPort = RedisServer.FreePort();
        _server = await RedisServer.StartNewAsync(
            "--tls-port", TlsPort.ToString(CultureInfo.InvariantCulture),
            "--tls-cert-file", Path.Combine(_directory, "server.pem"),
            "--tls-key-file", Path.Combine(_directory, "server.key"),
            "--tls-ca-cert-file", CaFile,
            "--tls-auth-clients", "yes");
        // As in production: the default user is off, so a refused login cannot fall back to it.
        (await Server.CliAsync("ACL", "SETUSER", AdminUser, "on", ">" + AdminPassword, "~*", "&*", "+@all")).Trim().ShouldBe("OK");
        (await Server.CliAsync("ACL", "SETUSER", "default", "off")).Trim().ShouldBe("OK");
    }

    /// <summary>redis-cli on the plain port as the fixture's administrator.</summary>
    public Task<string> AdminCliAsync(params string[] arguments)
        => Server.CliAsync(["--user", AdminUser, "--pass", AdminPassword, "--no-auth-warning", .. arguments]);

    /// <summary>Options for the TLS port: the test CA (or <paramref name="caFile"/>), the client certificate, and the server's name.</summary>
    public RedisOptions Options(RedisOptions options, bool clientCertificate = true, bool testCa = true, string? caFile = null) => options with
    {
        Server = "127.0.0.1",
        Port = TlsPort,
        Ssl = true,
        SslCaFile = testCa ? CaFile : caFile,
        SslHost = ServerName,
        SslCertFile = clientCertificate ? ClientCertFile : null,
        SslKeyFile = clientCertificate ? ClientKeyFile : null,
    };

    /// <summary>Makes (or remakes) ACL user <paramref name="user"/> with the documented rules for <paramref name="prefix"/>, minus <paramref name="without"/>.</summary>
    public async Task SetAclUserAsync(string user, string password, string prefix, params string[] without)
    {
        var rules = RedisAcl.Rules(prefix).Split(' ').Where(r => !without.Contains(r, StringComparer.Ordinal));
        var answer = await AdminCliAsync(["ACL", "SETUSER", user, "reset", "on", ">" + password, .. rules]);
        answer.Trim().ShouldBe("OK");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private async Task MakeCertificatesAsync()
    {
        File.WriteAllText(Path.Combine(_directory, "server.ext"), $"subjectAltName=DNS:{ServerName}\nextendedKeyUsage=serverAuth\n");
        File.WriteAllText(Path.Combine(_directory, "client.ext"), "extendedKeyUsage=clientAuth\n");
        await OpensslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vmpooler test CA", "-keyout", "ca.key", "-out", "ca.pem");
        await OpensslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=vmpooler unrelated CA", "-keyout", "other-ca.key", "-out", "other-ca.pem");
        foreach (var (name, subject) in new[] { ("server", "/CN=" + ServerName), ("client", "/CN=vmpooler") })
        {
            await OpensslAsync("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", name + ".key", "-out", name + ".csr");
            await OpensslAsync("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem");
        }
    }

    private async Task OpensslAsync(params string[] arguments)
    {
        var executable = RedisServer.FindExecutable("openssl")
            ?? throw new InvalidOperationException("openssl is not installed: apt-get install -y openssl (the TLS tests make their certificates with it)");
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        process.ExitCode.ShouldBe(0, $"openssl {string.Join(' ', arguments)}: {await error}");
    }
}
