using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Api.Operations;
using VmPooler.Core.Inventory;
using VmPooler.Core.Lifecycle;
using VmPooler.Core.Tokens;
using VmPooler.Core.Metrics;

namespace VmPooler.Api.Vm;

/// <summary>The <c>/vm</c> routes: list pools, check out, look up, modify and return VMs (spec §2.3, §2.4).</summary>
internal static class VmApi
{
    public const string TokenHeader = RequestAuth.TokenHeader;

    public static RouteGroupBuilder MapVmApi(this RouteGroupBuilder api)
    {
        api.MapGet("/vm", ListPools);
        api.MapPost("/vm", CheckoutFromBodyAsync);
        api.MapPost("/vm/{pools}", CheckoutFromPathAsync);
        api.MapGet("/vm/{hostname}", GetVmAsync);
        api.MapPut("/vm/{hostname}", ModifyVmAsync);
        api.MapDelete("/vm/{hostname}", ReturnVmAsync);
        api.MapPost("/vm/{hostname}/disk/{size}", AddDiskAsync);
        api.MapPost("/vm/{hostname}/snapshot", SnapshotAsync);
        api.MapPost("/vm/{hostname}/snapshot/{snapshot}", RevertAsync);
        return api;
    }

    /// <summary>GET /vm: the configured pool names, in configuration order.</summary>
    public static IResult ListPools(ApiServices services)
        => ApiResults.Json(StatusCodes.Status200OK, new JsonArray([.. services.Pools.PoolNames.Select(n => JsonValue.Create(n))]));

    /// <summary>POST /vm with a body <c>{"pool-or-alias": count, …}</c>.</summary>
    public static async Task<IResult> CheckoutFromBodyAsync(HttpContext context, ApiServices services)
    {
        var body = await RequestBody.ReadObjectAsync(context.Request, context.RequestAborted);
        if (body.Error is { } bodyError)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, bodyError);
        }

        var requests = new List<(string Name, int Count)>();
        foreach (var (name, value) in body.Body!)
        {
            if (InputValidator.PoolName(name) is { } nameError)
            {
                return ApiResults.Error(StatusCodes.Status400BadRequest, nameError);
            }

            if (InputValidator.VmCount(value, out var count) is { } countError)
            {
                return ApiResults.Error(StatusCodes.Status400BadRequest, countError);
            }

            requests.Add((name, count));
        }

        return await CheckoutAsync(context, services, requests);
    }

    /// <summary>POST /vm/&lt;pool&gt;[+&lt;pool&gt;…]: one VM per segment; repeats count.</summary>
    public static Task<IResult> CheckoutFromPathAsync(string pools, HttpContext context, ApiServices services)
    {
        var requests = pools.Split('+')
            .GroupBy(name => name, StringComparer.Ordinal)
            .Select(group => (group.Key, group.Count()))
            .ToList();
        return CheckoutAsync(context, services, requests);
    }

    private static async Task<IResult> CheckoutAsync(HttpContext context, ApiServices services, IReadOnlyList<(string Name, int Count)> requests)
    {
        if (requests.Count == 0 || requests.Any(r => !services.Pools.IsKnown(r.Name)))
        {
            // Unknown names are counted as "unknown", not by name: clients must not be able to grow the series without bound.
            services.Metrics.Checkout("invalid", "unknown");
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        using var activity = VmPoolerMetrics.ActivitySource.StartActivity("checkout");
        activity?.SetTag("vmpooler.requested", string.Join('+', requests.Select(r => r.Name)));

        var checkoutContext = new CheckoutContext(services.Time.GetUtcNow());
        TokenRecord? token = null;
        if (services.AuthConfigured && RequestAuth.HasToken(context))
        {
            (token, var failure) = await RequestAuth.TokenAsync(context, services);
            if (token is null)
            {
                return failure!;
            }

            checkoutContext = checkoutContext with
            {
                Token = token.Hash,
                User = token.User,
                Lifetime = services.Options.Config.VmLifetimeAuthHours is > 0 and var hours ? hours : null,
            };
        }

        var items = new List<CheckoutItem>();
        foreach (var (name, count) in requests)
        {
            for (var i = 0; i < count; i++)
            {
                items.Add(new CheckoutItem(name, services.Pools.Candidates(name)));
            }
        }

        var result = await services.Inventory.CheckoutAsync(items, checkoutContext, context.RequestAborted);
        if (!result.Succeeded)
        {
            ApiLog.CheckoutEmpty(services.Logger, result.FailedRequestedName!);
            services.Metrics.Checkout("empty", result.FailedRequestedName!);
            activity?.SetTag("vmpooler.result", "empty");
            return ApiResults.Fail(StatusCodes.Status503ServiceUnavailable);
        }

        if (token is not null)
        {
            await services.Tokens.AddVmsAsync(token.Hash, [.. result.Allocations.Select(a => a.Vm)], context.RequestAborted);
        }

        var shortNames = ApiGeneration.UsesShortNames(context);
        var answer = new JsonObject { ["ok"] = true };
        foreach (var group in result.Allocations.GroupBy(a => a.RequestedName, StringComparer.Ordinal))
        {
            var hostnames = group.Select(a => shortNames ? a.Vm : services.Pools.Fqdn(a.Vm, a.Pool)).ToList();
            foreach (var allocation in group)
            {
                ApiLog.CheckedOut(services.Logger, allocation.Vm, allocation.Pool, allocation.RequestedName);
                services.Metrics.Checkout("success", allocation.Pool);
                if (services.Options.Config.UsageStats)
                {
                    services.Metrics.Usage(token?.User, "allocate", allocation.Pool);
                }
            }

            answer[group.Key] = new JsonObject
            {
                ["hostname"] = hostnames.Count == 1
                    ? JsonValue.Create(hostnames[0])
                    : new JsonArray([.. hostnames.Select(h => JsonValue.Create(h))]),
            };
        }

        // v1 and un-versioned answers: short names, and the domain once at the top level.
        if (shortNames && result.Allocations.Select(a => services.Pools.DomainOf(a.Pool)).FirstOrDefault(d => d is { Length: > 0 }) is { } domain)
        {
            answer["domain"] = domain;
        }

        return ApiResults.Json(StatusCodes.Status200OK, answer);
    }

    /// <summary>GET /vm/&lt;hostname&gt;: the VM's details (spec §2.4 field rules).</summary>
    public static async Task<IResult> GetVmAsync(string hostname, HttpContext context, ApiServices services)
    {
        var (record, failure) = await FindVmAsync(hostname, context, services);
        if (record is null)
        {
            return failure!;
        }

        var vm = record.View;
        var now = services.Time.GetUtcNow();
        var lifetime = vm.LifetimeHours(services.Options.Config.VmLifetime.TotalHours);
        var checkout = vm.CheckedOut;
        var destroy = vm.Destroyed;

        string state;
        double running = 0;
        if (destroy is not null)
        {
            state = "destroyed";
            running = checkout is { } c ? (destroy.Value - c).TotalHours : 0;
        }
        else if (checkout is not null)
        {
            state = "running";
            running = (now - checkout.Value).TotalHours;
        }
        else
        {
            state = vm.Checked is not null ? "ready" : "pending";
        }

        var details = new JsonObject
        {
            ["template"] = vm.Template,
            ["lifetime"] = Number(lifetime),
            ["running"] = Math.Round(running, 2),
        };
        if (state == "running")
        {
            // The effective lifetime (the VM's own, else vm_lifetime), so remaining/end_time agree with "lifetime"
            // and with when the manager will reap it (a deliberate fix of spec Q2).
            var end = checkout!.Value + TimeSpan.FromHours(lifetime);
            details["remaining"] = Math.Round((end - now).TotalHours, 2);
            details["start_time"] = VmTime.FormatRfc3339(checkout.Value);
            details["end_time"] = VmTime.FormatRfc3339(end);
        }

        details["state"] = state;
        if (state != "running" && await DeadLetterApi.FailureOfAsync(vm, context) is { } failed)
        {
            details["failure"] = failed;
        }

        if (vm.Tags.Count > 0)
        {
            details["tags"] = new JsonObject(vm.Tags.Select(t => KeyValuePair.Create(t.Key, (JsonNode?)t.Value)));
        }

        if (vm.Snapshots.Count > 0)
        {
            details["snapshots"] = new JsonArray([.. vm.Snapshots.Select(s => JsonValue.Create(s))]);
        }

        if (vm.Disks.Count > 0)
        {
            details["disk"] = new JsonArray([.. vm.Disks.Select(d => JsonValue.Create(d))]);
        }

        details["ip"] = vm.Ip ?? "";
        if (vm.SshPort is { } port)
        {
            details["ssh_port"] = port;
        }

        if (vm.HostKeyFingerprint is { } fingerprint)
        {
            details["host_key_fingerprint"] = fingerprint;
        }

        if (services.Pools.DomainOf(vm.Pool) is { Length: > 0 } domain)
        {
            if (ApiGeneration.UsesShortNames(context))
            {
                details["domain"] = domain;
            }
            else
            {
                details["fqdn"] = $"{vm.Name}.{domain}";
            }
        }

        if (vm.Host is { } host)
        {
            details["host"] = host;
        }

        if (vm.Migrated is { } migrated)
        {
            details["migrated"] = migrated;
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["ok"] = true, [vm.Name] = details });
    }

    /// <summary>PUT /vm/&lt;hostname&gt;: set <c>lifetime</c> (hours from checkout) and/or <c>tags</c>.</summary>
    public static async Task<IResult> ModifyVmAsync(string hostname, HttpContext context, ApiServices services)
    {
        var (vm, failure) = await FindVmAsync(hostname, context, services);
        if (vm is null)
        {
            return failure!;
        }

        var name = vm.Name;

        var body = await RequestBody.ReadObjectAsync(context.Request, context.RequestAborted);
        if (body.Error is { } bodyError)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, bodyError);
        }

        var config = services.Options.Config;
        var failures = new List<string>();
        var set = new Dictionary<string, string>(StringComparer.Ordinal);
        var tagIndex = new Dictionary<string, string>(StringComparer.Ordinal);
        int? disk = null;
        foreach (var (key, value) in body.Body!)
        {
            switch (key)
            {
                case "lifetime":
                    if (services.AuthConfigured && await RequestAuth.AuthorizeVmChangeAsync(context, services, vm, required: true) is { } denied)
                    {
                        return denied;
                    }

                    var hours = LifetimeOf(value);
                    if (hours <= 0)
                    {
                        failures.Add($"You provided a lifetime ({Describe(value)}) but you must provide a positive number.");
                    }
                    else if (config.MaxLifetimeUpperLimitHours is { } limit && hours >= limit)
                    {
                        failures.Add($"You provided a lifetime ({Describe(value)}) that exceeds the configured maximum of {limit}.");
                    }
                    else
                    {
                        set[VmFields.Lifetime] = hours.ToString(CultureInfo.InvariantCulture);
                    }

                    break;
                case "tags":
                    CollectTags(value, services, failures, set, tagIndex);
                    break;
                case "disk":
                    // vmfloaty sends a disk request in the PUT body: the same rules as POST /vm/<host>/disk/<size>.
                    if (services.AuthConfigured && await RequestAuth.AuthorizeVmChangeAsync(context, services, vm, required: true) is { } diskDenied)
                    {
                        return diskDenied;
                    }

                    var sizeText = value?.GetValueKind() switch
                    {
                        JsonValueKind.Number or JsonValueKind.String => value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value.ToJsonString(),
                        _ => null,
                    };
                    if (InputValidator.DiskSize(sizeText, out var diskSize) is { } diskError)
                    {
                        failures.Add(diskError);
                    }
                    else if (vm.State is not VmState.Running)
                    {
                        failures.Add("A disk can only be added to a VM that is checked out.");
                    }
                    else
                    {
                        disk = diskSize;
                    }

                    break;
                default:
                    failures.Add($"Unknown argument {key}.");
                    break;
            }
        }

        if (failures.Count > 0)
        {
            return ApiResults.Json(StatusCodes.Status400BadRequest, new JsonObject
            {
                ["ok"] = false,
                ["failure"] = new JsonArray([.. failures.Select(f => JsonValue.Create(f))]),
            });
        }

        if (disk is { } gigabytes)
        {
            await services.Tasks.EnqueueAsync(new VmTask(VmTaskKind.Disk, vm.Pool, name, gigabytes.ToString(CultureInfo.InvariantCulture)), context.RequestAborted);
            ApiLog.TaskQueued(services.Logger, "disk", gigabytes.ToString(CultureInfo.InvariantCulture), name);
        }

        if (set.Count > 0)
        {
            if (!await services.Inventory.UpdateFieldsAsync(name, set, cancellationToken: context.RequestAborted))
            {
                return ApiResults.Fail(StatusCodes.Status404NotFound);
            }

            if (tagIndex.Count > 0)
            {
                var today = DateOnly.FromDateTime(services.Time.GetUtcNow().UtcDateTime);
                await services.Inventory.RecordTagsAsync(name, tagIndex, today, context.RequestAborted);
            }

            ApiLog.Modified(services.Logger, name);
        }

        return ApiResults.Ok();
    }

    private static void CollectTags(JsonNode? value, ApiServices services, List<string> failures, Dictionary<string, string> set, Dictionary<string, string> tagIndex)
    {
        if (value is not JsonObject tags)
        {
            failures.Add($"You provided tags ({Describe(value)}) as something other than a hash.");
            return;
        }

        var allowed = services.Options.Config.AllowedTags;
        foreach (var (tag, tagValue) in tags)
        {
            if (InputValidator.TagKey(tag) is { } keyError)
            {
                failures.Add($"{keyError}: {tag}");
                continue;
            }

            // beaker-vmpooler sends null for a tag it has no value for (e.g. jenkins_build_url outside CI): no value, not stored.
            if (tagValue is null || tagValue.GetValueKind() is JsonValueKind.Null)
            {
                continue;
            }

            if (tagValue.GetValueKind() is not JsonValueKind.String)
            {
                failures.Add($"Tag value of '{tag}' must be a string.");
                continue;
            }

            var text = tagValue.GetValue<string>();
            if (InputValidator.TagValue(text) is { } valueError)
            {
                failures.Add($"{valueError}: {tag}");
                continue;
            }

            if (allowed is not null && !allowed.Contains(tag, StringComparer.Ordinal))
            {
                failures.Add($"You provided unsupported tags ({tag}).");
                continue;
            }

            if (services.Options.TagFilter.TryGetValue(tag, out var filter))
            {
                text = ApplyFilter(filter, text);
            }

            // Empty values are skipped silently, as the original does.
            if (text.Length > 0)
            {
                set[VmFields.TagPrefix + tag] = text;
                tagIndex[tag] = text;
            }
        }
    }

    /// <summary>A tag value matching the filter becomes the concatenation of its capture groups (spec §5.2 tagfilter).</summary>
    internal static string ApplyFilter(System.Text.RegularExpressions.Regex filter, string value)
    {
        var match = filter.Match(value);
        if (!match.Success)
        {
            return value;
        }

        return match.Groups.Count > 1
            ? string.Concat(match.Groups.Cast<System.Text.RegularExpressions.Group>().Skip(1).Select(g => g.Value))
            : match.Value;
    }

    /// <summary>DELETE /vm/&lt;hostname&gt;: return a checked-out VM (404 unless it was running, spec Q1).</summary>
    public static async Task<IResult> ReturnVmAsync(string hostname, HttpContext context, ApiServices services)
    {
        if (InputValidator.Hostname(hostname) is { } error)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, error);
        }

        // Most VMs carry no token: they are returned in one step, without reading them first.
        var name = InputValidator.ShortName(hostname);
        var outcome = await services.Inventory.ReturnUnownedAsync(name, context.RequestAborted);
        string? owner = null;
        if (outcome.Status == ReturnStatus.UnknownVm)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        if (outcome.Status == ReturnStatus.Owned)
        {
            if (await services.Inventory.GetVmAsync(name, context.RequestAborted) is not { } vm)
            {
                return ApiResults.Fail(StatusCodes.Status404NotFound);
            }

            // A VM checked out with a token needs a valid token to be returned, even once auth is no longer configured.
            if (await RequestAuth.AuthorizeVmChangeAsync(context, services, vm, required: false) is { } denied)
            {
                return denied;
            }

            owner = vm.View.OwnerUser;
            outcome = await services.Inventory.ReturnAsync(vm, context.RequestAborted);
        }

        if (outcome.Status != ReturnStatus.Returned)
        {
            services.Metrics.Delete(succeeded: false);
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        services.Metrics.Delete(succeeded: true);
        if (services.Options.Config.UsageStats)
        {
            services.Metrics.Usage(owner, "destroy", outcome.Pool!);
        }

        ApiLog.Returned(services.Logger, name, outcome.Pool!);
        return ApiResults.Ok();
    }

    /// <summary>POST /vm/&lt;hostname&gt;/disk/&lt;size&gt;: queue a disk of <c>size</c> GB for the manager to add (202).</summary>
    public static async Task<IResult> AddDiskAsync(string hostname, string size, HttpContext context, ApiServices services)
    {
        if (PrecheckChange(hostname, context, services) is { } rejected)
        {
            return rejected;
        }

        if (InputValidator.DiskSize(size, out var gigabytes) is { } sizeError)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, sizeError);
        }

        return await QueueTaskAsync(hostname, context, services, VmTaskKind.Disk, gigabytes.ToString(CultureInfo.InvariantCulture), "disk", $"+{gigabytes}gb");
    }

    /// <summary>POST /vm/&lt;hostname&gt;/snapshot: queue a snapshot under a new random name (202).</summary>
    public static async Task<IResult> SnapshotAsync(string hostname, HttpContext context, ApiServices services)
    {
        if (PrecheckChange(hostname, context, services) is { } rejected)
        {
            return rejected;
        }

        var name = TokenHashing.NewToken();
        return await QueueTaskAsync(hostname, context, services, VmTaskKind.Snapshot, name, "snapshot", name);
    }

    /// <summary>POST /vm/&lt;hostname&gt;/snapshot/&lt;snapshot&gt;: queue a revert to a snapshot the VM has (202), else 404.</summary>
    public static async Task<IResult> RevertAsync(string hostname, string snapshot, HttpContext context, ApiServices services)
    {
        if (PrecheckChange(hostname, context, services) is { } rejected)
        {
            return rejected;
        }

        var (vm, failure) = await FindChangeableVmAsync(hostname, context, services);
        if (vm is null)
        {
            return failure!;
        }

        if (!vm.View.HasSnapshot(snapshot))
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        await services.Tasks.EnqueueAsync(new VmTask(VmTaskKind.Revert, vm.Pool, vm.Name, snapshot), context.RequestAborted);
        ApiLog.TaskQueued(services.Logger, "revert", snapshot, vm.Name);
        return ApiResults.Ok(StatusCodes.Status202Accepted);
    }

    /// <summary>The shared part of disk and snapshot: the VM, the queued task, 202 with what was queued.</summary>
    private static async Task<IResult> QueueTaskAsync(
        string hostname, HttpContext context, ApiServices services, VmTaskKind kind, string argument, string answerKey, string answerValue)
    {
        var (vm, failure) = await FindChangeableVmAsync(hostname, context, services);
        if (vm is null)
        {
            return failure!;
        }

        await services.Tasks.EnqueueAsync(new VmTask(kind, vm.Pool, vm.Name, argument), context.RequestAborted);
        ApiLog.TaskQueued(services.Logger, answerKey, argument, vm.Name);
        return ApiResults.Json(StatusCodes.Status202Accepted, new JsonObject
        {
            ["ok"] = true,
            [vm.Name] = new JsonObject { [answerKey] = answerValue },
        });
    }

    /// <summary>
    /// The first checks of the disk, snapshot and revert routes: with auth configured a token must be sent (401 before any
    /// validation, spec §2.4), then the hostname must be valid (400). Null when the request may go on.
    /// </summary>
    private static IResult? PrecheckChange(string hostname, HttpContext context, ApiServices services)
    {
        if (services.AuthConfigured && !RequestAuth.HasToken(context))
        {
            return RequestAuth.Unauthorized();
        }

        return InputValidator.Hostname(hostname) is { } hostError ? ApiResults.Error(StatusCodes.Status400BadRequest, hostError) : null;
    }

    /// <summary>
    /// The checked-out VM a disk, snapshot or revert route names, after the token checks, or the answer instead: 404 for
    /// an unknown VM or one that is not running (a ready VM would be handed to someone else with the change, and a
    /// destroyed one has nothing to change; the original queued these and the manager failed them silently).
    /// </summary>
    private static async Task<(VmRecord? Vm, IResult? Failure)> FindChangeableVmAsync(string hostname, HttpContext context, ApiServices services)
    {
        var (vm, failure) = await FindVmAsync(hostname, context, services);
        if (vm is null)
        {
            return (null, failure);
        }

        if (await RequestAuth.AuthorizeVmChangeAsync(context, services, vm, required: services.AuthConfigured) is { } denied)
        {
            return (null, denied);
        }

        return vm.State is VmState.Running ? (vm, null) : (null, ApiResults.Fail(StatusCodes.Status404NotFound));
    }

    /// <summary>
    /// The VM a hostname route names (short name or FQDN), or the answer to give instead: 400 for an invalid hostname,
    /// 404 for an unknown VM.
    /// </summary>
    private static async Task<(VmRecord? Vm, IResult? Failure)> FindVmAsync(string hostname, HttpContext context, ApiServices services)
    {
        if (InputValidator.Hostname(hostname) is { } error)
        {
            return (null, ApiResults.Error(StatusCodes.Status400BadRequest, error));
        }

        var vm = await services.Inventory.GetVmAsync(InputValidator.ShortName(hostname), context.RequestAborted);
        return vm is null ? (null, ApiResults.Fail(StatusCodes.Status404NotFound)) : (vm, null);
    }

    /// <summary>A lifetime as Ruby's <c>to_i</c> reads it: numbers truncate, strings by their leading integer.</summary>
    private static long LifetimeOf(JsonNode? value) => value?.GetValueKind() switch
    {
        JsonValueKind.Number => value.GetValue<JsonElement>().TryGetInt64(out var whole)
            ? whole
            : (long)Math.Clamp(Math.Truncate(value.GetValue<double>()), long.MinValue, long.MaxValue),
        JsonValueKind.String => LifecycleRules.ParseLeadingInt(value.GetValue<string>()),
        _ => 0,
    };

    private static string Describe(JsonNode? value) => value is null ? "null" : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString();

    private static JsonNode Number(double value)
        => value == Math.Floor(value) && Math.Abs(value) < int.MaxValue ? JsonValue.Create((int)value) : JsonValue.Create(value);
}
