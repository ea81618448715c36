namespace VmPooler.Core.Import;

/// <summary>The kinds of record an import counts and reports, as the summary names them.</summary>
public static class ImportKinds
{
    public const string Token = "token";
    public const string Vm = "vm";
    public const string Override = "pool override";
    public const string PoolReset = "pool reset";
    public const string CloneDuration = "clone duration";
    public const string BootDuration = "boot duration";
    public const string Tag = "tag record";
    public const string LastBoot = "last boot";
    public const string OnDemand = "on-demand request";
    public const string Key = "key";

    /// <summary>Every kind, in the order the summary lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Token, Vm, Override, PoolReset, OnDemand, CloneDuration, BootDuration, Tag, LastBoot];
}
