namespace VmPooler.Providers.Libvirt;

/// <summary>When a clone counts as ready.</summary>
internal enum LibvirtReadyCheck
{
    /// <summary>Its SSH server sends its banner (<c>SSH-</c>) on the VM's address and port. The default.</summary>
    Ssh,

    /// <summary>A TCP connection to the VM's address and SSH port succeeds.</summary>
    Tcp,

    /// <summary>The domain runs and has an address (for guests without SSH, and libvirt's <c>test:///</c> driver).</summary>
    Running,
}
