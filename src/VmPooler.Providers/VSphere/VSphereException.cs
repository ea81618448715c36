namespace VmPooler.Providers.VSphere;

/// <summary>A vSphere call failed: a SOAP fault (<see cref="FaultType"/> names it, e.g. <c>InvalidLogin</c>) or a failed task.</summary>
public class VSphereException : Exception
{
    public VSphereException(string message, string? faultType = null, Exception? innerException = null)
        : base(message, innerException)
    {
        FaultType = faultType;
    }

    /// <summary>The fault's type without the <c>Fault</c> suffix (<c>NotAuthenticated</c>, <c>ManagedObjectNotFound</c>, …), when known.</summary>
    public string? FaultType { get; }

    public bool IsNotAuthenticated => FaultType == "NotAuthenticated";

    public bool IsManagedObjectNotFound => FaultType == "ManagedObjectNotFound";
}

/// <summary>vCenter refused the configured username and password.</summary>
public sealed class VSphereLoginException(string message, Exception? innerException = null)
    : VSphereException(message, "InvalidLogin", innerException);
