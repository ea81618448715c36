using VmPooler.Core.History;

namespace VmPooler.Tests.Shared.History;

/// <summary>
/// The <see cref="IHistoryStore"/> contract, written once and run against every implementation: derive and implement
/// <see cref="CreateStoreAsync"/>, which must return an empty store no other test shares (e.g. a fresh key prefix).
/// </summary>
public abstract class HistoryStoreContractTests : IAsyncLifetime
{
    /// <summary>A whole hour, so minute and hour buckets line up in the tests.</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private IHistoryStore? _store;

    protected static CancellationToken None => CancellationToken.None;

    protected IHistoryStore Store => _store ?? throw new InvalidOperationException("the store has not been created");

    /// <summary>A new, empty store.</summary>
    protected abstract Task<IHistoryStore> CreateStoreAsync();

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected Task RecordAsync(DateTimeOffset at, params PoolSample[] samples) => Store.RecordSamplesAsync(samples, at, None).DefaultTimeout();

    protected async Task<IReadOnlyList<HistoryPoint>> PointsAsync(string pool, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to)
        => (await Store.GetAsync([pool], resolution, from, to, None).DefaultTimeout()).GetValueOrDefault(pool) ?? [];

    [Fact]
    public async Task Get_Empty_ReturnsNoPools()
    {
        var read = await Store.GetAsync(["debian", "centos"], HistoryResolution.Minute, T0.AddDays(-1), T0.AddDays(1), None).DefaultTimeout();

        read.ShouldBeEmpty();
    }

    [Fact]
    public async Task RecordSamples_EachMinute_OneMinutePointPerMinuteOldestFirst()
    {
        await RecordAsync(T0.AddSeconds(5), new PoolSample("debian", 3, 2, 1), new PoolSample("centos", 1, 0, 0));
        await RecordAsync(T0.AddMinutes(1).AddSeconds(5), new PoolSample("debian", 4, 1, 2), new PoolSample("centos", 1, 0, 1));

        var debian = await PointsAsync("debian", HistoryResolution.Minute, T0.AddHours(-1), T0.AddHours(1));

        debian.Count.ShouldBe(2);
        debian[0].ShouldBe(new HistoryPoint(T0, 3, 2, 1, 0));
        debian[1].ShouldBe(new HistoryPoint(T0.AddMinutes(1), 4, 1, 2, 0));
        (await PointsAsync("centos", HistoryResolution.Minute, T0, T0.AddHours(1)))[1].Running.ShouldBe(1);
    }

    [Fact]
    public async Task RecordSamples_TwiceInOneMinute_TheLatestStandsForTheMinute()
    {
        await RecordAsync(T0.AddSeconds(1), new PoolSample("debian", 3, 2, 1));
        await RecordAsync(T0.AddSeconds(40), new PoolSample("debian", 5, 0, 0));

        var points = await PointsAsync("debian", HistoryResolution.Minute, T0, T0.AddMinutes(5));

        points.ShouldHaveSingleItem().ShouldBe(new HistoryPoint(T0, 5, 0, 0, 0));
    }

    [Fact]
    public async Task RecordSamples_InOneHour_TheHourPointIsTheirAverage()
    {
        await RecordAsync(T0.AddMinutes(1), new PoolSample("debian", 2, 4, 0));
        await RecordAsync(T0.AddMinutes(2), new PoolSample("debian", 4, 0, 1));
        await RecordAsync(T0.AddMinutes(3), new PoolSample("debian", 6, 2, 2));
        await RecordAsync(T0.AddHours(1), new PoolSample("debian", 1, 1, 1));

        var hours = await PointsAsync("debian", HistoryResolution.Hour, T0.AddDays(-1), T0.AddDays(1));

        hours.Count.ShouldBe(2);
        hours[0].ShouldBe(new HistoryPoint(T0, 4, 2, 1, 0));
        hours[1].ShouldBe(new HistoryPoint(T0.AddHours(1), 1, 1, 1, 0));
    }

    [Fact]
    public async Task RecordCheckouts_AddUpPerMinuteAndPerHour()
    {
        await RecordAsync(T0.AddMinutes(1), new PoolSample("debian", 3, 0, 0));
        await Store.RecordCheckoutsAsync("debian", 2, T0.AddMinutes(1).AddSeconds(10), None).DefaultTimeout();
        await Store.RecordCheckoutsAsync("debian", 1, T0.AddMinutes(1).AddSeconds(50), None).DefaultTimeout();
        await Store.RecordCheckoutsAsync("debian", 4, T0.AddMinutes(7), None).DefaultTimeout();

        var minutes = await PointsAsync("debian", HistoryResolution.Minute, T0, T0.AddHours(1));
        var hours = await PointsAsync("debian", HistoryResolution.Hour, T0, T0.AddHours(1));

        minutes.Count.ShouldBe(2);
        minutes[0].ShouldBe(new HistoryPoint(T0.AddMinutes(1), 3, 0, 0, 3));
        minutes[1].ShouldBe(new HistoryPoint(T0.AddMinutes(7), null, null, null, 4), "a minute with checkouts but no sample has no counts");
        hours.ShouldHaveSingleItem().Checkouts.ShouldBe(7);
    }

    [Fact]
    public async Task Get_OnlyTheRangeAndTheAskedPools()
    {
        for (var minute = 0; minute < 10; minute++)
        {
            await RecordAsync(T0.AddMinutes(minute), new PoolSample("debian", minute, 0, 0), new PoolSample("centos", minute, 0, 0));
        }

        var read = await Store.GetAsync(["debian", "unknown"], HistoryResolution.Minute, T0.AddMinutes(2).AddSeconds(30), T0.AddMinutes(5).AddSeconds(59), None)
            .DefaultTimeout();

        read.Keys.ShouldBe(["debian"]);
        read["debian"].Select(p => p.Ready).ShouldBe([3.0, 4.0, 5.0], "buckets that start in [from, to]");
    }

    [Fact]
    public async Task Record_AfterTheRetention_DropsOlderMinutePointsButKeepsHours()
    {
        await RecordAsync(T0, new PoolSample("debian", 1, 0, 0));
        await RecordAsync(T0.AddHours(12), new PoolSample("debian", 2, 0, 0));
        await RecordAsync(T0 + HistoryConstants.MinuteRetention + TimeSpan.FromMinutes(1), new PoolSample("debian", 3, 0, 0));

        var minutes = await PointsAsync("debian", HistoryResolution.Minute, T0.AddDays(-10), T0.AddDays(10));
        var hours = await PointsAsync("debian", HistoryResolution.Hour, T0.AddDays(-10), T0.AddDays(10));

        minutes.Select(p => p.Ready).ShouldBe([2.0, 3.0]);
        hours.Select(p => p.Ready).ShouldBe([1.0, 2.0, 3.0]);
    }

    [Fact]
    public async Task Record_AfterTheHourRetention_DropsOlderHourPoints()
    {
        await RecordAsync(T0, new PoolSample("debian", 1, 0, 0));
        await Store.RecordCheckoutsAsync("debian", 5, T0.AddDays(1), None).DefaultTimeout();
        await Store.RecordCheckoutsAsync("debian", 2, T0 + HistoryConstants.HourRetention + TimeSpan.FromHours(1), None).DefaultTimeout();

        var hours = await PointsAsync("debian", HistoryResolution.Hour, T0.AddDays(-10), T0.AddDays(20));

        hours.Select(p => p.Checkouts).ShouldBe([5L, 2L]);
    }

    [Fact]
    public async Task Record_ManyMinutes_KeepsAtMostTheRetention()
    {
        // Two days of samples, one per minute: the minute series never grows past one day's worth.
        var samples = (int)(2 * HistoryConstants.MinuteRetention.TotalMinutes);
        for (var minute = 0; minute < samples; minute += 7)
        {
            await RecordAsync(T0.AddMinutes(minute), new PoolSample("debian", minute % 5, 0, 0));
        }

        var minutes = await PointsAsync("debian", HistoryResolution.Minute, T0.AddDays(-5), T0.AddDays(5));

        minutes.ShouldNotBeEmpty();
        (minutes[^1].At - minutes[0].At).ShouldBeLessThan(HistoryConstants.MinuteRetention);
        minutes.Count.ShouldBeLessThanOrEqualTo((int)(HistoryConstants.MinuteRetention.TotalMinutes / 7) + 1);
    }
}
