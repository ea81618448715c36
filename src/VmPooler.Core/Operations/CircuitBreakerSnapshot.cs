namespace VmPooler.Core.Operations;

/// <summary>One provider's breaker and adaptive timeout as <c>/status</c> and the dashboard show them.</summary>
public sealed record CircuitBreakerSnapshot(
    string Provider,
    CircuitState State,
    int ConsecutiveFailures,
    DateTimeOffset? OpenedAt,
    DateTimeOffset? RetryAt,
    string? LastError,
    long Rejected,
    TimeSpan Timeout);
