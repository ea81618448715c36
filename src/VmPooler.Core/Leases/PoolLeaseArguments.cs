namespace VmPooler.Core.Leases;

/// <summary>The argument checks every <see cref="IPoolLeaseStore"/> shares, so the stores reject the same mistakes alike.</summary>
public static class PoolLeaseArguments
{
    /// <summary>A lease or registration needs a positive time-to-live of at least a millisecond (Redis' PX unit).</summary>
    public static void CheckTimeToLive(TimeSpan timeToLive)
    {
        if (timeToLive < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "a lease needs a time-to-live of at least 1 ms");
        }
    }

    /// <summary>A manager id is a non-blank string.</summary>
    public static void CheckManagerId(string managerId)
    {
        if (string.IsNullOrWhiteSpace(managerId))
        {
            throw new ArgumentException("a manager id must not be empty", nameof(managerId));
        }
    }
}
