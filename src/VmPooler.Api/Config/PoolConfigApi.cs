using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Api.Config;

/// <summary>
/// The experimental routes that change pools at run time (spec §2.7): size, template and clone target overrides, and
/// pool resets. Overrides live in <see cref="IPoolOverrideStore"/>, so every API process and the manager see them; the
/// manager applies them on its next pass over the pool. Unlike the original, an alias or a malformed body is a 400,
/// never a 500.
/// </summary>
internal static class PoolConfigApi
{
    /// <summary>The largest pool size the poolsize route accepts.</summary>
    private const int MaxPoolSize = 10_000;

    public static RouteGroupBuilder MapPoolConfigApi(this RouteGroupBuilder api)
    {
        api.MapPost("/config/poolsize", SetSizesAsync);
        api.MapDelete("/config/poolsize/{pool}", ResetSizeAsync);
        api.MapPost("/config/pooltemplate", SetTemplatesAsync);
        api.MapDelete("/config/pooltemplate/{pool}", ResetTemplateAsync);
        api.MapPost("/config/clonetarget", SetCloneTargetsAsync);
        api.MapPost("/poolreset", ResetPoolsAsync);
        return api;
    }

    /// <summary>POST /config/poolsize <c>{"pool": size}</c>.</summary>
    public static Task<IResult> SetSizesAsync(HttpContext context, ApiServices services)
        => SetAsync(context, services, PoolOverrideKind.Size, "not_configured", (pool, value) =>
            InputValidator.TryWholeNumber(value, out var size) && size is >= 0 and <= MaxPoolSize ? size.ToString(CultureInfo.InvariantCulture) : null,
            pool => pool.Size.ToString(CultureInfo.InvariantCulture));

    /// <summary>POST /config/pooltemplate <c>{"pool": "folder/template"}</c>.</summary>
    public static Task<IResult> SetTemplatesAsync(HttpContext context, ApiServices services)
        => SetAsync(context, services, PoolOverrideKind.Template, "bad_templates", (pool, value) =>
            value?.GetValueKind() is JsonValueKind.String && ValidTemplate(services, pool, value.GetValue<string>()) ? value.GetValue<string>() : null,
            pool => pool.Template);

    /// <summary>POST /config/clonetarget <c>{"pool": "cluster"}</c>.</summary>
    public static Task<IResult> SetCloneTargetsAsync(HttpContext context, ApiServices services)
        => SetAsync(context, services, PoolOverrideKind.CloneTarget, "bad_templates", (pool, value) =>
            value?.GetValueKind() is JsonValueKind.String && value.GetValue<string>() is { Length: > 0 and <= 255 } target && !target.Any(char.IsControl) ? target : null,
            pool => pool.CloneTarget ?? services.Options.Config.CloneTarget ?? "");

    /// <summary>DELETE /config/poolsize/&lt;pool&gt;: back to the configured size.</summary>
    public static Task<IResult> ResetSizeAsync(string pool, HttpContext context, ApiServices services)
        => ResetAsync(context, services, pool, PoolOverrideKind.Size, "pool_size_before_reset", "pool_size_before_overrides", p => JsonValue.Create(p.Size));

    /// <summary>DELETE /config/pooltemplate/&lt;pool&gt;: back to the configured template.</summary>
    public static Task<IResult> ResetTemplateAsync(string pool, HttpContext context, ApiServices services)
        => ResetAsync(context, services, pool, PoolOverrideKind.Template, "template_before_reset", "template_before_overrides", p => JsonValue.Create(p.Template));

    /// <summary>POST /poolreset <c>{"pool": …}</c>: the manager drains the pools' ready and pending VMs and refills them.</summary>
    public static async Task<IResult> ResetPoolsAsync(HttpContext context, ApiServices services)
    {
        var (body, failure) = await BeginAsync(context, services);
        if (body is null)
        {
            return failure!;
        }

        var bad = body.Select(kv => kv.Key).Where(p => services.Pools.Find(p) is null).ToList();
        if (bad.Count > 0 || body.Count == 0)
        {
            CountInvalid(services, bad, services.Metrics.PoolResetInvalid);
            return Bad("bad_pools", bad);
        }

        foreach (var (pool, _) in body)
        {
            await services.Overrides.RequestResetAsync(pool, context.RequestAborted);
            ApiLog.PoolConfigChanged(services.Logger, pool, "reset", "requested");
        }

        return ApiResults.Ok(StatusCodes.Status201Created);
    }

    private static async Task<IResult> SetAsync(
        HttpContext context,
        ApiServices services,
        PoolOverrideKind kind,
        string errorKey,
        Func<PoolOptions, JsonNode?, string?> validate,
        Func<PoolOptions, string> effective)
    {
        var (body, failure) = await BeginAsync(context, services);
        if (body is null)
        {
            return failure!;
        }

        var values = new List<(PoolOptions Pool, string Value)>();
        var bad = new List<string>();
        foreach (var (name, value) in body)
        {
            // Pools only: an alias names several pools (the original accepted it here and then failed with a 500).
            if (services.Pools.Find(name) is not { } pool || validate(pool, value) is not { } valid)
            {
                bad.Add(name);
                continue;
            }

            values.Add((pool, valid));
        }

        if (bad.Count > 0 || body.Count == 0)
        {
            CountInvalid(services, bad, services.Metrics.ConfigInvalid);
            return Bad(errorKey, bad);
        }

        var overrides = await services.Overrides.GetAsync(context.RequestAborted);
        var changed = false;
        foreach (var (pool, value) in values)
        {
            if (effective(overrides.Apply(pool)) != value)
            {
                // Setting the configured value again removes the override rather than storing a copy of it.
                var configured = effective(pool) == value;
                await services.Overrides.SetAsync(kind, pool.Name, configured ? null : value, context.RequestAborted);
                ApiLog.PoolConfigChanged(services.Logger, pool.Name, kind.ToString(), value);
                changed = true;
            }
        }

        return ApiResults.Ok(changed ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    private static async Task<IResult> ResetAsync(
        HttpContext context,
        ApiServices services,
        string name,
        PoolOverrideKind kind,
        string beforeResetKey,
        string beforeOverridesKey,
        Func<PoolOptions, JsonNode> value)
    {
        if (await AuthorizeAsync(context, services) is { } refused)
        {
            return refused;
        }

        if (services.Pools.Find(name) is not { } pool)
        {
            // An alias names several pools: refused as in the POST forms (the original crashed with a 500).
            return services.Pools.IsKnown(name)
                ? ApiResults.Error(StatusCodes.Status400BadRequest, $"'{name}' is an alias, not a pool")
                : ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var overrides = await services.Overrides.GetAsync(context.RequestAborted);
        var before = value(overrides.Apply(pool));
        var changed = overrides.Get(kind, pool.Name) is not null;
        if (changed)
        {
            await services.Overrides.SetAsync(kind, pool.Name, null, context.RequestAborted);
            ApiLog.PoolConfigChanged(services.Logger, pool.Name, kind.ToString(), "configured value");
        }

        return ApiResults.Json(changed ? StatusCodes.Status201Created : StatusCodes.Status200OK, new JsonObject
        {
            ["ok"] = true,
            [beforeResetKey] = before,
            [beforeOverridesKey] = value(pool),
        });
    }

    /// <summary><c>config.invalid.&lt;pool&gt;</c> / <c>poolreset.invalid.&lt;pool&gt;</c>: configured names by name, anything else as <c>unknown</c>.</summary>
    private static void CountInvalid(ApiServices services, List<string> bad, Action<string> count)
    {
        if (bad.Count == 0)
        {
            count("unknown");
        }

        foreach (var name in bad)
        {
            count(services.Pools.IsKnown(name) ? name : "unknown");
        }
    }

    /// <summary>The checks every changing route with a body starts with: <see cref="AuthorizeAsync"/>, then the body.</summary>
    private static async Task<(JsonObject? Body, IResult? Failure)> BeginAsync(HttpContext context, ApiServices services)
    {
        if (await AuthorizeAsync(context, services) is { } refused)
        {
            return (null, refused);
        }

        var body = await RequestBody.ReadObjectAsync(context.Request, context.RequestAborted);
        if (body.IsJsonNull)
        {
            return (null, ApiResults.Fail(StatusCodes.Status404NotFound));
        }

        if (body.Error is { } error)
        {
            return (null, ApiResults.Json(StatusCodes.Status400BadRequest, new JsonObject
            {
                ["ok"] = false,
                ["message"] = "JSON payload could not be parsed",
                ["error"] = error,
            }));
        }

        return (body.Body, null);
    }

    /// <summary>The checks every route here starts with: the experimental gate (405), then the token (401). Null when allowed.</summary>
    private static async Task<IResult?> AuthorizeAsync(HttpContext context, ApiServices services)
    {
        if (!services.Options.Config.ExperimentalFeatures)
        {
            return ApiResults.Fail(StatusCodes.Status405MethodNotAllowed);
        }

        return services.AuthConfigured && await RequestAuth.TokenAsync(context, services) is { Token: null, Failure: { } denied } ? denied : null;
    }
    private static IResult Bad(string key, List<string> names)
        => ApiResults.Json(StatusCodes.Status400BadRequest, new JsonObject
        {
            ["ok"] = false,
            [key] = new JsonArray([.. names.Select(n => JsonValue.Create(n))]),
        });

    /// <summary>
    /// A template for the pool's provider: vSphere templates are <c>folder/template</c> paths (a '/' inside, not at either
    /// end, as the original checks); other providers take any non-empty path without control characters.
    /// </summary>
    private static bool ValidTemplate(ApiServices services, PoolOptions pool, string template)
    {
        if (template.Length is 0 or > 1024 || template.Any(char.IsControl))
        {
            return false;
        }

        var vsphere = services.Options.Providers.TryGetValue(pool.Provider, out var provider)
            && string.Equals(provider.ProviderClass, "vsphere", StringComparison.OrdinalIgnoreCase);
        return !vsphere || (template.Contains('/', StringComparison.Ordinal) && !template.StartsWith('/') && !template.EndsWith('/'));
    }
}
