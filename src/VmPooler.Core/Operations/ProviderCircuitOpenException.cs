namespace VmPooler.Core.Operations;

/// <summary>A provider call refused without reaching the provider, because its circuit breaker is open.</summary>
public sealed class ProviderCircuitOpenException : Exception
{
    public ProviderCircuitOpenException()
    {
    }

    public ProviderCircuitOpenException(string message)
        : base(message)
    {
    }

    public ProviderCircuitOpenException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
