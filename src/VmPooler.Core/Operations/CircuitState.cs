namespace VmPooler.Core.Operations;

/// <summary>A provider circuit breaker's state; the numbers are the <c>circuit_breaker.&lt;provider&gt;.state</c> gauge.</summary>
public enum CircuitState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}
