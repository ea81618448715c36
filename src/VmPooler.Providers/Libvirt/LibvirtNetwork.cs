namespace VmPooler.Providers.Libvirt;

/// <summary>How a clone is reached.</summary>
internal enum LibvirtNetwork
{
    /// <summary>
    /// QEMU user-mode networking with guest port 22 forwarded to a free port of the host (<c>forward_address</c>,
    /// <c>forward_ports</c>); the template's interfaces are dropped. Needs nothing on the host (no bridge, no dnsmasq).
    /// </summary>
    Forward,

    /// <summary>The template's interfaces (bridge, libvirt network) with new MACs; the address comes from the DHCP lease, the guest agent or ARP.</summary>
    Template,
}
