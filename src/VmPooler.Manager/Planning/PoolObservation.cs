using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;

namespace VmPooler.Manager.Planning;

/// <summary>
/// What a full pass knows about one pool when it plans: the pool (with its run-time overrides), its timings, every VM
/// the inventory tracks, the names the provider lists, the VMs this manager is cloning or destroying right now, and now.
/// </summary>
internal sealed record PoolObservation(
    PoolOptions Pool,
    PoolTimings Timings,
    PoolSnapshot Snapshot,
    IReadOnlySet<string> Listed,
    IReadOnlySet<string> Busy,
    DateTimeOffset Now);
