namespace VmPooler.Providers.Libvirt;

/// <summary>The domain, storage pool, volume, snapshot or metadata asked for does not exist.</summary>
public sealed class LibvirtNotFoundException : LibvirtException
{
    public LibvirtNotFoundException(string message, LibvirtErrorCode code)
        : base(message, code)
    {
    }

    public LibvirtNotFoundException()
        : base("not found", LibvirtErrorCode.NoDomain)
    {
    }

    public LibvirtNotFoundException(string message)
        : base(message, LibvirtErrorCode.NoDomain)
    {
    }

    public LibvirtNotFoundException(string message, Exception inner)
        : base(message, LibvirtErrorCode.NoDomain, inner)
    {
    }
}
