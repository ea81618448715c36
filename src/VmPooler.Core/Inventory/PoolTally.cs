namespace VmPooler.Core.Inventory;

/// <summary>A pool's counts and the names of its completed VMs (see <see cref="IInventory.GetTallyAsync"/>).</summary>
public sealed record PoolTally(PoolCounts Counts, IReadOnlyList<string> Completed);
