using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using VmPooler.Api.Auth;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;
using VmPooler.Core.Tokens;

namespace VmPooler.Api.Tokens;

/// <summary>
/// The <c>/token</c> routes (spec §2.5). Tokens are stored only as SHA-256 hashes, so <c>GET /token</c> lists each token
/// by its hint (first and last four characters) — the original listed tokens in clear, which we cannot and should not.
/// </summary>
internal static class TokenApi
{
    public static RouteGroupBuilder MapTokenApi(this RouteGroupBuilder api)
    {
        api.MapGet("/token", ListAsync);
        api.MapPost("/token", CreateAsync);
        api.MapGet("/token/{token}", GetAsync);
        api.MapDelete("/token/{token}", DeleteAsync);
        return api;
    }

    /// <summary>POST /token: a new token for the Basic-auth user.</summary>
    public static async Task<IResult> CreateAsync(HttpContext context, ApiServices services)
    {
        if (!services.AuthConfigured)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var (user, failure) = await RequestAuth.BasicAsync(context, services);
        if (user is null)
        {
            return failure!;
        }

        var token = TokenHashing.NewToken();
        await services.Tokens.CreateAsync(
            new TokenRecord(TokenHashing.Hash(token), user, TokenHashing.Hint(token), services.Time.GetUtcNow()),
            context.RequestAborted);
        ApiLog.TokenCreated(services.Logger, user, TokenHashing.Hint(token));
        services.Metrics.Token("created");
        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["ok"] = true, ["token"] = token });
    }

    /// <summary>GET /token: the Basic-auth user's tokens, by hint.</summary>
    public static async Task<IResult> ListAsync(HttpContext context, ApiServices services)
    {
        if (!services.AuthConfigured)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var (user, failure) = await RequestAuth.BasicAsync(context, services);
        if (user is null)
        {
            return failure!;
        }

        var tokens = await services.Tokens.ListAsync(user, context.RequestAborted);
        if (tokens.Count == 0)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var answer = new JsonObject { ["ok"] = true };
        foreach (var token in tokens)
        {
            answer[token.Hint] = new JsonObject
            {
                ["created"] = VmTime.FormatRuby(token.Created),
                ["last"] = token.Last is { } last ? VmTime.FormatRuby(last) : "never",
            };
        }

        return ApiResults.Json(StatusCodes.Status200OK, answer);
    }

    /// <summary>GET /token/&lt;t&gt;: no authentication (knowing the token is enough); its user, times and running VMs.</summary>
    public static async Task<IResult> GetAsync(string token, HttpContext context, ApiServices services)
    {
        if (!services.AuthConfigured || !TokenHashing.LooksLikeToken(token))
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var hash = TokenHashing.Hash(token);
        var record = await services.Tokens.GetAsync(hash, context.RequestAborted);
        if (record is null)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var details = new JsonObject
        {
            ["user"] = record.User,
            ["created"] = VmTime.FormatRuby(record.Created),
        };
        if (record.Last is { } last)
        {
            details["last"] = VmTime.FormatRuby(last);
        }

        // The index may hold VMs since returned: keep those still running with this token, prune the rest.
        var running = new List<string>();
        var stale = new List<string>();
        foreach (var vm in await services.Tokens.GetVmsAsync(hash, context.RequestAborted))
        {
            var record2 = await services.Inventory.GetVmAsync(vm, context.RequestAborted);
            if (record2 is { State: VmState.Running } && record2.View.OwnerTokenHash is { } owner && TokenHashing.FixedTimeEquals(owner, hash))
            {
                running.Add(vm);
            }
            else
            {
                stale.Add(vm);
            }
        }

        await services.Tokens.RemoveVmsAsync(hash, stale, context.RequestAborted);
        if (running.Count > 0)
        {
            details["vms"] = new JsonObject { ["running"] = new JsonArray([.. running.Select(v => JsonValue.Create(v))]) };
        }

        return ApiResults.Json(StatusCodes.Status200OK, new JsonObject { ["ok"] = true, [token] = details });
    }

    /// <summary>DELETE /token/&lt;t&gt;: Basic auth; 401 when the token does not exist (as the original answers).</summary>
    public static async Task<IResult> DeleteAsync(string token, HttpContext context, ApiServices services)
    {
        if (!services.AuthConfigured)
        {
            return ApiResults.Fail(StatusCodes.Status404NotFound);
        }

        var (user, failure) = await RequestAuth.BasicAsync(context, services);
        if (user is null)
        {
            return failure!;
        }

        if (!TokenHashing.LooksLikeToken(token))
        {
            return ApiResults.Fail(StatusCodes.Status401Unauthorized);
        }

        var hash = TokenHashing.Hash(token);
        if (services.Options.Config.OwnerOnly && await services.Tokens.GetAsync(hash, context.RequestAborted) is { } record && record.User != user)
        {
            return ApiResults.Error(StatusCodes.Status403Forbidden, "this token belongs to another user (owner_only is on)");
        }

        if (!await services.Tokens.DeleteAsync(hash, context.RequestAborted))
        {
            return ApiResults.Fail(StatusCodes.Status401Unauthorized);
        }

        ApiLog.TokenDeleted(services.Logger, user, TokenHashing.Hint(token));
        services.Metrics.Token("deleted");
        return ApiResults.Ok();
    }
}
