using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Http;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Api.Config;

/// <summary>The read-only configuration routes <c>GET /config</c> and <c>GET /full_config</c> (spec §2.7).</summary>
internal static class ConfigApi
{
    public static RouteGroupBuilder MapConfigApi(this RouteGroupBuilder api)
    {
        api.MapGet("/config", Config);
        api.MapGet("/full_config", FullConfig);
        return api;
    }

    /// <summary>
    /// GET /config: <c>{"pool_configuration": [pool objects…], "status": {"ok": true}}</c>; 404 <c>{"ok": false}</c>
    /// when no pool is configured.
    /// </summary>
    public static async Task<IResult> Config(HttpContext context, ApiServices services)
    {
        if (services.Pools.Pools.Count == 0)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        // template_ready: the template the manager last prepared the pool from is the pool's (overridden) template; before
        // the manager's first pass, a pool without a template override is on its configured template.
        var (pools, overrides) = await services.EffectivePoolsAsync(context.RequestAborted);
        var configuration = new JsonArray([.. pools.Select(pool => PoolObject(
            pool,
            services.Options.Config,
            templateReady: overrides.Get(PoolOverrideKind.Prepared, pool.Name) is { } prepared
                ? prepared == pool.Template
                : overrides.Get(PoolOverrideKind.Template, pool.Name) is null))]);
        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject
        {
            ["pool_configuration"] = configuration,
            ["status"] = new JsonObject { ["ok"] = true },
        });
    }

    /// <summary>
    /// GET /full_config: <c>{"full_config": &lt;the whole configuration&gt;, "status": {"ok": true}}</c>, as loaded (after
    /// <c>extra_config</c> merging and environment overrides), with every secret redacted.
    /// </summary>
    public static IResult FullConfig(ApiServices services)
        => ApiResults.Json(StatusCodes.Status200OK, new JsonObject
        {
            ["full_config"] = ConfigJson.Mapping(services.Options.Raw),
            ["status"] = new JsonObject { ["ok"] = true },
        });

    /// <summary>
    /// One entry of <c>pool_configuration</c>: the pool's keys as configured (secrets redacted), with <c>size</c> and
    /// <c>template</c> set to the values in effect (<c>template</c> is left out when none is configured), <c>ready_ttl</c> added when
    /// the pool does not set it (the original copies the global value in at start-up), then <c>template_ready</c>.
    /// </summary>
    public static JsonObject PoolObject(PoolOptions pool, GlobalOptions global, bool templateReady)
    {
        var json = ConfigJson.Mapping(pool.Settings);
        json["name"] = pool.Name;
        if (pool.Template.Length > 0)
        {
            json["template"] = pool.Template;
        }

        json["size"] = pool.Size;
        if (!json.ContainsKey("ready_ttl") || json["ready_ttl"] is null)
        {
            json["ready_ttl"] = (pool.ReadyTtl ?? global.ReadyTtl).TotalMinutes;
        }

        json["template_ready"] = templateReady;
        return json;
    }
}
