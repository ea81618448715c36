namespace VmPooler.Providers.VSphere;

/// <summary>What <see cref="VSphereClient.CloneVmAsync"/> sends as the <c>VirtualMachineCloneSpec</c>.</summary>
internal sealed record VmCloneSpec
{
    /// <summary>Datastore for the clone's files; null keeps the template's.</summary>
    public MoRef? Datastore { get; init; }

    /// <summary>Resource pool of the clone (the clone target's root pool).</summary>
    public MoRef? ResourcePool { get; init; }

    /// <summary>Host to place the clone on; null lets vCenter (DRS) choose.</summary>
    public MoRef? Host { get; init; }

    /// <summary>For a linked clone, the template snapshot the clone's delta disks grow from; null for a full clone.</summary>
    public MoRef? LinkedFromSnapshot { get; init; }

    public string? Annotation { get; init; }

    /// <summary><c>extraConfig</c> entries (key → string value), e.g. <c>guestinfo.hostname</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ExtraConfig { get; init; } = [];

    public bool PowerOn { get; init; } = true;
}
