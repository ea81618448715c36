using System.Globalization;
using StackExchange.Redis;

namespace VmPooler.Import;

/// <summary>
/// The <c>--from</c> address of a Ruby vmpooler's Redis, in the form redis-rb takes: <c>redis://[:password@]host[:port][/db]</c>
/// (<c>rediss://</c> for TLS).
/// </summary>
public static class RubyRedisAddress
{
    public static (ConfigurationOptions? Options, int Database, string? Error) Parse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss") || uri.Host.Length == 0)
        {
            return (null, 0, $"--from must look like redis://HOST:PORT[/DB] (got '{text}')");
        }

        var database = 0;
        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0 && !(int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database) && database < 16384))
        {
            return (null, 0, $"--from: the path must be a database number (got '/{path}')");
        }

        var options = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectTimeout = 5000,
            SyncTimeout = 30000,
            AsyncTimeout = 30000,
            ClientName = "vmpooler-import-ruby",
            Ssl = uri.Scheme == "rediss",
            DefaultDatabase = database,
        };
        options.EndPoints.Add(uri.Host, uri.Port > 0 ? uri.Port : 6379);
        if (uri.UserInfo.Length > 0)
        {
            var info = Uri.UnescapeDataString(uri.UserInfo);
            options.Password = info.Contains(':', StringComparison.Ordinal) ? info[(info.IndexOf(':', StringComparison.Ordinal) + 1)..] : info;
        }

        return (options, database, null);
    }
}
