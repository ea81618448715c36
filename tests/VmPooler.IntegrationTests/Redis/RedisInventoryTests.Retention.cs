using System.Globalization;
using VmPooler.Core.Inventory;
using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// <c>max_destroyed_records_per_pool</c> in Redis' own memory: beyond the contract (which VMs can still be read), a long
/// churn leaves no more than the cap of VM hashes, name index entries and expiry entries behind.
/// </summary>
public sealed partial class RedisInventoryTests
{
    [Fact]
    public async Task ForgetAsync_LongChurn_KeysStayWithinTheCap()
    {
        var prefix = RedisFixtures.NewPrefix();
        var connection = await _inventories.ConnectAsync(redis.Server.Endpoint, prefix);
        var inventory = RedisInventories.Create(connection, TimeProvider.System, maxForgottenPerPool: 5);

        for (var i = 0; i < 60; i++)
        {
            var vm = "churn" + i.ToString(CultureInfo.InvariantCulture);
            (await inventory.AddPendingAsync(PoolA, vm, Fields(("template", PoolA)), None)).ShouldBeTrue();
            (await inventory.ForgetAsync(PoolA, vm, VmState.Pending, TimeSpan.FromHours(168), Fields(("destroy", "now")), None)).ShouldBeTrue();
        }

        var hashes = await KeysAsync(redis.Server, $"{prefix}:{{{PoolA}}}:vm:*");
        hashes.Select(k => k[(k.LastIndexOf(':') + 1)..]).ShouldBe(["churn55", "churn56", "churn57", "churn58", "churn59"], ignoreOrder: true);
        (await CountAsync("HLEN", $"{prefix}:{{index}}:vms")).ShouldBe(5, "the name index holds only the kept records' names");
        (await CountAsync("ZCARD", $"{prefix}:{{index}}:expiring")).ShouldBe(5, "expiry entries go with the dropped records");
        (await CountAsync("ZCARD", $"{prefix}:{{{PoolA}}}:forgotten")).ShouldBe(5);
    }

    private async Task<int> CountAsync(string command, string key)
        => int.Parse((await redis.Server.CliAsync(command, key)).Trim(), CultureInfo.InvariantCulture);
}
