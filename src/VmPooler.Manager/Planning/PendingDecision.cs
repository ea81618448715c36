namespace VmPooler.Manager.Planning;

/// <summary>What happens to a pending VM after its ready check.</summary>
internal enum PendingDecision
{
    /// <summary>Passed: pending → ready.</summary>
    MarkReady,

    /// <summary>Passed, and cloned for an on-demand request: hand it to the request.</summary>
    Deliver,

    /// <summary>Not ready yet: wait.</summary>
    Wait,

    /// <summary>Not ready yet and slower than <c>timeout_notification</c>: warn once, keep waiting.</summary>
    Notify,

    /// <summary>Not ready within <c>timeout</c>: complete it (destroy) and replace it.</summary>
    TimeOut,

    /// <summary>Its clone can never finish (the process cloning it died): complete it and replace it at once.</summary>
    Abandon,
}
