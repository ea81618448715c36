namespace VmPooler.ChaosTests.Fixtures;

/// <summary>How a scenario brings a killed manager back.</summary>
public enum ManagerRestart
{
    /// <summary>
    /// Today's single-lease manager: the test drops the dead manager's lease once the process is gone (what its 15 s
    /// expiry would do) and starts a new manager with no id.
    /// </summary>
    DropDeadLease,

    /// <summary>
    /// The second-generation manager: the same <c>--manager-id</c> again, nothing dropped; it must resume its own pools
    /// at once (<see cref="ManagerV2"/>).
    /// </summary>
    SameManagerId,
}
