using VmPooler.Core.Configuration;

namespace VmPooler.Core.Providers;

/// <summary>
/// What the pool manager asks of a provider (spec §6.1, the 3.x contract). Every call takes a cancellation token;
/// the manager puts a time limit on each one. Methods throw on failure unless they say otherwise.
/// </summary>
public interface IVmProvider
{
    /// <summary>The provider instance name (the key under <c>:providers:</c>).</summary>
    string Name { get; }

    /// <summary>Names of every VM living in the pool's location. Throwing aborts the manager's pass over the pool.</summary>
    Task<IReadOnlyList<string>> VmsInPoolAsync(PoolOptions pool, CancellationToken cancellationToken);

    /// <summary>Creates and starts a VM named <paramref name="vmName"/>; throws on failure.</summary>
    Task<ProviderVm> CreateVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken);

    /// <summary>The VM's IP address, or null when it has none (which the manager treats as a failed clone).</summary>
    Task<string?> GetVmIpAddressAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken);

    /// <summary>True when the VM is usable; false when it is not (yet). May throw.</summary>
    Task<ReadyCheckResult> CheckVmReadyAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken);

    /// <summary>The VM as the provider sees it, or null when it does not exist.</summary>
    Task<ProviderVm?> GetVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken);

    /// <summary>Destroys the VM; true when it is gone (also when it already was). Throws on failure.</summary>
    Task<bool> DestroyVmAsync(PoolOptions pool, string vmName, CancellationToken cancellationToken);

    /// <summary>Adds a disk of <paramref name="sizeGb"/> GB; false when it could not.</summary>
    Task<bool> CreateDiskAsync(PoolOptions pool, string vmName, int sizeGb, CancellationToken cancellationToken);

    /// <summary>Takes a snapshot named <paramref name="snapshotName"/>; false when it could not.</summary>
    Task<bool> CreateSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken);

    /// <summary>Reverts to a snapshot; false when the snapshot is unknown or the revert failed.</summary>
    Task<bool> RevertSnapshotAsync(PoolOptions pool, string vmName, string snapshotName, CancellationToken cancellationToken);
}

/// <summary>A VM as a provider reports it (spec §6.1 <c>get_vm</c>).</summary>
public sealed record ProviderVm
{
    public required string Name { get; init; }

    /// <summary>The hostname the guest reports; empty when unknown.</summary>
    public string Hostname { get; init; } = "";

    public string Template { get; init; } = "";
    public string PoolName { get; init; } = "";
    public DateTimeOffset? BootTime { get; init; }
    public string PowerState { get; init; } = "";
    public string? Ip { get; init; }

    /// <summary>A port other than 22 on which the VM's SSH is reached (e.g. a forwarded loopback port), if any.</summary>
    public int? SshPort { get; init; }

    /// <summary>The fingerprint of the VM's own SSH host key (<c>SHA256:…</c>, as <c>ssh-keygen -l</c> shows it), if known.</summary>
    public string? HostKeyFingerprint { get; init; }
}

/// <summary>
/// The answer of a ready check: ready or not, and why not (stored as <c>open_socket_error</c>). <paramref name="Abandoned"/>
/// says the VM can never become ready because its clone can no longer finish (the process that cloned it is gone), so
/// the manager replaces it at once instead of waiting for the pool's <c>timeout</c>; providers that cannot tell (a
/// vSphere clone runs on the server) never say so.
/// </summary>
public readonly record struct ReadyCheckResult(bool IsReady, string? Error = null, bool Abandoned = false)
{
    public static ReadyCheckResult Ready { get; } = new(true);

    public static ReadyCheckResult NotReady(string reason) => new(false, reason);

    /// <summary>Not ready, and never will be: its clone died with the process that ran it.</summary>
    public static ReadyCheckResult CloneAbandoned(string reason) => new(false, reason, Abandoned: true);
}

/// <summary>Creates provider instances from their configuration sections.</summary>
public interface IVmProviderFactory
{
    /// <summary>The provider classes this factory knows (lower case), e.g. <c>dummy</c>.</summary>
    IReadOnlyCollection<string> KnownClasses { get; }

    /// <summary>
    /// Validates a provider section and its pools, returning every problem found, each naming its key. Some providers
    /// also read settings of the global <c>:config:</c> section (<paramref name="globalConfig"/> as written,
    /// <paramref name="global"/> as typed), which are checked here too.
    /// </summary>
    IReadOnlyList<string> Validate(
        ProviderOptions provider,
        IReadOnlyList<(int Index, PoolOptions Pool)> pools,
        IReadOnlyDictionary<string, object?>? globalConfig = null,
        GlobalOptions? global = null);

    /// <summary>Creates the provider instance for <paramref name="provider"/>.</summary>
    IVmProvider Create(ProviderOptions provider, VmPoolerOptions options);
}
