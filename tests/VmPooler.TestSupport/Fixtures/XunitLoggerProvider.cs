using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// Sends the application's log to the test's output (shown when a test fails), like YARP's test logger. Lines written
/// after the test has finished (a background pass still logging) are dropped.
/// </summary>
public sealed class XunitLoggerProvider(ITestOutputHelper output) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, categoryName);

    public void Dispose()
    {
    }

    private sealed class XunitLogger(ITestOutputHelper output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var shortCategory = category[(category.LastIndexOf('.') + 1)..];
            try
            {
                output.WriteLine($"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} {logLevel,-11} {shortCategory}: {formatter(state, exception)}{(exception is null ? "" : Environment.NewLine + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test is over.
            }
        }
    }
}
