using System.Globalization;

namespace VmPooler.Core.Inventory;

/// <summary>Names of the per-VM metadata fields (spec §3.2); both inventories and every component use these.</summary>
public static class VmFields
{
    public const string Clone = "clone";
    public const string Template = "template";
    public const string Pool = "pool";
    public const string Domain = "domain";
    public const string CloneTime = "clone_time";
    public const string Ip = "ip";
    public const string SshPort = "ssh_port";

    /// <summary>The fingerprint of the VM's SSH host key, when its provider reports one (our extension).</summary>
    public const string HostKeyFingerprint = "host_key_fingerprint";
    public const string CloneError = "clone_error";
    public const string CloneErrorClass = "clone_error_class";
    public const string Ready = "ready";
    public const string Check = "check";
    public const string OpenSocketError = "open_socket_error";
    public const string TimeoutNotification = "timeout_notification";
    public const string Checkout = "checkout";
    public const string Token = "token:token";
    public const string TokenUser = "token:user";
    public const string Lifetime = "lifetime";
    public const string TagPrefix = "tag:";
    public const string SnapshotPrefix = "snapshot:";
    public const string Disk = "disk";
    public const string Destroy = "destroy";
    public const string Host = "host";
    public const string Migrated = "migrated";
    public const string Discovered = "discovered";

    /// <summary>The on-demand request a VM is cloned for, and the name (pool or alias) it was requested as.</summary>
    public const string RequestId = "request_id";
    public const string RequestName = "request_name";
}

/// <summary>How times are written into VM metadata and read back (ISO 8601, UTC, with fractions).</summary>
public static class VmTime
{
    public static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads a time written by <see cref="Format"/> (the round-trip form, parsed on its fast path: the manager reads every
    /// VM's times on every pass) or any other form the original wrote (general parsing, UTC unless an offset is given).
    /// </summary>
    public static DateTimeOffset? Parse(string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(value, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var exact))
        {
            return exact;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }

    /// <summary>Ruby's <c>Time#to_s</c> form, <c>2024-01-01 10:00:00 +0000</c>, used by <c>/status</c>.</summary>
    public static string FormatRuby(DateTimeOffset time)
    {
        var offset = time.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var abs = offset.Duration();
        return string.Create(CultureInfo.InvariantCulture, $"{time:yyyy-MM-dd HH:mm:ss} {sign}{abs.Hours:00}{abs.Minutes:00}");
    }

    /// <summary>RFC 3339 with a colon in the offset and whole seconds, <c>2024-01-01T10:00:00+00:00</c>.</summary>
    public static string FormatRfc3339(DateTimeOffset time) => time.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);
}
