using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Tokens;

namespace VmPooler.Api.OnDemand;

/// <summary>
/// The <c>/ondemandvm</c> routes (spec §2.6): a request for VMs that the manager clones for it, instead of taking them
/// from the ready pool. The manager side is <c>OnDemandProvisioner</c>.
/// </summary>
internal static partial class OnDemandApi
{
    /// <summary>How long a deleted request is kept (so its id stays taken and GET reports it deleted): 15 days, as the original.</summary>
    public static readonly TimeSpan DeletedKeep = TimeSpan.FromDays(15);

    private const string ParseFailure = "JSON payload could not be parsed";

    public static RouteGroupBuilder MapOnDemandApi(this RouteGroupBuilder api)
    {
        api.MapPost("/ondemandvm", CreateFromBodyAsync);
        api.MapPost("/ondemandvm/{pools}", CreateFromPathAsync);
        api.MapGet("/ondemandvm/{requestId}", GetAsync);
        api.MapDelete("/ondemandvm/{requestId}", DeleteAsync);
        return api;
    }

    /// <summary>POST /ondemandvm with <c>{"pool-or-alias": count, …, "request_id": "optional"}</c>.</summary>
    public static async Task<IResult> CreateFromBodyAsync(HttpContext context, ApiServices services)
    {
        var (token, failure) = await TokenIfRequiredAsync(context, services);
        if (failure is not null)
        {
            return failure;
        }

        var body = await RequestBody.ReadObjectAsync(context.Request, context.RequestAborted);
        if (body.IsJsonNull)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        if (body.Error is { } error || body.IsBlank)
        {
            return ApiResults.Json(StatusCodes.Status400BadRequest, new JsonObject
            {
                ["ok"] = false,
                ["message"] = ParseFailure,
                ["error"] = body.Error ?? "the body is empty",
            });
        }

        string? requestId = null;
        var requests = new List<(string Name, JsonNode? Count)>();
        foreach (var (key, value) in body.Body!)
        {
            if (key == "request_id")
            {
                if (value?.GetValueKind() is not JsonValueKind.String || !RequestIdPattern().IsMatch(value.GetValue<string>()))
                {
                    return ApiResults.Error(StatusCodes.Status400BadRequest, "Invalid request_id format (1 to 100 of A-Z, a-z, 0-9, '-', '_')");
                }

                requestId = value.GetValue<string>();
            }
            else
            {
                requests.Add((key, value));
            }
        }

        return await CreateAsync(context, services, token, requests, requestId);
    }

    /// <summary>POST /ondemandvm/&lt;pool&gt;[+&lt;pool&gt;…]: one VM per segment; repeats count.</summary>
    public static async Task<IResult> CreateFromPathAsync(string pools, HttpContext context, ApiServices services)
    {
        var (token, failure) = await TokenIfRequiredAsync(context, services);
        if (failure is not null)
        {
            return failure;
        }

        var requests = pools.Split('+')
            .GroupBy(name => name, StringComparer.Ordinal)
            .Select(group => (group.Key, JsonNode.Parse(group.Count().ToString(CultureInfo.InvariantCulture))))
            .ToList();
        return await CreateAsync(context, services, token, requests, null);
    }

    private static async Task<IResult> CreateAsync(
        HttpContext context, ApiServices services, TokenRecord? token, IReadOnlyList<(string Name, JsonNode? Count)> requests, string? requestId)
    {
        if (requests.Count == 0)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, "No pools requested");
        }

        var badTemplates = requests.Where(r => !services.Pools.IsKnown(r.Name)).Select(r => r.Name).ToList();
        if (badTemplates.Count > 0)
        {
            services.Metrics.OnDemandFailed("invalid", "unknown");
            return ApiResults.Json(StatusCodes.Status404NotFound, new JsonObject
            {
                ["ok"] = false,
                ["bad_templates"] = new JsonArray([.. badTemplates.Select(b => JsonValue.Create(b))]),
            });
        }

        var max = services.Options.Config.MaxOnDemandInstancesPerRequest;
        var counts = new List<(string Name, int Count)>();
        foreach (var (name, value) in requests)
        {
            if (!InputValidator.TryWholeNumber(value, out var count))
            {
                return ApiResults.Error(StatusCodes.Status400BadRequest, "VM count must be a valid integer");
            }

            if (count > max)
            {
                services.Metrics.OnDemandFailed("toomanyrequests", services.Pools.Candidates(name)[0]);
                return ApiResults.Json(StatusCodes.Status403Forbidden, new JsonObject
                {
                    ["ok"] = false,
                    ["message"] = $"requested amount of instances exceeds the maximum {max}",
                });
            }

            if (count < 1)
            {
                return ApiResults.Error(StatusCodes.Status400BadRequest, "VM count must be at least 1");
            }

            counts.Add((name, (int)count));
        }

        // Each instance draws its pool among the name's candidates (weighted by backend_weight where configured).
        var entries = new List<OnDemandEntry>();
        foreach (var (name, count) in counts)
        {
            var drawn = Enumerable.Range(0, count).Select(_ => services.Pools.Candidates(name)[0]);
            entries.AddRange(drawn.GroupBy(p => p, StringComparer.Ordinal).Select(g => new OnDemandEntry(name, g.Key, g.Count())));
        }

        var id = requestId ?? Guid.NewGuid().ToString();
        var request = new OnDemandRequest(id, entries, OnDemandStatus.Pending, services.Time.GetUtcNow(), token?.Hash, token?.User);
        if (!await services.OnDemand.CreateAsync(request, context.RequestAborted))
        {
            services.Metrics.OnDemandGenerated("duplicaterequests");
            return ApiResults.Json(StatusCodes.Status409Conflict, new JsonObject
            {
                ["ok"] = false,
                ["request_id"] = id,
                ["message"] = $"request_id '{id}' has already been created",
            });
        }

        ApiLog.OnDemandCreated(services.Logger, id, OnDemandRequest.FormatEntries(entries));
        services.Metrics.OnDemandGenerated("success");
        return ApiResults.Json(StatusCodes.Status201Created, new JsonObject { ["ok"] = true, ["request_id"] = id });
    }

    /// <summary>GET /ondemandvm/&lt;id&gt;: 202 with counts while in progress, 200 with hostnames once ready, 200 with a message when failed or deleted.</summary>
    public static async Task<IResult> GetAsync(string requestId, HttpContext context, ApiServices services)
    {
        var request = RequestIdPattern().IsMatch(requestId) ? await services.OnDemand.GetAsync(requestId, context.RequestAborted) : null;
        if (request is null)
        {
            return NotFound(requestId);
        }

        var answer = new JsonObject { ["ok"] = true, ["request_id"] = request.Id, ["ready"] = false };
        switch (request.Status)
        {
            case OnDemandStatus.Failed:
                answer["message"] = $"The request failed to provision instances within the configured ondemand_request_ttl '{services.Options.Config.OnDemandRequestTtl.TotalMinutes.ToString(CultureInfo.InvariantCulture)}'";
                if (request.FailureReason is { } reason)
                {
                    answer["failure_reason"] = reason;
                }

                return ApiResults.Json(StatusCodes.Status200OK, answer);
            case OnDemandStatus.Deleted:
                answer["message"] = "The request has been deleted";
                return ApiResults.Json(StatusCodes.Status200OK, answer);
            case OnDemandStatus.Ready:
                answer["ready"] = true;
                var shortNames = ApiGeneration.UsesShortNames(context);
                foreach (var group in request.Entries.GroupBy(e => e.Requested, StringComparer.Ordinal))
                {
                    var hostnames = group.SelectMany(e => (request.Delivered.GetValueOrDefault(e.Key) ?? []).Select(vm => shortNames ? vm : services.Pools.Fqdn(vm, e.Pool)));
                    answer[group.Key] = new JsonObject { ["hostname"] = new JsonArray([.. hostnames.Select(h => JsonValue.Create(h))]) };
                }

                if (shortNames && request.Entries.Select(e => services.Pools.DomainOf(e.Pool)).FirstOrDefault(d => d is { Length: > 0 }) is { } domain)
                {
                    answer["domain"] = domain;
                }

                return ApiResults.Json(StatusCodes.Status200OK, answer);
            default:
                foreach (var group in request.Entries.GroupBy(e => e.Requested, StringComparer.Ordinal))
                {
                    var wanted = group.Sum(e => e.Count);
                    var delivered = Math.Min(wanted, group.Sum(request.DeliveredCount));
                    answer[group.Key] = new JsonObject
                    {
                        ["ready"] = delivered.ToString(CultureInfo.InvariantCulture),
                        ["pending"] = (wanted - delivered).ToString(CultureInfo.InvariantCulture),
                    };
                }

                return ApiResults.Json(StatusCodes.Status202Accepted, answer);
        }
    }

    /// <summary>DELETE /ondemandvm/&lt;id&gt;: marks the request deleted and returns every VM delivered to it.</summary>
    public static async Task<IResult> DeleteAsync(string requestId, HttpContext context, ApiServices services)
    {
        var (token, failure) = await TokenIfRequiredAsync(context, services);
        if (failure is not null)
        {
            return failure;
        }

        var request = RequestIdPattern().IsMatch(requestId) ? await services.OnDemand.GetAsync(requestId, context.RequestAborted) : null;
        if (request is null)
        {
            return NotFound(requestId);
        }

        if (services.Options.Config.OwnerOnly && request.TokenHash is { } owner && token is not null
            && !TokenHashing.FixedTimeEquals(owner, token.Hash) && request.User != token.User)
        {
            return ApiResults.Error(StatusCodes.Status403Forbidden, "this request was made by another user (owner_only is on)");
        }

        // The status may change under us (the manager completes or fails the request): retry on the status we then see.
        for (var attempt = 0; request is not null && attempt < 5; attempt++)
        {
            if (request.Status == OnDemandStatus.Deleted)
            {
                return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["ok"] = true, ["message"] = "the request has already been deleted" });
            }

            if (await services.OnDemand.SetStatusAsync(request.Id, request.Status, OnDemandStatus.Deleted, DeletedKeep, null, context.RequestAborted))
            {
                // Once deleted, no VM can be delivered to it any more (deliveries are conditional on "pending").
                var current = await services.OnDemand.GetAsync(request.Id, context.RequestAborted) ?? request;
                var returned = 0;
                foreach (var vm in current.DeliveredVms)
                {
                    if ((await services.Inventory.ReturnAsync(vm, context.RequestAborted)).Status == ReturnStatus.Returned)
                    {
                        returned++;
                    }
                }

                ApiLog.OnDemandDeleted(services.Logger, request.Id, returned);
                return ApiResults.Ok();
            }

            request = await services.OnDemand.GetAsync(requestId, context.RequestAborted);
        }

        return request is null ? NotFound(requestId) : ApiResults.Error(StatusCodes.Status409Conflict, "the request changed while it was being deleted; try again");
    }

    private static async Task<(TokenRecord? Token, IResult? Failure)> TokenIfRequiredAsync(HttpContext context, ApiServices services)
        => services.AuthConfigured ? await RequestAuth.TokenAsync(context, services) : (null, null);

    private static IResult NotFound(string requestId)
        => ApiResults.Json(StatusCodes.Status404NotFound, new JsonObject
        {
            ["ok"] = false,
            ["message"] = $"no request found for request_id '{(requestId.Length > 100 ? requestId[..100] : requestId)}'",
        });

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex RequestIdPattern();
}
