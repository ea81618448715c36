using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VmPooler.QemuTests.Fixtures;

/// <summary>Passes log events on (to the test's output) and keeps them, for tests where a log line is the behaviour.</summary>
public sealed class RecordingLogger(ILogger inner) : ILogger
{
    private readonly ConcurrentQueue<(int Id, string Message)> _events = new();

    /// <summary>The messages logged with event id <paramref name="eventId"/>.</summary>
    public IReadOnlyList<string> Messages(int eventId) => [.. _events.Where(e => e.Id == eventId).Select(e => e.Message)];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _events.Enqueue((eventId.Id, formatter(state, exception)));
        inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
