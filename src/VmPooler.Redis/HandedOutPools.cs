namespace VmPooler.Redis;

/// <summary>
/// The pools of the VMs this process handed out last, so that returning one needs no name → pool lookup first (one
/// Redis round trip less per return in the usual case: the client returns what it checked out through the same API
/// process). A fixed number of slots, a name's slot chosen by its hash; a newer name overwrites an older one in its slot.
/// Only a hint: whoever uses it must check that the VM is in that pool (a script on the pool does) and look the pool
/// up when it is not.
/// </summary>
internal sealed class HandedOutPools
{
    private const int Slots = 4096;

    private readonly Entry?[] _slots = new Entry?[Slots];

    public void Add(string vm, string pool) => Volatile.Write(ref _slots[SlotOf(vm)], new Entry(vm, pool));

    public string? PoolOf(string vm) => Volatile.Read(ref _slots[SlotOf(vm)]) is { } entry && entry.Vm == vm ? entry.Pool : null;

    public void Remove(string vm)
    {
        ref var slot = ref _slots[SlotOf(vm)];
        if (Volatile.Read(ref slot) is { } entry && entry.Vm == vm)
        {
            Interlocked.CompareExchange(ref slot, null, entry);
        }
    }

    private static int SlotOf(string vm) => (int)((uint)StringComparer.Ordinal.GetHashCode(vm) % Slots);

    private sealed record Entry(string Vm, string Pool);
}
