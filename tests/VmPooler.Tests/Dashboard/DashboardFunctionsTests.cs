using System.Text.Json.Nodes;
using VmPooler.Api.Dashboard;
using VmPooler.Core.History;

namespace VmPooler.Tests.Dashboard;

public class DashboardFunctionsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static double[] Numbers(JsonArray array) => [.. array.Select(n => double.Parse(n!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture))];

    [Theory]
    [InlineData("debian-12-x86_64", "debian")]
    [InlineData("debian", "debian")]
    [InlineData("-odd", "")]
    [InlineData("win-2022-x86_64-core", "win")]
    public void Major_IsThePrefixBeforeTheFirstDash(string pool, string major) => DashboardStats.Major(pool).ShouldBe(major);

    [Fact]
    public void Series_NoPoints_IsTheCurrentValue()
        => Numbers(DashboardStats.Series([], p => p.Ready, 4)).ShouldBe([4.0]);

    [Fact]
    public void Series_RepeatsEachMinuteAndCarriesGaps()
    {
        HistoryPoint[] points =
        [
            new(T0, 1, 0, 0, 0),
            new(T0.AddMinutes(1), null, null, null, 3), // checkouts only: no sample
            new(T0.AddMinutes(3), 5, 0, 0, 0),
        ];

        var series = Numbers(DashboardStats.Series(points, p => p.Ready, 9));

        series.Length.ShouldBe(4 * DashboardStats.Repeat);
        series.Chunk(DashboardStats.Repeat).Select(c => c.Distinct().ShouldHaveSingleItem()).ShouldBe([1.0, 1.0, 1.0, 5.0]);
    }

    [Fact]
    public void Totals_SumsPoolsPerBucketAsDenseArrays()
    {
        var points = new Dictionary<string, IReadOnlyList<HistoryPoint>>
        {
            ["a"] = [new(T0, 1, 1, 0, 2), new(T0.AddMinutes(2), 2, 0, 1, 0)],
            ["b"] = [new(T0, 3, 0, 1, 1), new(T0.AddMinutes(1), null, null, null, 5)],
        };

        var totals = DashboardData.Totals(points, HistoryResolution.Minute, T0, T0.AddMinutes(3).AddSeconds(10));

        totals["start"]!.GetValue<long>().ShouldBe(T0.ToUnixTimeSeconds());
        totals["step"]!.GetValue<long>().ShouldBe(60);
        totals["ready"]!.AsArray().Select(n => n?.GetValue<double>()).ShouldBe([4.0, null, 2.0, null]);
        totals["running"]!.AsArray().Select(n => n?.GetValue<double>()).ShouldBe([1.0, null, 1.0, null]);
        totals["checkouts"]!.AsArray().Select(n => n!.GetValue<long>()).ShouldBe([3L, 5L, 0L, 0L]);
    }

    [Fact]
    public void Durations_NoneAndSome()
    {
        DashboardData.Durations(new Dictionary<string, double>()).ToJsonString().ShouldBe("""{"count":0,"average":0,"min":0,"max":0}""");
        DashboardData.Durations(new Dictionary<string, double> { ["p:a"] = 1.234, ["p:b"] = 3.5, ["q:c"] = 2 })
            .ToJsonString().ShouldBe("""{"count":3,"average":2.2,"min":1.23,"max":3.5}""");
    }

    [Theory]
    [InlineData("<b>vmpooler</b>", "vmpooler")]
    [InlineData("ACME <i>CI</i>  pool", "ACME CI pool")]
    [InlineData("<b></b>", "vmpooler")]
    [InlineData("R&amp;D", "R&D")]
    public void SiteTitle_IsTheSiteNameAsText(string siteName, string title) => DashboardAssets.SiteTitle(siteName).ShouldBe(title);
}
