using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using VmPooler.Api.Http;
using VmPooler.Core.Inventory;
using VmPooler.Core.Tokens;

namespace VmPooler.Api.Auth;

/// <summary>
/// The two credentials of the API (spec §7.1): HTTP Basic for the token routes, and <c>X-AUTH-TOKEN</c> for the rest.
/// Each check gives either the caller or the answer to send instead (401 with <c>WWW-Authenticate</c>, or 503 when
/// the auth backend is down).
/// </summary>
public static class RequestAuth
{
    public const string TokenHeader = "X-AUTH-TOKEN";

    /// <summary>The header every 401 carries.</summary>
    public const string Challenge = "Basic realm=\"Authentication required\"";

    /// <summary>401 <c>{"ok": false}</c> with the Basic challenge.</summary>
    public static IResult Unauthorized() => new ChallengeResult(ApiResults.Fail(StatusCodes.Status401Unauthorized));

    /// <summary>403 for a token of another user when <c>owner_only</c> is on.</summary>
    public static IResult NotOwner()
        => ApiResults.Error(StatusCodes.Status403Forbidden, "this VM was checked out by another user (owner_only is on)");

    /// <summary>The user of a valid Basic-auth header, or the answer to give.</summary>
    public static async Task<(string? User, IResult? Failure)> BasicAsync(HttpContext context, ApiServices services)
    {
        if (services.Authenticator is not { } authenticator || !TryReadBasic(context.Request, out var user, out var password))
        {
            services.Metrics.Token("auth_failed");
            return (null, Unauthorized());
        }

        var result = await authenticator.AuthenticateAsync(user, password, context.RequestAborted);
        if (result is not AuthResult.Accepted and not AuthResult.Unavailable)
        {
            services.Metrics.Token("auth_failed");
        }

        return result switch
        {
            AuthResult.Accepted => (user, null),
            AuthResult.Unavailable => (null, ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "the authentication service is unavailable")),
            _ => (null, Unauthorized()),
        };
    }

    /// <summary>True when the request carries an <c>X-AUTH-TOKEN</c> header (even an empty one).</summary>
    public static bool HasToken(HttpContext context) => context.Request.Headers.ContainsKey(TokenHeader);

    /// <summary>The token of the request when it is valid (its use recorded), or 401.</summary>
    public static async Task<(TokenRecord? Token, IResult? Failure)> TokenAsync(HttpContext context, ApiServices services)
    {
        var token = context.Request.Headers[TokenHeader].ToString();
        if (!TokenHashing.LooksLikeToken(token))
        {
            services.Metrics.Token("auth_failed");
            return (null, Unauthorized());
        }

        var hash = TokenHashing.Hash(token);
        var record = await services.Tokens.GetAsync(hash, context.RequestAborted);
        if (record is null || !TokenHashing.FixedTimeEquals(record.Hash, hash))
        {
            services.Metrics.Token("auth_failed");
            return (null, Unauthorized());
        }

        await services.Tokens.TouchAsync(hash, services.Time.GetUtcNow(), context.RequestAborted);
        return (record, null);
    }

    /// <summary>
    /// The token check of the routes that change a checked-out VM: a valid token when auth is configured (or when the VM
    /// carries an owner, for returns), and with <c>owner_only</c> the VM's own user. Null when the request may go on.
    /// </summary>
    public static async Task<IResult?> AuthorizeVmChangeAsync(HttpContext context, ApiServices services, VmRecord vm, bool required)
    {
        var owner = vm.View.OwnerTokenHash;
        if (!required && owner is null)
        {
            return null;
        }

        var (token, failure) = await TokenAsync(context, services);
        if (token is null)
        {
            return failure;
        }

        if (services.Options.Config.OwnerOnly && owner is not null
            && !TokenHashing.FixedTimeEquals(owner, token.Hash)
            && !string.Equals(vm.View.OwnerUser, token.User, StringComparison.Ordinal))
        {
            return NotOwner();
        }

        return null;
    }

    private static bool TryReadBasic(HttpRequest request, out string user, out string password)
    {
        user = password = "";
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is not { Length: > 0 and <= 4096 } encoded)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        user = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }

    private sealed class ChallengeResult(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.WWWAuthenticate = Challenge;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
