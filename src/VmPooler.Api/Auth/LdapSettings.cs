using System.Globalization;

namespace VmPooler.Api.Auth;

/// <summary>
/// The <c>:ldap:</c> part of the <c>:auth:</c> section (spec §5.2, §7.2), parsed from the raw settings. The config
/// loader validates the same keys and names the bad one; <see cref="Parse"/> re-checks only what it needs and throws
/// <see cref="ArgumentException"/> for settings that could never authenticate anyone.
/// </summary>
internal sealed record LdapSettings
{
    /// <summary>Default <c>port</c>: plain LDAP.</summary>
    public const int DefaultPort = 389;

    /// <summary>Default <c>timeout</c> in seconds: the limit for the whole authentication, however many binds it takes.</summary>
    public const double DefaultTimeoutSeconds = 10;

    public required string Host { get; init; }

    public int Port { get; init; } = DefaultPort;

    /// <summary><c>base</c>: the search bases, tried in order. A string is split on white space.</summary>
    public required IReadOnlyList<string> Bases { get; init; }

    /// <summary><c>user_object</c>: the naming attributes (e.g. <c>uid</c>, <c>cn</c>), tried in order for each base.</summary>
    public required IReadOnlyList<string> UserObjects { get; init; }

    public LdapEncryption Encryption { get; init; } = LdapEncryption.None;

    /// <summary>
    /// <c>encryption.tls_options.ca_file</c>: a PEM file of the CA(s) that signed the server's certificate, trusted besides
    /// the system's store. Read once at start-up.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary><c>encryption.tls_options.ca_path</c>: a directory of PEM CA certificates, trusted besides the system's store.</summary>
    public string? CaPath { get; init; }

    /// <summary><c>service_account_hash</c>: when set, users are found by a search instead of a guessed DN.</summary>
    public LdapServiceAccount? ServiceAccount { get; init; }

    /// <summary><c>timeout</c> (seconds, this port's addition): limit for each LDAP operation and for the whole authentication.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(DefaultTimeoutSeconds);

    /// <summary>Reads the settings from the whole <c>:auth:</c> section (<c>AuthOptions.Settings</c>).</summary>
    public static LdapSettings Parse(IReadOnlyDictionary<string, object?> auth)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (Get(auth, "ldap") is not IReadOnlyDictionary<string, object?> ldap)
        {
            throw new ArgumentException("auth.ldap: is required when auth.provider is \"ldap\"", nameof(auth));
        }

        var host = Get(ldap, "host") as string;
        if (string.IsNullOrWhiteSpace(host))
        {
            throw new ArgumentException("auth.ldap.host: is required", nameof(auth));
        }

        var port = DefaultPort;
        if (Get(ldap, "port") is string rawPort && rawPort.Length > 0
            && (!int.TryParse(rawPort, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new ArgumentException("auth.ldap.port: must be an integer between 1 and 65535", nameof(auth));
        }

        var bases = Words(Get(ldap, "base"));
        if (bases.Count == 0)
        {
            throw new ArgumentException("auth.ldap.base: is required", nameof(auth));
        }

        var userObjects = Words(Get(ldap, "user_object"));
        if (userObjects.Count == 0)
        {
            throw new ArgumentException("auth.ldap.user_object: is required", nameof(auth));
        }

        if (userObjects.FirstOrDefault(u => !LdapNames.IsAttributeType(u)) is { } badUserObject)
        {
            throw new ArgumentException($"auth.ldap.user_object: \"{badUserObject}\" is not an attribute name", nameof(auth));
        }

        var timeout = TimeSpan.FromSeconds(DefaultTimeoutSeconds);
        if (Get(ldap, "timeout") is string rawTimeout && rawTimeout.Length > 0)
        {
            if (!double.TryParse(rawTimeout, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > 3600)
            {
                throw new ArgumentException("auth.ldap.timeout: must be a number of seconds > 0", nameof(auth));
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        var encryption = Get(ldap, "encryption");
        var tlsOptions = TlsOptions(encryption);
        return new LdapSettings
        {
            Host = host.Trim(),
            Port = port,
            Bases = bases,
            UserObjects = userObjects,
            Encryption = ParseEncryption(encryption),
            CaFile = TlsPath(tlsOptions, "ca_file", File.Exists, "no such file"),
            CaPath = TlsPath(tlsOptions, "ca_path", Directory.Exists, "no such directory"),
            ServiceAccount = ParseServiceAccount(Get(ldap, "service_account_hash")),
            Timeout = timeout,
        };
    }

    /// <summary>
    /// <c>encryption</c> is a hash handed to Ruby's Net::LDAP (<c>{method: simple_tls, tls_options: {...}}</c>). Of
    /// <c>tls_options</c> only <c>ca_file</c> and <c>ca_path</c> are honoured (see <see cref="TlsPath"/>); protocol
    /// versions and ciphers are negotiated by libldap, and the certificate is always verified (the system trust store:
    /// <c>TLS_CACERT</c> in <c>/etc/ldap/ldap.conf</c> or <c>LDAPTLS_CACERT</c>, plus the given CAs). Symbol values
    /// (<c>:simple_tls</c>) keep their colon in the raw settings, so it is dropped here.
    /// </summary>
    internal static LdapEncryption ParseEncryption(object? encryption)
    {
        if (encryption is null || (encryption is string s && s.Length == 0))
        {
            return LdapEncryption.None;
        }

        if (encryption is not IReadOnlyDictionary<string, object?> hash)
        {
            throw new ArgumentException("auth.ldap.encryption: must be a mapping", nameof(encryption));
        }

        var method = Get(hash, "method");
        return method switch
        {
            null => LdapEncryption.None,
            string text => text.TrimStart(':') switch
            {
                "" => LdapEncryption.None,
                "simple_tls" => LdapEncryption.SimpleTls,
                "start_tls" => LdapEncryption.StartTls,
                _ => throw new ArgumentException("auth.ldap.encryption.method: must be simple_tls or start_tls", nameof(encryption)),
            },
            _ => throw new ArgumentException("auth.ldap.encryption.method: must be simple_tls or start_tls", nameof(encryption)),
        };
    }

    /// <summary><c>encryption.tls_options</c>: the mapping, or null when absent or empty.</summary>
    private static IReadOnlyDictionary<string, object?>? TlsOptions(object? encryption)
        => encryption is not IReadOnlyDictionary<string, object?> hash ? null : Get(hash, "tls_options") switch
        {
            null => null,
            string { Length: 0 } => null,
            IReadOnlyDictionary<string, object?> options => options,
            _ => throw new ArgumentException("auth.ldap.encryption.tls_options: must be a mapping", nameof(encryption)),
        };

    /// <summary><c>tls_options.&lt;name&gt;</c> as a full path that must pass <paramref name="exists"/>; null when absent.</summary>
    private static string? TlsPath(IReadOnlyDictionary<string, object?>? tlsOptions, string name, Func<string, bool> exists, string missing)
    {
        if (tlsOptions is null || Get(tlsOptions, name) is not { } value || (value is string blank && blank.Length == 0))
        {
            return null;
        }

        if (value is not string path || !exists(path))
        {
            // Named after the setting it sits in, as ParseEncryption's errors are.
            throw new ArgumentException($"auth.ldap.encryption.tls_options.{name}: {missing} ({value})", "encryption");
        }

        return Path.GetFullPath(path);
    }

    private static LdapServiceAccount? ParseServiceAccount(object? value)
    {
        if (value is null || (value is string s && s.Length == 0))
        {
            return null;
        }

        if (value is not IReadOnlyDictionary<string, object?> hash)
        {
            throw new ArgumentException("auth.ldap.service_account_hash: must be a mapping", nameof(value));
        }

        var userDn = Get(hash, "user_dn") as string;
        var password = Get(hash, "password") as string;
        if (string.IsNullOrWhiteSpace(userDn))
        {
            throw new ArgumentException("auth.ldap.service_account_hash.user_dn: is required", nameof(value));
        }

        if (string.IsNullOrEmpty(password))
        {
            throw new ArgumentException("auth.ldap.service_account_hash.password: is required", nameof(value));
        }

        return new LdapServiceAccount(userDn, password);
    }

    /// <summary>A string is split on white space (as Ruby's <c>String#split</c>); a list is taken item by item.</summary>
    internal static IReadOnlyList<string> Words(object? value) => value switch
    {
        string text => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries),
        IEnumerable<object?> items => [.. items.OfType<string>().Select(i => i.Trim()).Where(i => i.Length > 0)],
        _ => [],
    };

    /// <summary>Keys normally arrive without the YAML symbol colon; a hand-built dictionary may still have it.</summary>
    private static object? Get(IReadOnlyDictionary<string, object?> map, string key)
        => map.TryGetValue(key, out var value) || map.TryGetValue(":" + key, out value) ? value : null;
}
