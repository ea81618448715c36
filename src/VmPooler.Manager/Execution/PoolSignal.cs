namespace VmPooler.Manager.Execution;

/// <summary>A pool that needs the manager's attention after background work: a top-up from its counts, or a full pass.</summary>
internal readonly record struct PoolSignal(string Pool, bool FullPass);
