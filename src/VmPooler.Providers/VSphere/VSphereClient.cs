using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using static VmPooler.Providers.VSphere.VimXml;

namespace VmPooler.Providers.VSphere;

/// <summary>
/// A small, typed client for the vSphere Web Services (SOAP) API over <see cref="HttpClient"/>: the calls the vSphere
/// provider needs and nothing more. It logs in on first use, keeps the session cookie, and when vCenter answers
/// <c>NotAuthenticated</c> (the session expired or was terminated) it logs in again once and repeats the call; a call
/// that fails that way never ran, so repeating it is safe. Every request has a time limit (on the injected clock) and
/// the number of requests in flight is bounded.
/// </summary>
internal sealed partial class VSphereClient : IAsyncDisposable
{
    /// <summary>The API version asked for; 6.5 is the oldest vCenter still met in the field and understands every call used here.</summary>
    private const string SoapAction = "urn:vim25/6.5";
    private const string SessionCookie = "vmware_soap_session";

    private static readonly MoRef ServiceInstance = new("ServiceInstance", "ServiceInstance");

    private readonly VSphereConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _loginGate = new(1, 1);
    private volatile ServiceContent? _content;
    private volatile string? _cookie;
    private int _sessionGeneration;

    public VSphereClient(VSphereConnectionOptions options, TimeProvider timeProvider, ILogger logger)
    {
        _options = options;
        _time = timeProvider;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            MaxConnectionsPerServer = Math.Max(1, options.MaxConcurrentRequests),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        };
        if (options.Insecure)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _slots = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentRequests));
    }

    /// <summary>The SDK endpoint this client talks to.</summary>
    public Uri SdkUrl => _options.SdkUrl;

    /// <summary>Logins performed so far (the first one and every re-login after an expired session).</summary>
    public int LoginCount => Volatile.Read(ref _sessionGeneration);

    /// <summary>The current session's key (the value of the session cookie), or null before the first login.</summary>
    public string? SessionKey => _cookie is { } cookie ? cookie[(cookie.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim('"') : null;

    /// <summary>The service's well-known objects, logging in first when needed.</summary>
    public async Task<ServiceContent> GetServiceContentAsync(CancellationToken cancellationToken)
    {
        if (_content is null || _cookie is null)
        {
            await LoginAsync(-1, cancellationToken);
        }

        return _content!;
    }

    /// <summary>Logs in now (when not logged in yet), so a wrong password or an unreachable server shows at once.</summary>
    public Task ConnectAsync(CancellationToken cancellationToken) => GetServiceContentAsync(cancellationToken);

    /// <summary>Asks the server for its time: a cheap call that proves the session works.</summary>
    public async Task<string> CurrentTimeAsync(CancellationToken cancellationToken)
    {
        var response = await InvokeAsync(_ => El("CurrentTime", Ref("_this", ServiceInstance)), cancellationToken);
        return response.ChildValue("returnval") ?? "";
    }

    /// <summary>Ends other sessions by key (needs the Sessions.TerminateSession privilege); used to test session expiry.</summary>
    public async Task TerminateSessionAsync(string sessionKey, CancellationToken cancellationToken)
        => await InvokeAsync(c => El("TerminateSession", Ref("_this", c.SessionManager), El("sessionId", sessionKey)), cancellationToken);

    /// <summary>
    /// Sends one call in the current session. <paramref name="body"/> builds the request from the service content. On
    /// <c>NotAuthenticated</c> the client logs in again and sends it once more.
    /// </summary>
    internal async Task<XElement> InvokeAsync(Func<ServiceContent, XElement> body, CancellationToken cancellationToken)
    {
        var content = await GetServiceContentAsync(cancellationToken);
        var generation = Volatile.Read(ref _sessionGeneration);
        try
        {
            return await SendAsync(body(content), _cookie, cancellationToken);
        }
        catch (VSphereException ex) when (ex.IsNotAuthenticated)
        {
            VSphereLog.SessionExpired(_logger, _options.SdkUrl.Host);
            await LoginAsync(generation, cancellationToken);
            return await SendAsync(body(_content!), _cookie, cancellationToken);
        }
    }

    /// <summary>Logs in unless another caller already did since session <paramref name="seenGeneration"/> failed.</summary>
    private async Task LoginAsync(int seenGeneration, CancellationToken cancellationToken)
    {
        await _loginGate.WaitAsync(cancellationToken);
        try
        {
            if (_cookie is not null && _content is not null && Volatile.Read(ref _sessionGeneration) != seenGeneration)
            {
                return;
            }

            var serviceContent = await SendAsync(
                El("RetrieveServiceContent", Ref("_this", ServiceInstance)),
                null,
                cancellationToken);
            var content = ServiceContent.Parse(serviceContent.Child("returnval")
                ?? throw new VSphereException($"vCenter at {_options.SdkUrl} sent no service content"));

            using var response = await PostAsync(
                El("Login", Ref("_this", content.SessionManager), El("userName", _options.Username), El("password", _options.Password)),
                null,
                cancellationToken);
            try
            {
                await ReadAsync(response, cancellationToken);
            }
            catch (VSphereException ex) when (ex.FaultType == "InvalidLogin")
            {
                throw new VSphereLoginException(
                    $"vSphere login to {_options.SdkUrl} as '{_options.Username}' was refused: the username or password is wrong (InvalidLogin)",
                    ex);
            }

            var cookie = response.Headers.TryGetValues("Set-Cookie", out var values)
                ? values.Select(v => v.Split(';')[0].Trim()).FirstOrDefault(v => v.StartsWith(SessionCookie + "=", StringComparison.Ordinal))
                : null;
            _cookie = cookie ?? throw new VSphereException($"vCenter at {_options.SdkUrl} accepted the login but sent no session cookie");
            _content = content;
            var generation = Interlocked.Increment(ref _sessionGeneration);
            VSphereLog.LoggedIn(_logger, _options.SdkUrl.Host, _options.Username, generation);
        }
        finally
        {
            _loginGate.Release();
        }
    }

    private async Task<XElement> SendAsync(XElement body, string? cookie, CancellationToken cancellationToken)
    {
        using var response = await PostAsync(body, cookie, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    private async Task<HttpResponseMessage> PostAsync(XElement body, string? cookie, CancellationToken cancellationToken)
    {
        var envelope = Envelope(body).ToString(SaveOptions.DisableFormatting);
        using var request = new HttpRequestMessage(HttpMethod.Post, _options.SdkUrl)
        {
            Content = new StringContent("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + envelope, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/xml") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("SOAPAction", SoapAction);
        if (cookie is not null)
        {
            request.Headers.TryAddWithoutValidation("Cookie", cookie);
        }

        using var limit = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        if (!await _slots.WaitAsync(_options.ConnectionWaitTimeout, linked.Token))
        {
            throw new VSphereException(
                $"no free connection to {_options.SdkUrl.Host} within {_options.ConnectionWaitTimeout.TotalSeconds:0.#} s (connection_pool_size {_options.MaxConcurrentRequests})");
        }

        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
            return response;
        }
        catch (OperationCanceledException ex) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new VSphereException($"{body.Name.LocalName} to {_options.SdkUrl.Host} timed out after {_options.RequestTimeout.TotalSeconds:0.#} s (vsphere_timeout)", null, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new VSphereException($"cannot reach vCenter at {_options.SdkUrl}: {ex.Message}", null, ex);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>The first element of the SOAP body, or a <see cref="VSphereException"/> for a fault or a non-SOAP answer.</summary>
    private async Task<XElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        XDocument document;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            document = await XDocument.LoadAsync(stream, LoadOptions.None, cancellationToken);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new VSphereException(
                $"vCenter at {_options.SdkUrl} answered HTTP {(int)response.StatusCode} without a SOAP envelope (is this the /sdk endpoint?)", null, ex);
        }

        var first = document.Root?.Element(Soap + "Body")?.Elements().FirstOrDefault()
            ?? throw new VSphereException($"vCenter at {_options.SdkUrl} answered HTTP {(int)response.StatusCode} with an empty SOAP body");
        if (first.Name == Soap + "Fault")
        {
            var detail = first.Element("detail")?.Elements().FirstOrDefault();
            var type = detail is null ? null : TypeOf(detail) ?? detail.Name.LocalName.Replace("Fault", "", StringComparison.Ordinal);
            var message = first.Element("faultstring")?.Value;
            throw new VSphereException(
                string.IsNullOrWhiteSpace(message) ? $"vSphere fault {type ?? "(unknown)"}" : $"{message} ({type ?? "fault"})",
                type);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new VSphereException($"vCenter at {_options.SdkUrl} answered HTTP {(int)response.StatusCode}");
        }

        return first;
    }

    public async ValueTask DisposeAsync()
    {
        if (_cookie is not null && _content is not null)
        {
            try
            {
                using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
                await SendAsync(El("Logout", Ref("_this", _content.SessionManager)), _cookie, limit.Token);
            }
            catch (Exception ex) when (ex is VSphereException or OperationCanceledException)
            {
                // The session simply expires on the server.
            }
        }

        _http.Dispose();
        _slots.Dispose();
        _loginGate.Dispose();
    }
}
