using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// A real OpenLDAP <c>slapd</c> on a free loopback port with a throw-away mdb database in a temp directory, loaded with
/// <see cref="Users"/> by <c>slapadd</c> before it starts. Stopped (SIGKILL) and deleted on dispose; <see cref="StopAsync"/>
/// takes it away mid-test for outage cases. Fails with the apt packages to install when slapd is missing.
/// </summary>
/// <remarks>
/// Directory layout: <c>dc=example,dc=com</c> with <c>ou=people</c> and <c>ou=staff</c>, a service account
/// <c>cn=svc,dc=example,dc=com</c>. Only bound users may read entries; anonymous clients may only bind, so a
/// search needs the service account.
/// </remarks>
public sealed class SlapdServer : IAsyncDisposable
{
    public const string Suffix = "dc=example,dc=com";
    public const string People = "ou=people,dc=example,dc=com";
    public const string Staff = "ou=staff,dc=example,dc=com";
    public const string ServiceDn = "cn=svc,dc=example,dc=com";
    public const string ServicePassword = "svc-pw";

    /// <summary>
    /// Users as (DN, uid, password): alice, admin and carol (named by <c>cn</c>, not uid) in people; bob in staff;
    /// dave in people under <c>cn=Dave Smith</c>, so only a search by uid finds him; two entries share uid "twin".
    /// </summary>
    public static readonly IReadOnlyList<(string Dn, string Uid, string Cn, string Password)> Users =
    [
        ("uid=alice," + People, "alice", "Alice", "alice-pw"),
        ("uid=admin," + People, "admin", "Admin", "admin-pw"),
        ("cn=Carol," + People, "carol", "Carol", "carol-pw"),
        ("uid=bob," + Staff, "bob", "Bob", "bob-pw"),
        ("cn=Dave Smith," + People, "dave", "Dave Smith", "dave-pw"),
        ("cn=Twin One," + People, "twin", "Twin One", "twin-pw"),
        ("cn=Twin Two," + Staff, "twin", "Twin Two", "twin-pw"),
    ];

    private readonly string _directory;
    private Process? _process;

    private SlapdServer(int port, string directory, int? tlsPort)
    {
        Port = port;
        TlsPort = tlsPort;
        _directory = directory;
    }

    /// <summary>The plain LDAP port (StartTLS is offered on it when the server has TLS).</summary>
    public int Port { get; }

    /// <summary>The LDAPS port (TLS from the first byte), when started with TLS.</summary>
    public int? TlsPort { get; }

    /// <summary>With TLS: the PEM of the throw-away CA that signed the server's certificate (for 127.0.0.1).</summary>
    public string CaFile => Path.Combine(_directory, "ca.pem");

    /// <summary>With TLS: the PEM of another CA, which did not sign the server's certificate.</summary>
    public string OtherCaFile => Path.Combine(_directory, "other-ca.pem");

    /// <param name="tls">
    /// Also serve TLS: LDAPS on <see cref="TlsPort"/> and StartTLS on <see cref="Port"/>, with a certificate for 127.0.0.1
    /// signed by a CA made for this server (<see cref="CaFile"/>).
    /// </param>
    public static async Task<SlapdServer> StartNewAsync(bool tls = false)
    {
        var slapd = FindSbin("slapd") ?? throw new InvalidOperationException(
            "slapd is not installed: apt-get install -y slapd ldap-utils (the LDAP tests need a real OpenLDAP server)");
        var directory = Directory.CreateTempSubdirectory("vmpooler-slapd-").FullName;
        var server = new SlapdServer(RedisServer.FreePort(), directory, tls ? RedisServer.FreePort() : null);
        try
        {
            await server.InitialiseAsync(slapd);
            await server.StartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private string ConfigFile => Path.Combine(_directory, "slapd.conf");

    private async Task InitialiseAsync(string slapd)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "data"));
        var tlsConfig = "";
        if (TlsPort is not null)
        {
            await TestCertificates.WriteServerCertificateAsync(_directory, CaFile, OtherCaFile);
            tlsConfig = $"""
                TLSCACertificateFile {CaFile}
                TLSCertificateFile {_directory}/server.pem
                TLSCertificateKeyFile {_directory}/server.key
                """;
        }

        var config = $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            {tlsConfig}
            pidfile {_directory}/slapd.pid
            argsfile {_directory}/slapd.args
            modulepath /usr/lib/ldap
            moduleload back_mdb
            database mdb
            maxsize 10485760
            suffix "{Suffix}"
            rootdn "cn=admin,{Suffix}"
            directory {_directory}/data
            access to attrs=userPassword by self write by anonymous auth by * none
            access to * by users read by anonymous auth
            """;
        await File.WriteAllTextAsync(Path.Combine(_directory, "slapd.conf"), config);

        var ldif = new StringBuilder();
        ldif.Append(CultureInfo.InvariantCulture, $"dn: {Suffix}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n");
        foreach (var ou in new[] { "people", "staff" })
        {
            ldif.Append(CultureInfo.InvariantCulture, $"dn: ou={ou},{Suffix}\nobjectClass: organizationalUnit\nou: {ou}\n\n");
        }

        ldif.Append(CultureInfo.InvariantCulture, $"dn: {ServiceDn}\nobjectClass: person\ncn: svc\nsn: svc\nuserPassword: {Ssha(ServicePassword)}\n\n");
        foreach (var (dn, uid, cn, password) in Users)
        {
            ldif.Append(CultureInfo.InvariantCulture, $"dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {cn}\nsn: {cn}\nuserPassword: {Ssha(password)}\n\n");
        }

        var ldifFile = Path.Combine(_directory, "data.ldif");
        await File.WriteAllTextAsync(ldifFile, ldif.ToString());
        var slapadd = FindSbin("slapadd") ?? Path.Combine(Path.GetDirectoryName(slapd)!, "slapadd");
        var (exitCode, output) = await RunAsync(slapadd, "-f", ConfigFile, "-l", ldifFile);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"slapadd failed ({exitCode}): {output}");
        }
    }

    public async Task StartAsync()
    {
        var slapd = FindSbin("slapd")!;
        var info = new ProcessStartInfo(slapd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };

        // -d keeps slapd in the foreground (no fork), so the Process we hold is the server itself.
        var urls = TlsPort is { } tlsPort ? $"ldap://127.0.0.1:{Port}/ ldaps://127.0.0.1:{tlsPort}/" : $"ldap://127.0.0.1:{Port}/";
        foreach (var argument in new[] { "-d", "0", "-f", ConfigFile, "-h", urls })
        {
            info.ArgumentList.Add(argument);
        }

        var errors = new StringBuilder();
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start slapd");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.Append(e.Data).Append('\n');
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var process = _process;
        await AsyncTestHelpers.WaitUntilAsync(
            async () => process.HasExited ? throw new InvalidOperationException($"slapd exited ({process.ExitCode}): {errors}") : await WhoAmIAsync(),
            $"slapd answers on port {Port}",
            TimeSpan.FromSeconds(15));
    }

    /// <summary>Stops the server at once (SIGKILL), as a crash or an outage would.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().DefaultTimeout();
        }

        _process?.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An anonymous <c>ldapwhoami</c>: true once slapd answers LDAP (not just accepts TCP).</summary>
    private async Task<bool> WhoAmIAsync()
    {
        var whoami = RedisServer.FindExecutable("ldapwhoami")
            ?? throw new InvalidOperationException("ldapwhoami is not installed: apt-get install -y ldap-utils");
        var (exitCode, _) = await RunAsync(whoami, "-x", "-H", $"ldap://127.0.0.1:{Port}/");
        return exitCode == 0;
    }

    /// <summary>An RFC 2307 <c>{SSHA}</c> password: base64(SHA-1(password ‖ salt) ‖ salt), as slappasswd makes.</summary>
    private static string Ssha(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(8);
#pragma warning disable CA5350 // SHA-1 is what {SSHA} means; this is a throw-away test directory.
        var hash = SHA1.HashData([.. Encoding.UTF8.GetBytes(password), .. salt]);
#pragma warning restore CA5350
        return "{SSHA}" + Convert.ToBase64String([.. hash, .. salt]);
    }

    private static string? FindSbin(string name)
        => RedisServer.FindExecutable(name) ?? new[] { "/usr/sbin", "/usr/local/sbin", "/sbin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static async Task<(int ExitCode, string Output)> RunAsync(string executable, params string[] arguments)
    {
        var info = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + executable);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, (await output) + (await error));
    }
}
