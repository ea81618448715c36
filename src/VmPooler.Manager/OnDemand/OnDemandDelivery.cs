using System.Globalization;
using Microsoft.Extensions.Logging;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Manager.Execution;

namespace VmPooler.Manager.OnDemand;

/// <summary>
/// Hands VMs cloned for on-demand requests (spec §4.7) to their request, and counts their failures against it. A VM
/// that passed its ready check is checked out to the request (pending → running with the request's owner); when the
/// request is no longer pending (deleted, failed, complete) the VM is given back instead, so it is destroyed rather
/// than stranded.
/// </summary>
internal sealed class OnDemandDelivery(VmPoolerOptions options, IInventory inventory, IOnDemandStore? store, ILogger logger)
{
    /// <summary>
    /// Delivers <paramref name="vm"/> to its request. Returns false when the VM is not the request's any more and was
    /// moved to completed: the caller destroys it.
    /// </summary>
    public async Task<bool> DeliverAsync(PoolOptions pool, VmRecord vm, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = vm.View.RequestId!;
        var request = store is null ? null : await store.GetAsync(id, cancellationToken);
        var entry = new OnDemandEntry(vm.View.RequestName ?? pool.Name, pool.Name, 0);
        var wanted = request?.Entries.FirstOrDefault(e => e.Key == entry.Key)?.Count ?? 0;
        if (request is not { Status: OnDemandStatus.Pending } || request.DeliveredCount(entry) >= wanted)
        {
            return !await inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Completed, cancellationToken: cancellationToken);
        }

        if (!await inventory.MoveAsync(pool.Name, vm.Name, VmState.Pending, VmState.Running, CheckoutFields(request, now), cancellationToken: cancellationToken))
        {
            return true;
        }

        await VmStatistics.RecordBootAsync(inventory, pool, vm.Name, vm.View.Cloned, now, cloneSeconds: null, cancellationToken);
        if (await store!.DeliverAsync(id, entry, vm.Name, cancellationToken))
        {
            ManagerLog.OnDemandDelivered(logger, pool.Name, vm.Name, id);
            return true;
        }

        // Deleted or failed between the read and the delivery: give the VM back.
        return (await inventory.ReturnAsync(vm.Name, cancellationToken)).Status != ReturnStatus.Returned;
    }

    /// <summary>Counts a failed VM against its request (the on-demand job retries or fails the request).</summary>
    public async Task RecordFailureAsync(string pool, string vm, string requestId, string kind, string error, bool permanent, CancellationToken cancellationToken)
    {
        if (store is null)
        {
            return;
        }

        ManagerLog.OnDemandVmFailed(logger, pool, vm, requestId, permanent ? kind + ", permanent" : kind, error);
        try
        {
            await store.RecordFailureAsync(requestId, $"{vm}: {error}", permanent, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Not counted: the request is retried once more than it should be, or ends at its TTL.
            ManagerLog.OnDemandFailureNotCounted(logger, pool, vm, requestId, ex.Message);
        }
    }

    private Dictionary<string, string> CheckoutFields(OnDemandRequest request, DateTimeOffset now)
    {
        var stamp = VmTime.Format(now);
        var fields = new Dictionary<string, string>
        {
            [VmFields.Ready] = stamp,
            [VmFields.Check] = stamp,
            [VmFields.Checkout] = stamp,
        };
        if (request.TokenHash is { } token)
        {
            fields[VmFields.Token] = token;
            fields[VmFields.TokenUser] = request.User ?? "";
            if (options.Config.VmLifetimeAuthHours is > 0 and var hours)
            {
                fields[VmFields.Lifetime] = hours.ToString(CultureInfo.InvariantCulture);
            }
        }

        return fields;
    }
}
