using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;

namespace VmPooler.Api.Status;

/// <summary>
/// <c>/summary[?from&amp;to]</c> and <c>/summary/&lt;section&gt;[/&lt;key&gt;]</c> (spec §2.8): daily and range statistics
/// of clone and boot durations and tag counts, read from the per-day data the manager and <c>PUT /vm</c> record
/// (spec §8.4). Days are UTC days.
/// </summary>
internal static partial class SummaryApi
{
    /// <summary>The longest range one request may cover, so a hostile range cannot keep the server reading for ages.</summary>
    public const int MaxRangeDays = 366;

    public static RouteGroupBuilder MapSummaryApi(this RouteGroupBuilder api)
    {
        api.MapGet("/summary", SummaryAsync);
        api.MapGet("/summary/{section}/{key?}", SectionAsync);
        return api;
    }

    /// <summary>GET /summary: <c>{"daily": [{date, boot, clone, tag}…], "boot": …, "clone": …, "tag": …}</c>.</summary>
    public static async Task<IResult> SummaryAsync(HttpContext context, ApiServices services)
    {
        var range = ReadRange(context, services);
        if (range.Error is { } error)
        {
            return ApiResults.Message(StatusCodes.Status400BadRequest, error);
        }

        var ct = context.RequestAborted;
        var boots = new List<IReadOnlyDictionary<string, double>>();
        var clones = new List<IReadOnlyDictionary<string, double>>();
        var tags = new List<JsonObject>();
        var daily = new JsonArray();
        foreach (var day in Days(range.From, range.To))
        {
            var boot = await services.Inventory.GetDurationsAsync(DurationKind.Boot, day, ct);
            var clone = await services.Inventory.GetDurationsAsync(DurationKind.Clone, day, ct);
            var tag = SummaryReport.TagDay(await services.Inventory.GetTagsAsync(day, ct));
            boots.Add(boot);
            clones.Add(clone);
            tags.Add(tag);
            daily.Add(new JsonObject
            {
                ["date"] = Format(day),
                ["boot"] = SummaryReport.TaskDay(boot),
                ["clone"] = SummaryReport.TaskDay(clone),
                ["tag"] = tag.DeepClone(),
            });
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject
        {
            ["daily"] = daily,
            ["boot"] = SummaryReport.TaskRange(boots),
            ["clone"] = SummaryReport.TaskRange(clones),
            ["tag"] = SummaryReport.TagRange(tags),
        });
    }

    /// <summary>
    /// GET /summary/&lt;section&gt;[/&lt;key&gt;]: <c>{"&lt;section&gt;": range, "daily": [{date, &lt;section&gt;}…]}</c> for
    /// <c>boot</c>, <c>clone</c> (key: keep only <c>duration</c> or <c>count</c>) and <c>tag</c> (key: one tag name);
    /// 404 <c>{"ok": false}</c> for any other section, after the dates have been checked (as the original does).
    /// </summary>
    public static async Task<IResult> SectionAsync(HttpContext context, ApiServices services, string section, string? key)
    {
        var range = ReadRange(context, services);
        if (range.Error is { } error)
        {
            return ApiResults.Message(StatusCodes.Status400BadRequest, error);
        }

        DurationKind? kind = section switch
        {
            "boot" => DurationKind.Boot,
            "clone" => DurationKind.Clone,
            _ => null,
        };
        if (kind is null && section != "tag")
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var ct = context.RequestAborted;
        var daily = new JsonArray();
        JsonObject total;
        if (kind is { } task)
        {
            var days = new List<IReadOnlyDictionary<string, double>>();
            foreach (var day in Days(range.From, range.To))
            {
                var durations = await services.Inventory.GetDurationsAsync(task, day, ct);
                days.Add(durations);
                daily.Add(new JsonObject { ["date"] = Format(day), [section] = SummaryReport.TaskDay(durations, key) });
            }

            total = SummaryReport.TaskRange(days, key);
        }
        else
        {
            var days = new List<JsonObject>();
            foreach (var day in Days(range.From, range.To))
            {
                var tags = SummaryReport.TagDay(await services.Inventory.GetTagsAsync(day, ct), key);
                days.Add(tags);
                daily.Add(new JsonObject { ["date"] = Format(day), [section] = tags.DeepClone() });
            }

            total = SummaryReport.TagRange(days);
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { [section] = total, ["daily"] = daily });
    }

    /// <summary>
    /// Checks <c>from</c> and <c>to</c> (each defaults to <paramref name="today"/>; an empty value is invalid): both
    /// <c>YYYY-MM-DD</c> and real dates, <c>to</c> not before <c>from</c>, <c>from</c> not after today, and at most
    /// <see cref="MaxRangeDays"/> days. Returns the range, or the message of the first problem.
    /// </summary>
    public static (DateOnly From, DateOnly To, string? Error) ParseRange(string? from, string? to, DateOnly today)
    {
        var todayText = Format(today);
        from ??= todayText;
        to ??= todayText;
        foreach (var value in (string[])[from, to])
        {
            if (!DateFormat().IsMatch(value)
                || !DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                return (default, default, $"Invalid date format '{value}', must match YYYY-MM-DD.");
            }
        }

        var fromDate = DateOnly.ParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var toDate = DateOnly.ParseExact(to, "yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (toDate < fromDate)
        {
            return (default, default, "Date range is invalid, 'to' cannot come before 'from'.");
        }

        if (fromDate > today)
        {
            return (default, default, "Date range is invalid, 'from' must be in the past.");
        }

        if (toDate.DayNumber - fromDate.DayNumber + 1 > MaxRangeDays)
        {
            return (default, default, $"Date range is invalid, it cannot span more than {MaxRangeDays} days.");
        }

        return (fromDate, toDate, null);
    }

    private static (DateOnly From, DateOnly To, string? Error) ReadRange(HttpContext context, ApiServices services)
    {
        var query = context.Request.Query;
        var today = DateOnly.FromDateTime(services.Time.GetUtcNow().UtcDateTime);
        return ParseRange(
            query.TryGetValue("from", out var from) ? from[^1] ?? "" : null,
            query.TryGetValue("to", out var to) ? to[^1] ?? "" : null,
            today);
    }

    private static IEnumerable<DateOnly> Days(DateOnly from, DateOnly to)
    {
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            yield return day;
        }
    }

    private static string Format(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\z")]
    private static partial Regex DateFormat();
}
