using StackExchange.Redis;
using VmPooler.Core.Inventory;

namespace VmPooler.Redis;

/// <summary>
/// The disk/snapshot/revert task queue: a Redis list per pool on the pool's slot (RPUSH, LPOP), and a set of the pools
/// whose list may hold tasks, so a manager finds its work with one read instead of one per pool it owns.
/// </summary>
/// <remarks>
/// A push adds its pool to the set after the list; a take removes the pool from the set before the list. So whichever
/// order a push and a take interleave in, a task pushed after the take emptied the list leaves its pool in the set, and
/// no task waits unseen. The two keys are on different slots (on a cluster, different nodes), so the order is kept by
/// awaiting each step; a process that dies (or loses Redis) between the two steps leaves a list its pool's set entry
/// does not announce, which <see cref="RecoverAsync"/> finds.
/// </remarks>
internal sealed class RedisVmTaskQueue(RedisConnection connection, TimeProvider timeProvider) : IVmTaskQueue
{
    // LPOP with a count needs Redis 6.2; a script takes up to max items atomically on any version.
    private const string PopScript =
        "local out = {} for i = 1, tonumber(ARGV[1]) do local v = redis.call('LPOP', KEYS[1]) if not v then break end out[#out + 1] = v end return out";

    private RedisKeys Keys => connection.Keys;

    public Task EnqueueAsync(VmTask task, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(task.Pool);
        return connection.GuardAsync(
            async () =>
            {
                await connection.Database.ListRightPushAsync(Keys.PoolTasks(task.Pool), task.Serialize());
                await connection.Database.SetAddAsync(Keys.TaskPools, task.Pool);
            },
            timeProvider,
            cancellationToken);
    }

    public Task<IReadOnlyList<VmTask>> DequeueAsync(Func<string, bool> owned, int max, CancellationToken cancellationToken)
        => connection.GuardAsync<IReadOnlyList<VmTask>>(
            async () =>
            {
                var taken = new List<VmTask>();
                foreach (var member in await connection.Database.SetMembersAsync(Keys.TaskPools))
                {
                    var pool = (string)member!;
                    if (taken.Count < max && owned(pool) && await connection.Database.SetRemoveAsync(Keys.TaskPools, pool))
                    {
                        taken.AddRange(await TakeAsync(pool, max - taken.Count));
                    }
                }

                return taken;
            },
            timeProvider,
            cancellationToken);

    public Task<IReadOnlyList<VmTask>> TakeUnroutedAsync(int max, CancellationToken cancellationToken)
        => connection.GuardAsync<IReadOnlyList<VmTask>>(
            async () => [.. (await PopAsync(Keys.UnroutedTasks, max)).Select(v => VmTask.Parse(v, "")).OfType<VmTask>()],
            timeProvider,
            cancellationToken);

    public Task<int> RecoverAsync(IEnumerable<string> pools, CancellationToken cancellationToken)
        => connection.GuardAsync(
            async () =>
            {
                var names = pools.ToList();
                var lengths = await Task.WhenAll(names.Select(p => connection.Database.ListLengthAsync(Keys.PoolTasks(p))));
                var announced = (await connection.Database.SetMembersAsync(Keys.TaskPools)).Select(m => (string)m!).ToHashSet(StringComparer.Ordinal);
                var unseen = names.Where((pool, i) => lengths[i] > 0 && !announced.Contains(pool)).ToList();
                if (unseen.Count > 0)
                {
                    // A take running meanwhile may have just removed one of these from the set before popping it: adding
                    // it again costs that pool one empty take, never a task.
                    await connection.Database.SetAddAsync(Keys.TaskPools, [.. unseen.Select(p => (RedisValue)p)]);
                }

                return unseen.Count;
            },
            timeProvider,
            cancellationToken);

    public Task<long?> LengthAsync(CancellationToken cancellationToken)
        => connection.GuardAsync<long?>(
            async () =>
            {
                var pools = await connection.Database.SetMembersAsync(Keys.TaskPools);
                var lengths = await Task.WhenAll(
                    pools.Select(p => Keys.PoolTasks((string)p!)).Append(Keys.UnroutedTasks).Select(k => connection.Database.ListLengthAsync(k)));
                return lengths.Sum();
            },
            timeProvider,
            cancellationToken);

    /// <summary>Takes up to <paramref name="max"/> tasks of a pool already out of the set; puts it back when more may wait.</summary>
    private async Task<IEnumerable<VmTask>> TakeAsync(string pool, int max)
    {
        RedisValue[] popped;
        try
        {
            popped = await PopAsync(Keys.PoolTasks(pool), max);
        }
        catch
        {
            // The take failed after the pool left the set: put it back (best effort) so its tasks are not left unseen.
            await connection.Database.SetAddAsync(Keys.TaskPools, pool, CommandFlags.FireAndForget);
            throw;
        }

        if (popped.Length == max)
        {
            await connection.Database.SetAddAsync(Keys.TaskPools, pool);
        }

        return popped.Select(v => VmTask.Parse(v, pool)).OfType<VmTask>();
    }

    private async Task<RedisValue[]> PopAsync(RedisKey key, int max)
        => (RedisValue[]?)await connection.Database.ScriptEvaluateAsync(PopScript, [key], [max]) ?? [];
}
