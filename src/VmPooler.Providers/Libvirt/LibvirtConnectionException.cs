namespace VmPooler.Providers.Libvirt;

/// <summary>
/// The host cannot be reached or its connection broke (daemon down, SSH failed, socket closed); the provider reconnects
/// on the next call. Also thrown when a call exceeds its time limit (<see cref="LibvirtErrorCode.OperationTimeout"/>).
/// </summary>
public sealed class LibvirtConnectionException : LibvirtException
{
    public LibvirtConnectionException(string message, LibvirtErrorCode code, Exception? inner = null)
        : base(message, code, inner)
    {
    }

    public LibvirtConnectionException()
        : base("connection failed", LibvirtErrorCode.NoConnect)
    {
    }

    public LibvirtConnectionException(string message)
        : base(message, LibvirtErrorCode.NoConnect)
    {
    }

    public LibvirtConnectionException(string message, Exception inner)
        : base(message, LibvirtErrorCode.NoConnect, inner)
    {
    }
}
