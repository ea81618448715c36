namespace VmPooler.Core.Inventory;

/// <summary>
/// The inventory cannot be reached (e.g. Redis is down or too slow). The API answers 503 with the message; the manager
/// logs it and backs off. Nothing was changed by the operation that threw (each is atomic).
/// </summary>
public sealed class InventoryUnavailableException : Exception
{
    public InventoryUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    public InventoryUnavailableException()
    {
    }

    public InventoryUnavailableException(string message)
        : base(message)
    {
    }
}
