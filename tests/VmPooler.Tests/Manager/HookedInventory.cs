using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Manager;

/// <summary>
/// An inventory that lets a test act between the reconciler's snapshot and its moves (e.g. a client extending a lifetime
/// mid-pass), so the conditional moves can be shown to lose such races safely.
/// </summary>
internal sealed class HookedInventory(IInventory inner) : DelegatingInventory(inner)
{
    /// <summary>Runs once, right before the next <see cref="GetPoolAsync"/> takes its snapshot.</summary>
    public Func<Task>? BeforeNextSnapshot { get; set; }

    /// <summary>Runs once, right after the next <see cref="GetPoolAsync"/> took its snapshot.</summary>
    public Func<Task>? AfterNextSnapshot { get; set; }

    public override async Task<PoolSnapshot> GetPoolAsync(string pool, CancellationToken cancellationToken)
    {
        if (BeforeNextSnapshot is { } before)
        {
            BeforeNextSnapshot = null;
            await before();
        }

        var snapshot = await Inner.GetPoolAsync(pool, cancellationToken);
        if (AfterNextSnapshot is { } hook)
        {
            AfterNextSnapshot = null;
            await hook();
        }

        return snapshot;
    }
}
