namespace VmPooler.Core.Operations;

/// <summary>A VM the purge found stale: its pool, the state it is stale in and for how long.</summary>
public sealed record PurgeCandidate(string Pool, string Vm, DeadLetterKind From, string State, TimeSpan Age);
