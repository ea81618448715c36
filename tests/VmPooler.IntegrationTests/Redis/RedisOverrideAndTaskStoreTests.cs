using System.Collections.Concurrent;
using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Redis;
using VmPooler.Tests.Shared;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// <see cref="RedisPoolOverrideStore"/> and <see cref="RedisVmTaskQueue"/> on real Redis (one server and a cluster): what
/// several API processes and the manager share through them. Each store gets its own connection, like separate processes.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisOverrideAndTaskStoreTests(RedisFixtures redis) : IAsyncLifetime
{
    private readonly RedisInventories _connections = new();

    private static CancellationToken None => CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _connections.DisposeAsync();

    private string EndpointsOf(string target) => target == "cluster" ? redis.Cluster.Endpoints : redis.Server.Endpoint;

    /// <summary>Two override stores on separate connections under one prefix (two processes of one installation).</summary>
    private async Task<(RedisPoolOverrideStore A, RedisPoolOverrideStore B)> OverrideStoresAsync(string target)
    {
        var prefix = RedisFixtures.NewPrefix();
        return (
            new RedisPoolOverrideStore(await _connections.ConnectAsync(EndpointsOf(target), prefix), TimeProvider.System),
            new RedisPoolOverrideStore(await _connections.ConnectAsync(EndpointsOf(target), prefix), TimeProvider.System));
    }

    private async Task<(RedisVmTaskQueue A, RedisVmTaskQueue B)> QueuesAsync(string target)
    {
        var prefix = RedisFixtures.NewPrefix();
        return (
            new RedisVmTaskQueue(await _connections.ConnectAsync(EndpointsOf(target), prefix), TimeProvider.System),
            new RedisVmTaskQueue(await _connections.ConnectAsync(EndpointsOf(target), prefix), TimeProvider.System));
    }

    /// <summary>A queue and its connection, for writing what an interrupted push or take leaves behind.</summary>
    private async Task<(RedisConnection Connection, RedisVmTaskQueue Queue)> QueueWithItsConnectionAsync(string target)
    {
        var connection = await _connections.ConnectAsync(EndpointsOf(target), RedisFixtures.NewPrefix());
        return (connection, new RedisVmTaskQueue(connection, TimeProvider.System));
    }

    // ---- overrides ----

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Overrides_SetInOneProcess_AreSeenByAnother(string target)
    {
        var (api, manager) = await OverrideStoresAsync(target);

        await api.SetAsync(PoolOverrideKind.Size, "debian", "5", None).DefaultTimeout();
        await api.SetAsync(PoolOverrideKind.Template, "debian", "templates/debian-13", None).DefaultTimeout();
        await api.SetAsync(PoolOverrideKind.CloneTarget, "centos", "cluster2", None).DefaultTimeout();
        await manager.SetAsync(PoolOverrideKind.Prepared, "debian", "templates/debian-13", None).DefaultTimeout();

        var seen = await manager.GetAsync(None).DefaultTimeout();
        seen.Size("debian").ShouldBe(5);
        seen.Get(PoolOverrideKind.Template, "debian").ShouldBe("templates/debian-13");
        seen.Get(PoolOverrideKind.CloneTarget, "centos").ShouldBe("cluster2");
        seen.Get(PoolOverrideKind.Prepared, "debian").ShouldBe("templates/debian-13");
        seen.Get(PoolOverrideKind.Size, "centos").ShouldBeNull();

        var applied = seen.Apply(new PoolOptions { Name = "debian", Size = 3, Template = "debian", CloneTarget = "cluster1" });
        applied.Size.ShouldBe(5);
        applied.Template.ShouldBe("templates/debian-13");
        applied.CloneTarget.ShouldBe("cluster1");
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Overrides_SetToNull_RemovesOnlyThatOverride(string target)
    {
        var (store, other) = await OverrideStoresAsync(target);
        await store.SetAsync(PoolOverrideKind.Size, "debian", "5", None);
        await store.SetAsync(PoolOverrideKind.Size, "centos", "7", None);
        await store.SetAsync(PoolOverrideKind.Template, "debian", "t/d", None);

        await other.SetAsync(PoolOverrideKind.Size, "debian", null, None).DefaultTimeout();
        await other.SetAsync(PoolOverrideKind.Size, "never-set", null, None).DefaultTimeout();

        var seen = await store.GetAsync(None);
        seen.Size("debian").ShouldBeNull();
        seen.Size("centos").ShouldBe(7);
        seen.Get(PoolOverrideKind.Template, "debian").ShouldBe("t/d");
    }

    [Fact]
    public async Task Overrides_InvalidStoredSize_IsIgnoredWhenApplied()
    {
        var (store, _) = await OverrideStoresAsync("server");
        await store.SetAsync(PoolOverrideKind.Size, "debian", "not-a-number", None);
        await store.SetAsync(PoolOverrideKind.Size, "centos", "-4", None);

        var seen = await store.GetAsync(None);

        seen.Size("debian").ShouldBeNull();
        seen.Size("centos").ShouldBeNull();
        seen.Apply(new PoolOptions { Name = "debian", Size = 3 }).Size.ShouldBe(3);
    }

    [Fact]
    public async Task Overrides_OtherPrefix_IsNotSeen()
    {
        var (store, _) = await OverrideStoresAsync("server");
        var (elsewhere, _) = await OverrideStoresAsync("server");
        await store.SetAsync(PoolOverrideKind.Size, "debian", "5", None);

        (await elsewhere.GetAsync(None)).Size("debian").ShouldBeNull();
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Resets_RequestedByApis_AreTakenOnceAndDeduplicated(string target)
    {
        var (api, manager) = await OverrideStoresAsync(target);
        await api.RequestResetAsync("debian", None);
        await manager.RequestResetAsync("debian", None);
        await api.RequestResetAsync("centos", None);

        var taken = await manager.TakeResetsAsync(_ => true, None).DefaultTimeout();
        var again = await manager.TakeResetsAsync(_ => true, None).DefaultTimeout();

        taken.ShouldBe(["debian", "centos"], ignoreOrder: true);
        again.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Resets_OfPoolsAnotherManagerOwns_AreLeftForIt(string target)
    {
        var (hv1, hv2) = await OverrideStoresAsync(target);
        await hv1.RequestResetAsync("debian", None);
        await hv1.RequestResetAsync("centos", None);

        var first = await hv1.TakeResetsAsync(p => p == "debian", None).DefaultTimeout();
        var second = await hv2.TakeResetsAsync(p => p == "centos", None).DefaultTimeout();

        first.ShouldBe(["debian"]);
        second.ShouldBe(["centos"]);
        (await hv1.TakeResetsAsync(_ => true, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Resets_TakenConcurrently_EachGoesToExactlyOneTaker()
    {
        var (api, _) = await OverrideStoresAsync("server");
        var pools = Enumerable.Range(0, 50).Select(i => "pool-" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        foreach (var pool in pools)
        {
            await api.RequestResetAsync(pool, None);
        }

        var (t1, t2) = (api.TakeResetsAsync(_ => true, None), api.TakeResetsAsync(_ => true, None));
        var results = await Task.WhenAll(t1, t2).DefaultTimeout();

        results.SelectMany(r => r).ShouldBe(pools, ignoreOrder: true);
    }

    // ---- task queue ----

    private static Func<string, bool> Owns(params string[] pools) => pools.Contains;

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Tasks_AreTakenFirstInFirstOutWithinAPool(string target)
    {
        var (api, manager) = await QueuesAsync(target);
        VmTask[] tasks =
        [
            new(VmTaskKind.Snapshot, "debian", "vm-a", "before"),
            new(VmTaskKind.Disk, "debian", "vm-b", "10"),
            new(VmTaskKind.Revert, "debian", "vm-a", "before"),
            new(VmTaskKind.Snapshot, "debian", "vm-a", "name|with|bars"),
        ];
        foreach (var task in tasks)
        {
            await api.EnqueueAsync(task, None).DefaultTimeout();
        }

        (await manager.LengthAsync(None)).ShouldBe(4);
        (await manager.DequeueAsync(Owns("debian"), 100, None).DefaultTimeout()).ShouldBe(tasks);
        (await manager.DequeueAsync(Owns("debian"), 100, None).DefaultTimeout()).ShouldBeEmpty();
        (await manager.LengthAsync(None)).ShouldBe(0);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Tasks_OfPoolsAnotherManagerOwns_AreLeftForIt(string target)
    {
        // Two managers with affinity (hv1 owns debian, hv2 owns centos): each takes only its own pool's tasks.
        var (hv1, hv2) = await QueuesAsync(target);
        VmTask[] debian = [new(VmTaskKind.Snapshot, "debian", "vm-d1", "s1"), new(VmTaskKind.Revert, "debian", "vm-d1", "s1")];
        VmTask[] centos = [new(VmTaskKind.Disk, "centos", "vm-c1", "8"), new(VmTaskKind.Snapshot, "centos", "vm-c2", "s2")];
        foreach (var task in new[] { debian[0], centos[0], debian[1], centos[1] })
        {
            await hv1.EnqueueAsync(task, None);
        }

        var none = await hv1.DequeueAsync(Owns("fedora"), 100, None).DefaultTimeout();
        var first = await hv1.DequeueAsync(Owns("debian"), 100, None).DefaultTimeout();
        var second = await hv2.DequeueAsync(Owns("centos"), 100, None).DefaultTimeout();

        none.ShouldBeEmpty();
        first.ShouldBe(debian);
        second.ShouldBe(centos);
        (await hv1.DequeueAsync(_ => true, 100, None)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Tasks_BatchDequeue_TakesAtMostMaxOldestFirstAndTheRestNextTime()
    {
        var (queue, _) = await QueuesAsync("server");
        var tasks = Enumerable.Range(0, 10).Select(i => new VmTask(VmTaskKind.Disk, "debian", "vm", i.ToString(CultureInfo.InvariantCulture))).ToList();
        foreach (var task in tasks)
        {
            await queue.EnqueueAsync(task, None);
        }

        var first = await queue.DequeueAsync(Owns("debian"), 4, None);
        var second = await queue.DequeueAsync(Owns("debian"), 4, None);
        var third = await queue.DequeueAsync(Owns("debian"), 4, None);
        var empty = await queue.DequeueAsync(Owns("debian"), 4, None);

        first.ShouldBe(tasks[..4]);
        second.ShouldBe(tasks[4..8]);
        third.ShouldBe(tasks[8..]);
        empty.ShouldBeEmpty();
    }

    [Fact]
    public async Task Tasks_UnparsableEntries_AreDroppedNotReturned()
    {
        var prefix = RedisFixtures.NewPrefix();
        var queue = new RedisVmTaskQueue(await _connections.ConnectAsync(redis.Server.Endpoint, prefix), TimeProvider.System);
        await queue.EnqueueAsync(new VmTask(VmTaskKind.Disk, "debian", "vm", "1"), None);
        await redis.Server.CliAsync("RPUSH", new RedisKeys(prefix).PoolTasks("debian").ToString(), "garbage");
        await queue.EnqueueAsync(new VmTask(VmTaskKind.Disk, "debian", "vm", "2"), None);

        (await queue.DequeueAsync(Owns("debian"), 10, None)).Select(t => t.Argument).ShouldBe(["1", "2"]);
    }

    [Fact]
    public async Task Tasks_QueuedByAnEarlierVersionOnItsSingleList_AreTakenWithoutAPool()
    {
        // An earlier version pushed kind|vm|argument onto one list for every pool; the global job routes them.
        var prefix = RedisFixtures.NewPrefix();
        var queue = new RedisVmTaskQueue(await _connections.ConnectAsync(redis.Server.Endpoint, prefix), TimeProvider.System);
        var legacy = new RedisKeys(prefix).UnroutedTasks.ToString();
        await redis.Server.CliAsync("RPUSH", legacy, "snapshot|vm-a|s1", "disk|vm-b|12", "garbage");

        (await queue.LengthAsync(None)).ShouldBe(3);
        var taken = await queue.TakeUnroutedAsync(10, None);

        taken.ShouldBe([new VmTask(VmTaskKind.Snapshot, "", "vm-a", "s1"), new VmTask(VmTaskKind.Disk, "", "vm-b", "12")]);
        (await queue.TakeUnroutedAsync(10, None)).ShouldBeEmpty();
        (await queue.DequeueAsync(_ => true, 10, None)).ShouldBeEmpty("the earlier version's list is not a pool's queue");
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Tasks_PushInterruptedBeforeItsAnnouncement_AreRecoveredAndTaken(string target)
    {
        // An API process died between the push onto the pool's list and the SADD that announces the pool.
        var (connection, queue) = await QueueWithItsConnectionAsync(target);
        var task = new VmTask(VmTaskKind.Snapshot, "debian", "vm-a", "s1");
        await queue.EnqueueAsync(new VmTask(VmTaskKind.Disk, "centos", "vm-c", "8"), None);
        await connection.Database.ListRightPushAsync(connection.Keys.PoolTasks("debian"), task.Serialize());

        (await queue.DequeueAsync(Owns("debian"), 10, None)).ShouldBeEmpty("the pool is not announced");
        (await queue.RecoverAsync(["debian", "centos", "fedora"], None).DefaultTimeout()).ShouldBe(1, "only debian was unseen");
        (await queue.RecoverAsync(["debian", "centos", "fedora"], None)).ShouldBe(0);

        (await queue.DequeueAsync(Owns("debian"), 10, None)).ShouldBe([task]);
        (await queue.DequeueAsync(Owns("centos"), 10, None)).Select(t => t.Vm).ShouldBe(["vm-c"]);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Tasks_TakeInterruptedAfterItsSrem_AreRecoveredAndTaken(string target)
    {
        // A manager died between removing the pool from the set and popping its list.
        var (connection, queue) = await QueueWithItsConnectionAsync(target);
        var task = new VmTask(VmTaskKind.Revert, "debian", "vm-a", "s1");
        await queue.EnqueueAsync(task, None);
        await connection.Database.SetRemoveAsync(connection.Keys.TaskPools, "debian");

        (await queue.DequeueAsync(_ => true, 10, None)).ShouldBeEmpty();
        (await queue.RecoverAsync(["debian"], None)).ShouldBe(1);
        (await queue.DequeueAsync(_ => true, 10, None)).ShouldBe([task]);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Tasks_ConcurrentDequeuers_NeverGetTheSameTask(string target)
    {
        // Two connections under one prefix (two manager processes), three dequeuers on each, while more are pushed.
        var (a, b) = await QueuesAsync(target);
        var pools = new[] { "debian", "centos", "fedora" };
        var tasks = Enumerable.Range(0, 300)
            .Select(i => new VmTask(
                VmTaskKind.Snapshot,
                pools[i % pools.Length],
                "vm-" + (i % 7).ToString(CultureInfo.InvariantCulture),
                "s" + i.ToString(CultureInfo.InvariantCulture)))
            .ToList();
        foreach (var task in tasks[..150])
        {
            await a.EnqueueAsync(task, None);
        }

        var pushing = Task.Run(async () =>
        {
            foreach (var task in tasks[150..])
            {
                await b.EnqueueAsync(task, None);
            }
        });
        var taken = new ConcurrentBag<VmTask>();
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            var queue = i % 2 == 0 ? a : b;
            while (true)
            {
                var pushed = pushing.IsCompleted;
                var batch = await queue.DequeueAsync(_ => true, 7, None);
                if (batch.Count == 0 && pushed)
                {
                    return;
                }

                foreach (var task in batch)
                {
                    taken.Add(task);
                }
            }
        })).Append(pushing)).DefaultTimeout();

        taken.Count.ShouldBe(tasks.Count, "every task is taken exactly once");
        taken.Distinct().Count().ShouldBe(tasks.Count, "no task is taken twice");
        taken.ShouldBe(tasks, ignoreOrder: true);
    }
}
