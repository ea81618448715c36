using System.Globalization;
using VmPooler.Core.Lifecycle;

namespace VmPooler.Core.Inventory;

/// <summary>
/// A VM as the API and the manager read it: its inventory record (a Redis-hash-shaped field map, spec §3.2) parsed once,
/// with times as <see cref="DateTimeOffset"/>, numbers as numbers and the prefixed fields (tags, snapshots) and the
/// disk list split out. Build it with <see cref="VmRecord.View"/>; the raw fields stay for the inventories, the import
/// and the contract tests.
/// </summary>
public sealed record VmView
{
    public required string Name { get; init; }

    public required string Pool { get; init; }

    /// <summary>Which set holds the VM now; null once it was forgotten (destroyed, its metadata kept for <c>data_ttl</c>).</summary>
    public VmState? State { get; init; }

    /// <summary>The template it was cloned from (the pool's name when not recorded).</summary>
    public required string Template { get; init; }

    /// <summary>When its clone started (the VM was registered as pending).</summary>
    public DateTimeOffset? Cloned { get; init; }

    /// <summary>How long the provider's clone took, in seconds, once it finished; null while cloning.</summary>
    public double? CloneSeconds { get; init; }

    /// <summary>When it passed its first ready check.</summary>
    public DateTimeOffset? Ready { get; init; }

    /// <summary>When it was last health-checked (its first ready check counts).</summary>
    public DateTimeOffset? Checked { get; init; }

    public DateTimeOffset? CheckedOut { get; init; }

    public DateTimeOffset? Destroyed { get; init; }

    /// <summary>The raw <c>lifetime</c> field (hours, as a client set it); see <see cref="LifetimeHours"/>.</summary>
    public string? Lifetime { get; init; }

    /// <summary>The hash of the token that checked it out, and that token's user.</summary>
    public string? OwnerTokenHash { get; init; }

    public string? OwnerUser { get; init; }

    public string? Ip { get; init; }

    public int? SshPort { get; init; }

    public string? HostKeyFingerprint { get; init; }

    public string? Host { get; init; }

    public string? Migrated { get; init; }

    /// <summary>The on-demand request it was cloned for, and the name (pool or alias) that request asked for.</summary>
    public string? RequestId { get; init; }

    public string? RequestName { get; init; }

    /// <summary>Cloned for an on-demand request (it does not count towards its pool's size).</summary>
    public bool IsOnDemand => RequestId is { Length: > 0 };

    /// <summary>Why its clone failed, and why its last ready check failed, when they did.</summary>
    public string? CloneError { get; init; }

    public string? OpenSocketError { get; init; }

    /// <summary>The slow-pending warning (<c>timeout_notification</c>) was given.</summary>
    public bool TimeoutNotified { get; init; }

    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Snapshots { get; init; } = [];

    /// <summary>The sizes of the disks added to it (GB, as the client asked), in order.</summary>
    public IReadOnlyList<string> Disks { get; init; } = [];

    /// <summary>
    /// Its lifetime in hours: its own when positive, else <paramref name="defaultHours"/>. A lifetime of 0 means the
    /// default, not "never" (spec Q21); the value is read as Ruby's <c>to_i</c> does (<c>"2x"</c> → 2).
    /// </summary>
    public double LifetimeHours(double defaultHours) => LifecycleRules.ParseLeadingInt(Lifetime) is > 0 and var hours ? hours : defaultHours;

    public bool HasSnapshot(string name) => Snapshots.Contains(name, StringComparer.Ordinal);

    /// <summary>Parses <paramref name="record"/>'s fields; unknown fields are left out, unreadable values read as absent.</summary>
    public static VmView From(VmRecord record)
    {
        DateTimeOffset? Time(string name) => VmTime.Parse(record.Get(name));

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        var snapshots = new List<string>();
        foreach (var (field, value) in record.Fields)
        {
            if (field.StartsWith(VmFields.TagPrefix, StringComparison.Ordinal))
            {
                tags[field[VmFields.TagPrefix.Length..]] = value;
            }
            else if (field.StartsWith(VmFields.SnapshotPrefix, StringComparison.Ordinal) && value.Length > 0)
            {
                snapshots.Add(field[VmFields.SnapshotPrefix.Length..]);
            }
        }

        return new VmView
        {
            Name = record.Name,
            Pool = record.Pool,
            State = record.State,
            Template = record.Get(VmFields.Template) ?? record.Pool,
            Cloned = Time(VmFields.Clone),
            CloneSeconds = double.TryParse(record.Get(VmFields.CloneTime), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : null,
            Ready = Time(VmFields.Ready),
            Checked = Time(VmFields.Check),
            CheckedOut = Time(VmFields.Checkout),
            Destroyed = Time(VmFields.Destroy),
            Lifetime = record.Get(VmFields.Lifetime),
            OwnerTokenHash = record.Get(VmFields.Token),
            OwnerUser = record.Get(VmFields.TokenUser),
            Ip = record.Get(VmFields.Ip),
            SshPort = int.TryParse(record.Get(VmFields.SshPort), NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) ? port : null,
            HostKeyFingerprint = record.Get(VmFields.HostKeyFingerprint) is { Length: > 0 } fingerprint ? fingerprint : null,
            Host = record.Get(VmFields.Host),
            Migrated = record.Get(VmFields.Migrated),
            RequestId = record.Get(VmFields.RequestId),
            RequestName = record.Get(VmFields.RequestName),
            CloneError = record.Get(VmFields.CloneError),
            OpenSocketError = record.Get(VmFields.OpenSocketError),
            TimeoutNotified = record.Get(VmFields.TimeoutNotification) is not null,
            Tags = tags,
            Snapshots = snapshots,
            Disks = record.Get(VmFields.Disk) is { Length: > 0 } disk ? disk.Split(':') : [],
        };
    }
}
