using System.Text.Json.Nodes;
using VmPooler.Api.Status;

namespace VmPooler.Tests.Api;

public class SummaryReportTests
{
    private static readonly DateOnly Today = new(2026, 3, 10);

    private static string Compact(string json) => JsonNode.Parse(json)!.ToJsonString();

    private static Dictionary<string, double> Durations(params (string Key, double Seconds)[] entries)
        => entries.ToDictionary(e => e.Key, e => e.Seconds, StringComparer.Ordinal);

    // ---- TaskDay ------------------------------------------------------------------------------------------------

    [Fact]
    public void TaskDay_NoDurations_ZerosWithoutPoolObjects()
    {
        SummaryReport.TaskDay(Durations()).ToJsonString()
            .ShouldBe(Compact("""{"duration":{"average":0,"min":0,"max":0,"total":0},"count":{"total":0}}"""));
    }

    [Fact]
    public void TaskDay_Durations_StatisticsOverallAndPerPoolInOrderFirstSeen()
    {
        var day = SummaryReport.TaskDay(Durations(("b:1", 4), ("a:1", 1), ("b:2", 2.25)));

        day.ToJsonString().ShouldBe(Compact("""
            {
              "duration": {
                "average": 2.4, "min": 1, "max": 4, "total": 7.25,
                "pool": { "b": { "total": 6.25, "average": 3.1, "min": 2.25, "max": 4 }, "a": { "total": 1, "average": 1, "min": 1, "max": 1 } }
              },
              "count": { "total": 3, "pool": { "b": { "total": 2 }, "a": { "total": 1 } } }
            }
            """));
    }

    [Fact]
    public void TaskDay_KeyWithoutColon_CountsUnderUnknown()
    {
        var day = SummaryReport.TaskDay(Durations(("lonely-vm", 3)));

        day["count"]!["pool"]!.ToJsonString().ShouldBe("""{"unknown":{"total":1}}""");
    }

    [Fact]
    public void TaskDay_KeyWithSeveralColons_PoolIsTheFirstPart()
    {
        var day = SummaryReport.TaskDay(Durations(("pool:vm:extra", 3)));

        day["count"]!["pool"]!.ToJsonString().ShouldBe("""{"pool":{"total":1}}""");
    }

    [Theory]
    [InlineData("duration", new[] { "duration" })]
    [InlineData("count", new[] { "count" })]
    [InlineData("bogus", new string[0])]
    public void TaskDay_Only_KeepsThatSection(string only, string[] expected)
    {
        var day = SummaryReport.TaskDay(Durations(("a:1", 1)), only);

        day.Select(p => p.Key).ShouldBe(expected);
    }

    [Fact]
    public void TaskDay_SumOfFractions_TotalRoundedToHundredths()
    {
        var day = SummaryReport.TaskDay(Durations(("a:1", 0.1), ("a:2", 0.2)));

        day["duration"]!["total"]!.GetValue<double>().ShouldBe(0.3);
    }

    // ---- TaskRange ----------------------------------------------------------------------------------------------

    [Fact]
    public void TaskRange_NoDays_ZerosWithEmptyPoolObjects()
    {
        SummaryReport.TaskRange([]).ToJsonString().ShouldBe(Compact("""
            {"duration":{"total":0,"min":0,"max":0,"average":0,"pool":{}},"count":{"total":0,"pool":{}}}
            """));
    }

    [Fact]
    public void TaskRange_SeveralDays_TrueAverageAndExtremesOverEveryDuration()
    {
        // The original's per-pool "average" was the mean of the daily min and max values: (1+3+10+10)/4 = 6.
        // The true mean of the durations is (1+2+3+10)/4 = 4.
        var range = SummaryReport.TaskRange([Durations(("a:1", 1), ("a:2", 2), ("a:3", 3)), Durations(), Durations(("a:4", 10), ("b:1", 5))]);

        range.ToJsonString().ShouldBe(Compact("""
            {
              "duration": {
                "total": 21, "min": 1, "max": 10, "average": 4.2,
                "pool": { "a": { "total": 16, "min": 1, "max": 10, "average": 4 }, "b": { "total": 5, "min": 5, "max": 5, "average": 5 } }
              },
              "count": { "total": 5, "pool": { "a": { "total": 4 }, "b": { "total": 1 } } }
            }
            """));
    }

    [Fact]
    public void TaskRange_Only_KeepsThatSection()
    {
        var range = SummaryReport.TaskRange([Durations(("a:1", 1))], "count");

        range.ToJsonString().ShouldBe("""{"count":{"total":1,"pool":{"a":{"total":1}}}}""");
    }

    // ---- TagDay / TagRange --------------------------------------------------------------------------------------

    [Fact]
    public void TagDay_Tags_CountsValuesAndTotalPerTag()
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["vm1:project"] = "x",
            ["vm2:project"] = "y",
            ["vm3:project"] = "x",
            ["vm1:user"] = "ann",
            ["odd"] = "z",
            ["vm4:url:part"] = "u",
        };

        SummaryReport.TagDay(tags).ToJsonString().ShouldBe(Compact("""
            {
              "project": { "x": 2, "total": 3, "y": 1 },
              "user": { "ann": 1, "total": 1 },
              "unknown": { "z": 1, "total": 1 },
              "url:part": { "u": 1, "total": 1 }
            }
            """));
    }

    [Fact]
    public void TagDay_Only_RestrictsToThatTag()
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["vm1:project"] = "x", ["vm1:user"] = "ann" };

        SummaryReport.TagDay(tags, "user").ToJsonString().ShouldBe("""{"user":{"ann":1,"total":1}}""");
        SummaryReport.TagDay(tags, "nobody").ToJsonString().ShouldBe("{}");
    }

    [Fact]
    public void TagRange_Days_AddsCountsInOrderFirstSeen()
    {
        var first = JsonNode.Parse("""{"project":{"x":2,"total":2}}""")!.AsObject();
        var second = JsonNode.Parse("""{"user":{"ann":1,"total":1},"project":{"y":1,"total":1,"x":0}}""")!.AsObject();

        SummaryReport.TagRange([first, second]).ToJsonString()
            .ShouldBe("""{"project":{"x":2,"total":3,"y":1},"user":{"ann":1,"total":1}}""");
    }

    // ---- SummaryApi.ParseRange ----------------------------------------------------------------------------------

    [Fact]
    public void ParseRange_Defaults_TodayToToday()
    {
        SummaryApi.ParseRange(null, null, Today).ShouldBe((Today, Today, (string?)null));
    }

    [Theory]
    [InlineData("2026-03-01", null, "2026-03-01", "2026-03-10")]
    [InlineData("2026-03-10", "2026-04-01", "2026-03-10", "2026-04-01")]
    [InlineData("2025-03-10", "2026-03-10", "2025-03-10", "2026-03-10")]
    public void ParseRange_Valid_ReturnsTheRange(string? from, string? to, string expectedFrom, string expectedTo)
    {
        var (f, t, error) = SummaryApi.ParseRange(from, to, Today);

        error.ShouldBeNull();
        f.ShouldBe(DateOnly.Parse(expectedFrom, System.Globalization.CultureInfo.InvariantCulture));
        t.ShouldBe(DateOnly.Parse(expectedTo, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2026-03-10\n", null, "Invalid date format '2026-03-10\n', must match YYYY-MM-DD.")]
    [InlineData("２０２６-03-10", null, "Invalid date format '２０２６-03-10', must match YYYY-MM-DD.")]
    [InlineData("2026-13-01", null, "Invalid date format '2026-13-01', must match YYYY-MM-DD.")]
    [InlineData("2026-03-01", "", "Invalid date format '', must match YYYY-MM-DD.")]
    [InlineData(null, "2026-03-09", "Date range is invalid, 'to' cannot come before 'from'.")]
    [InlineData("2026-03-11", "2026-03-11", "Date range is invalid, 'from' must be in the past.")]
    [InlineData("2025-03-09", null, "Date range is invalid, it cannot span more than 366 days.")]
    public void ParseRange_Invalid_ReturnsTheMessage(string? from, string? to, string message)
    {
        SummaryApi.ParseRange(from, to, Today).Error.ShouldBe(message);
    }
}
