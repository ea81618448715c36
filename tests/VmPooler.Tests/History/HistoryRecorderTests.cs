using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Diagnostics;
using VmPooler.Core.History;
using VmPooler.Core.Inventory;
using VmPooler.Tests.Manager;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.History;

public class HistoryRecorderTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 10, 12, 0, 20, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly MemoryHistoryStore _store = new();
    private readonly ListLogger<HistoryRecorder> _log = new();

    private async Task<MemoryInventory> InventoryAsync()
    {
        var inventory = new MemoryInventory(_time);
        var fields = new Dictionary<string, string> { [VmFields.Pool] = "debian" };
        foreach (var vm in new[] { "d1", "d2", "d3" })
        {
            (await inventory.AddPendingAsync("debian", vm, fields, CancellationToken.None)).ShouldBeTrue();
        }

        (await inventory.MoveAsync("debian", "d1", VmState.Pending, VmState.Ready)).ShouldBeTrue();
        (await inventory.MoveAsync("debian", "d2", VmState.Pending, VmState.Ready)).ShouldBeTrue();
        return inventory;
    }

    private async Task<IReadOnlyList<HistoryPoint>> MinutesAsync(string pool)
        => (await _store.GetAsync([pool], HistoryResolution.Minute, Start.AddHours(-1), Start.AddHours(1), CancellationToken.None))
            .GetValueOrDefault(pool) ?? [];

    [Theory]
    [InlineData("2026-03-10T12:00:20Z", 40)]
    [InlineData("2026-03-10T12:00:00Z", 60)]
    [InlineData("2026-03-10T12:00:59.5Z", 0.5)]
    public void UntilNextSample_IsTheTimeToTheNextWholeMinute(string now, double seconds)
        => HistoryRecorder.UntilNextSample(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBe(TimeSpan.FromSeconds(seconds));

    [Fact]
    public async Task RunAsync_SamplesAtOnceThenOnEachWholeMinute()
    {
        var recorder = new HistoryRecorder(["debian", "centos"], await InventoryAsync(), _store, _time, _log);
        using var stop = new CancellationTokenSource();

        var run = recorder.RunAsync(stop.Token);
        await AsyncTestHelpers.WaitUntilAsync(() => recorder.Samples == 1 && _time.PendingTimers == 1, "the first sample is taken and the wait set");
        _time.Advance(TimeSpan.FromSeconds(39));
        recorder.Samples.ShouldBe(1, "nothing before the whole minute");
        _time.Advance(TimeSpan.FromSeconds(1));
        await AsyncTestHelpers.WaitUntilAsync(() => recorder.Samples == 2 && _time.PendingTimers == 1, "the sample at 12:01:00");
        _time.Advance(TimeSpan.FromMinutes(1));
        await AsyncTestHelpers.WaitUntilAsync(() => recorder.Samples == 3 && _time.PendingTimers == 1, "the sample at 12:02:00");
        await stop.CancelAsync();
        await run.DefaultTimeout();

        var debian = await MinutesAsync("debian");
        debian.Select(p => p.At.Minute).ShouldBe([0, 1, 2]);
        debian.ShouldAllBe(p => p.Ready == 2 && p.Pending == 1 && p.Running == 0);
        (await MinutesAsync("centos")).ShouldAllBe(p => p.Ready == 0, "an empty pool is sampled as zeros");
        _log.Events.ShouldBeEmpty();
    }

    [Fact]
    public async Task RunAsync_SampleFails_LogsAndTriesAgainNextMinute()
    {
        var failing = new FailingStore(_store) { Fail = true };
        var recorder = new HistoryRecorder(["debian"], await InventoryAsync(), failing, _time, _log);
        using var stop = new CancellationTokenSource();

        var run = recorder.RunAsync(stop.Token);
        await AsyncTestHelpers.WaitUntilAsync(() => _log.Count(EventIds.HistorySampleFailed) == 1 && _time.PendingTimers == 1, "the failed sample is logged");
        failing.Fail = false;
        _time.Advance(TimeSpan.FromMinutes(1));
        await AsyncTestHelpers.WaitUntilAsync(() => recorder.Samples == 1, "the next minute's sample");
        await stop.CancelAsync();
        await run.DefaultTimeout();

        (await MinutesAsync("debian")).ShouldHaveSingleItem().At.ShouldBe(new DateTimeOffset(2026, 3, 10, 12, 1, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task CheckoutRecordingInventory_CountsSuccessfulCheckoutsPerPool()
    {
        var inventory = new CheckoutRecordingInventory(await InventoryAsync(), _store, _time, new ListLogger<CheckoutRecordingInventory>());
        var context = new CheckoutContext(_time.GetUtcNow());

        var ok = await inventory.CheckoutAsync([new CheckoutItem("debian", ["debian"]), new CheckoutItem("debian", ["debian"])], context, CancellationToken.None);
        var empty = await inventory.CheckoutAsync([new CheckoutItem("debian", ["debian"])], context, CancellationToken.None);

        ok.Succeeded.ShouldBeTrue();
        empty.Succeeded.ShouldBeFalse();
        (await MinutesAsync("debian")).ShouldHaveSingleItem().ShouldBe(new HistoryPoint(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero), null, null, null, 2));
    }

    [Fact]
    public async Task CheckoutRecordingInventory_ReturnByRecord_ReachesTheInnerInventorysOwnImplementation()
    {
        var inner = new RecordReturnSpy(await InventoryAsync());
        IInventory inventory = new CheckoutRecordingInventory(inner, _store, _time, new ListLogger<CheckoutRecordingInventory>());
        var checkout = await inventory.CheckoutAsync([new CheckoutItem("debian", ["debian"])], new CheckoutContext(_time.GetUtcNow()), CancellationToken.None);
        var vm = (await inventory.GetVmAsync(checkout.Allocations.ShouldHaveSingleItem().Vm, CancellationToken.None))!;

        (await inventory.ReturnAsync(vm, CancellationToken.None)).Status.ShouldBe(ReturnStatus.Returned);

        inner.ReturnsByRecord.ShouldBe(1, "the wrapper must not fall back to the interface's name-based default (the Redis inventory saves a round trip here)");
    }

    /// <summary>Counts record-based returns, as an inventory with its own implementation of that overload would see them.</summary>
    private sealed class RecordReturnSpy(IInventory inner) : DelegatingInventory(inner)
    {
        public int ReturnsByRecord { get; private set; }

        public override Task<ReturnOutcome> ReturnAsync(VmRecord vm, CancellationToken cancellationToken)
        {
            ReturnsByRecord++;
            return base.ReturnAsync(vm, cancellationToken);
        }
    }

    /// <summary>A history store whose writes fail on demand (an unreachable Redis).</summary>
    private sealed class FailingStore(IHistoryStore inner) : IHistoryStore
    {
        public bool Fail { get; set; }

        public Task RecordSamplesAsync(IReadOnlyCollection<PoolSample> samples, DateTimeOffset at, CancellationToken cancellationToken)
            => Fail ? throw new InventoryUnavailableException("the inventory (Redis) is unavailable: test") : inner.RecordSamplesAsync(samples, at, cancellationToken);

        public Task RecordCheckoutsAsync(string pool, int count, DateTimeOffset at, CancellationToken cancellationToken)
            => inner.RecordCheckoutsAsync(pool, count, at, cancellationToken);

        public Task<IReadOnlyDictionary<string, IReadOnlyList<HistoryPoint>>> GetAsync(
            IReadOnlyCollection<string> pools, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
            => inner.GetAsync(pools, resolution, from, to, cancellationToken);
    }
}
