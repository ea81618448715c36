namespace VmPooler.LoadGen;

/// <summary>
/// One manager run of the load generator: <paramref name="Managers"/> manager processes (<c>--role manager</c>) on one
/// Redis with <paramref name="Pools"/> × <paramref name="Size"/> VMs of the dummy provider with zero delays; an idle window
/// of <paramref name="Window"/> (zero: none) and <paramref name="Checkouts"/> single checkouts timed to their replacement.
/// </summary>
internal sealed record ManagerRun(string Name, int Pools, int Size, int Managers, TimeSpan Window, int Checkouts, int TaskLimit)
{
    /// <summary>With several managers: SIGKILL the busiest after the idle window and time the replacements that follow.</summary>
    public bool KillOne { get; init; }
}
