using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VmPooler.Tests.Manager;

/// <summary>Captures log events, for tests where the log line is the behaviour (Npgsql's ListLoggerFactory).</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(EventId Id, LogLevel Level, string Message)> _events = new();

    public IReadOnlyList<(EventId Id, LogLevel Level, string Message)> Events => [.. _events];

    public int Count(int eventId) => _events.Count(e => e.Id.Id == eventId);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _events.Enqueue((eventId, logLevel, formatter(state, exception)));
}
