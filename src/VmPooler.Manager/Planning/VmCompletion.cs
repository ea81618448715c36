using VmPooler.Core.Inventory;

namespace VmPooler.Manager.Planning;

/// <summary>Why the planner moves a VM to completed.</summary>
internal enum CompletionReason
{
    /// <summary>The provider no longer has it: it is completed and then forgotten, not destroyed.</summary>
    Missing,

    /// <summary>A running VM past its lifetime.</summary>
    LifetimeOver,

    /// <summary>A ready VM past <c>ready_ttl</c>.</summary>
    ReadyTtl,

    /// <summary>A ready VM over the pool's size (the newest go first).</summary>
    Excess,
}

/// <summary>
/// One planned move to completed. <paramref name="Expect"/> makes it conditional on the fields the decision was based on
/// (a lifetime extended meanwhile wins); the VM is destroyed afterwards unless it is missing from the provider.
/// </summary>
internal sealed record VmCompletion(VmRecord Vm, VmState From, CompletionReason Reason, IReadOnlyDictionary<string, string?>? Expect = null)
{
    public bool Destroy => Reason != CompletionReason.Missing;
}
