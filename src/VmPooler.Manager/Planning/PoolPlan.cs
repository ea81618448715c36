using VmPooler.Core.Inventory;

namespace VmPooler.Manager.Planning;

/// <summary>
/// The actions of one full pass over a pool, in the order they are carried out: adopt unknown VMs (then destroy them),
/// complete VMs, health-check ready VMs, ready-check pending VMs, forget pending VMs the provider lost, destroy or forget
/// completed VMs, and clone what the pool lacks. <see cref="Ready"/> and <see cref="Pending"/> are the pool's counts
/// once the planned removals are done (pending without on-demand VMs, which are not the pool's).
/// </summary>
internal sealed record PoolPlan(
    IReadOnlyList<string> Adopt,
    IReadOnlyList<VmCompletion> Complete,
    IReadOnlyList<VmRecord> CheckReady,
    IReadOnlyList<VmRecord> CheckPending,
    IReadOnlyList<VmRecord> ForgetPending,
    IReadOnlyList<string> Destroy,
    IReadOnlyList<string> ForgetCompleted,
    int Ready,
    int Pending,
    int Clones)
{
    /// <summary>True when the plan changes anything without waiting for a check.</summary>
    public bool HasWork => Adopt.Count + Complete.Count + ForgetPending.Count + ForgetCompleted.Count + Clones > 0;
}
