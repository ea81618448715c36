using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>Keeps every log line (event id and text), so a test can check what an operator would read.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(int EventId, string Message)> Lines { get; } = new();

    public string Text => string.Join(Environment.NewLine, Lines.Select(l => $"{l.EventId} {l.Message}"));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Lines.Enqueue((eventId.Id, formatter(state, exception)));
}
