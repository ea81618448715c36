namespace VmPooler.Providers.Libvirt;

/// <summary>One host of a libvirt provider section.</summary>
internal sealed record LibvirtHostOptions
{
    /// <summary>The libvirt URI, e.g. <c>qemu:///system</c> or <c>qemu+ssh://root@kvm1/system</c>.</summary>
    public required string Uri { get; init; }

    /// <summary>
    /// The address a VM's forwarded SSH port is reached on: the provider's <c>forward_address</c>, or the URI's host
    /// when that is a wildcard (<c>0.0.0.0</c>) and the host is remote.
    /// </summary>
    public string Address { get; init; } = "127.0.0.1";

    /// <summary><c>keepalive_interval</c> (whole seconds): the time between keep-alive messages (0 disables them). Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Unanswered keep-alives after which the connection is closed.</summary>
    public int KeepAliveCount { get; init; } = 3;
}
