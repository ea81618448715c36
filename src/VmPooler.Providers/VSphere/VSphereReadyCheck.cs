namespace VmPooler.Providers.VSphere;

/// <summary>How the vSphere provider decides a VM is ready (pool option <c>ready_check</c>).</summary>
internal enum VSphereReadyCheck
{
    /// <summary><c>tcp</c> (default): TCP port 22 on the VM's guest IP address accepts a connection, as the original does.</summary>
    Tcp,

    /// <summary><c>tools</c>: powered on and VMware Tools report running; needs no network path to the guest.</summary>
    Tools,

    /// <summary><c>powered_on</c>: powered on is enough (simulators, appliances without Tools).</summary>
    PoweredOn,
}
