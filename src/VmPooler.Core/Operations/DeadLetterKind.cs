namespace VmPooler.Core.Operations;

/// <summary>Why a VM went to the dead-letter queue: the queue it failed from (spec §3.4 <c>queue_from</c>).</summary>
public enum DeadLetterKind
{
    /// <summary>The provider's clone failed.</summary>
    Clone,

    /// <summary>A pending VM did not become ready within the pool's timeout.</summary>
    Pending,

    /// <summary>A ready VM failed its ready check.</summary>
    Ready,

    /// <summary>The purge removed a stale VM.</summary>
    Purge,
}
