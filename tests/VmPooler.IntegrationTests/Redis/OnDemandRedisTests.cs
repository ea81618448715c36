using System.Globalization;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.IntegrationTests.Lifecycle;
using VmPooler.Redis;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// On-demand requests on real Redis: the whole lifecycle through the application (API and manager) with
/// <see cref="RedisOnDemandStore"/>, and the store's conditional operations on one server and on a cluster.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class OnDemandRedisTests(RedisFixtures redis, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset Created = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly RedisInventories _connections = new();

    private static CancellationToken None => CancellationToken.None;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _connections.DisposeAsync();

    private string EndpointsOf(string target) => target == "cluster" ? redis.Cluster.Endpoints : redis.Server.Endpoint;

    private async Task<RedisOnDemandStore> StoreAsync(string target, TimeProvider? time = null)
        => new(await _connections.ConnectAsync(EndpointsOf(target)), time ?? TimeProvider.System);

    private static OnDemandRequest Request(string id, params OnDemandEntry[] entries)
        => new(id, entries, OnDemandStatus.Pending, Created);

    private static readonly OnDemandEntry Debian = new("debian", "debian", 2);
    private static readonly OnDemandEntry LinuxCentos = new("linux", "centos", 1);

    // ---- the application on Redis ----

    [Fact]
    public async Task Lifecycle_OnRedis_RequestIsClonedDeliveredAndReturned()
    {
        var yaml = OnDemandLifecycleTests.Yaml($"""
            :redis:
              server: '127.0.0.1'
              port: {redis.Server.Port.ToString(CultureInfo.InvariantCulture)}
              key_prefix: '{RedisFixtures.NewPrefix()}'
            """);
        await using var server = await VmPoolerServer.StartAsync(yaml, VmPoolerRole.All, output: output);
        server.App.Services.GetService(typeof(IOnDemandStore)).ShouldBeOfType<RedisOnDemandStore>();

        await OnDemandLifecycleTests.RunScenarioAsync(server);
    }

    // ---- the store ----

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Create_RoundTripsEntriesOwnerAndCreationTime(string target)
    {
        var store = await StoreAsync(target);
        var request = Request("round-trip", Debian, LinuxCentos) with { TokenHash = "hash-of-token", User = "alice" };

        (await store.CreateAsync(request, None).DefaultTimeout()).ShouldBeTrue();

        var read = (await store.GetAsync("round-trip", None).DefaultTimeout()).ShouldNotBeNull();
        read.Id.ShouldBe("round-trip");
        read.Entries.ShouldBe([Debian, LinuxCentos]);
        read.Status.ShouldBe(OnDemandStatus.Pending);
        read.Created.ShouldBe(Created);
        read.TokenHash.ShouldBe("hash-of-token");
        read.User.ShouldBe("alice");
        read.Delivered.Values.SelectMany(v => v).ShouldBeEmpty();
        (await store.PendingAsync(None).DefaultTimeout()).ShouldBe(["round-trip"]);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Create_TwiceWithOneId_SecondIsRefusedAndChangesNothing(string target)
    {
        var store = await StoreAsync(target);

        (await store.CreateAsync(Request("dup", Debian), None).DefaultTimeout()).ShouldBeTrue();
        (await store.CreateAsync(Request("dup", LinuxCentos), None).DefaultTimeout()).ShouldBeFalse();

        (await store.GetAsync("dup", None).DefaultTimeout()).ShouldNotBeNull().Entries.ShouldBe([Debian]);
        (await store.PendingAsync(None).DefaultTimeout()).ShouldBe(["dup"]);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Create_IdOfADeletedRequest_IsStillTaken(string target)
    {
        var store = await StoreAsync(target);
        (await store.CreateAsync(Request("taken", Debian), None).DefaultTimeout()).ShouldBeTrue();
        (await store.SetStatusAsync("taken", OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(15), null, None).DefaultTimeout()).ShouldBeTrue();

        (await store.CreateAsync(Request("taken", Debian), None).DefaultTimeout()).ShouldBeFalse();
    }

    [Fact]
    public async Task Pending_ListsOldestFirstAndOnlyPendingOnes()
    {
        var store = await StoreAsync("server");
        (await store.CreateAsync(Request("newer", Debian) with { Created = Created.AddMinutes(2) }, None)).ShouldBeTrue();
        (await store.CreateAsync(Request("older", Debian), None)).ShouldBeTrue();
        (await store.CreateAsync(Request("finished", Debian) with { Created = Created.AddMinutes(1) }, None)).ShouldBeTrue();
        (await store.SetStatusAsync("finished", OnDemandStatus.Pending, OnDemandStatus.Ready, TimeSpan.FromDays(30), null, None)).ShouldBeTrue();

        (await store.PendingAsync(None).DefaultTimeout()).ShouldBe(["older", "newer"]);
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Deliver_WhilePending_RecordsEachVmOncePerEntry(string target)
    {
        var store = await StoreAsync(target);
        (await store.CreateAsync(Request("deliver", Debian, LinuxCentos), None)).ShouldBeTrue();

        (await store.DeliverAsync("deliver", Debian, "vm-a", None)).ShouldBeTrue();
        (await store.DeliverAsync("deliver", Debian, "vm-a", None)).ShouldBeTrue();
        (await store.DeliverAsync("deliver", Debian, "vm-b", None)).ShouldBeTrue();
        (await store.DeliverAsync("deliver", LinuxCentos, "vm-c", None)).ShouldBeTrue();

        var read = (await store.GetAsync("deliver", None)).ShouldNotBeNull();
        read.Delivered["debian:debian"].ShouldBe(["vm-a", "vm-b"]);
        read.Delivered["linux:centos"].ShouldBe(["vm-c"]);
        read.IsComplete.ShouldBeTrue();
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task Deliver_AfterDelete_IsRefusedAndRecordsNothing(string target)
    {
        var store = await StoreAsync(target);
        (await store.CreateAsync(Request("late", Debian), None)).ShouldBeTrue();
        (await store.DeliverAsync("late", Debian, "vm-early", None)).ShouldBeTrue();
        (await store.SetStatusAsync("late", OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(15), null, None)).ShouldBeTrue();

        (await store.DeliverAsync("late", Debian, "vm-late", None)).ShouldBeFalse();

        var read = (await store.GetAsync("late", None)).ShouldNotBeNull();
        read.Status.ShouldBe(OnDemandStatus.Deleted);
        read.Delivered["debian:debian"].ShouldBe(["vm-early"], "what was delivered before stays listed, so DELETE can return it");
    }

    [Fact]
    public async Task Deliver_UnknownRequest_IsRefused()
        => (await (await StoreAsync("server")).DeliverAsync("never-created", Debian, "vm", None)).ShouldBeFalse();

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task SetStatus_IsConditionalOnTheCurrentStatus(string target)
    {
        var store = await StoreAsync(target);
        (await store.CreateAsync(Request("cond", Debian), None)).ShouldBeTrue();

        (await store.SetStatusAsync("cond", OnDemandStatus.Ready, OnDemandStatus.Deleted, TimeSpan.FromDays(1), null, None)).ShouldBeFalse("it is pending, not ready");
        (await store.GetAsync("cond", None)).ShouldNotBeNull().Status.ShouldBe(OnDemandStatus.Pending);

        (await store.SetStatusAsync("cond", OnDemandStatus.Pending, OnDemandStatus.Failed, TimeSpan.FromDays(1), "too slow", None)).ShouldBeTrue();
        (await store.SetStatusAsync("cond", OnDemandStatus.Pending, OnDemandStatus.Ready, TimeSpan.FromDays(1), null, None)).ShouldBeFalse("it already failed");
        (await store.SetStatusAsync("cond", OnDemandStatus.Failed, OnDemandStatus.Deleted, TimeSpan.FromDays(1), null, None)).ShouldBeTrue();

        var read = (await store.GetAsync("cond", None)).ShouldNotBeNull();
        read.Status.ShouldBe(OnDemandStatus.Deleted);
        read.FailureReason.ShouldBe("too slow", "a later change without a reason keeps the recorded one");
        (await store.PendingAsync(None)).ShouldBeEmpty();
        (await store.SetStatusAsync("missing", OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(1), null, None)).ShouldBeFalse();
    }

    [Theory]
    [InlineData("server")]
    [InlineData("cluster")]
    public async Task RecordFailure_CountsOnPendingRequestsOnly_KeepsTheLastErrorAndThePermanentMark(string target)
    {
        var store = await StoreAsync(target);
        (await store.CreateAsync(Request("fail", Debian), None)).ShouldBeTrue();

        (await store.RecordFailureAsync("fail", "vm-a: datastore busy", permanent: false, None)).ShouldBeTrue();
        (await store.RecordFailureAsync("fail", "vm-b: template not found", permanent: true, None)).ShouldBeTrue();
        (await store.RecordFailureAsync("fail", "vm-c: clone timed out", permanent: false, None)).ShouldBeTrue();

        var read = (await store.GetAsync("fail", None)).ShouldNotBeNull();
        read.RetryCount.ShouldBe(3);
        read.LastError.ShouldBe("vm-c: clone timed out");
        read.PermanentError.ShouldBeTrue("a permanent failure stays marked whatever follows");

        (await store.SetStatusAsync("fail", OnDemandStatus.Pending, OnDemandStatus.Failed, TimeSpan.FromDays(1), "gave up", None)).ShouldBeTrue();
        (await store.RecordFailureAsync("fail", "vm-d: late", permanent: false, None)).ShouldBeFalse("the request is no longer pending");
        (await store.GetAsync("fail", None)).ShouldNotBeNull().RetryCount.ShouldBe(3);
        (await store.RecordFailureAsync("never-created", "x", permanent: false, None)).ShouldBeFalse();
        (await store.GetAsync("never-created", None)).ShouldBeNull("counting a failure never creates a request");
    }

    [Fact]
    public async Task SetStatus_RacingDeleteAndReady_ExactlyOneWins()
    {
        var store = await StoreAsync("server");
        for (var i = 0; i < 20; i++)
        {
            var id = "race-" + i.ToString(CultureInfo.InvariantCulture);
            (await store.CreateAsync(Request(id, Debian), None)).ShouldBeTrue();
            var results = await Task.WhenAll(
                Task.Run(() => store.SetStatusAsync(id, OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(1), null, None)),
                Task.Run(() => store.SetStatusAsync(id, OnDemandStatus.Pending, OnDemandStatus.Ready, TimeSpan.FromDays(1), null, None))).DefaultTimeout();

            results.Count(r => r).ShouldBe(1, id);
        }
    }

    [Fact]
    public async Task SetStatus_KeepsTheRequestAndItsVmSetsOnlyForTheGivenTime()
    {
        var prefix = RedisFixtures.NewPrefix();
        var store = new RedisOnDemandStore(await _connections.ConnectAsync(redis.Server.Endpoint, prefix), TimeProvider.System);
        (await store.CreateAsync(Request("ttl", Debian), None)).ShouldBeTrue();
        (await store.DeliverAsync("ttl", Debian, "vm-a", None)).ShouldBeTrue();
        var keys = new RedisKeys(prefix);

        (await store.SetStatusAsync("ttl", OnDemandStatus.Pending, OnDemandStatus.Deleted, TimeSpan.FromDays(15), null, None)).ShouldBeTrue();

        foreach (var key in new[] { keys.OnDemand("ttl"), keys.OnDemandVms("ttl", Debian.Key) })
        {
            var ttl = long.Parse(await redis.Server.CliAsync("PTTL", key.ToString()), CultureInfo.InvariantCulture);
            ttl.ShouldBeInRange((long)TimeSpan.FromDays(15).TotalMilliseconds - 60_000, (long)TimeSpan.FromDays(15).TotalMilliseconds, key.ToString());
        }
    }
}
