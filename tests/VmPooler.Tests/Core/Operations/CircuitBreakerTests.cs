using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Core.Operations;

/// <summary>The provider circuit breaker's state machine (spec §4.10) on a manual clock.</summary>
public class CircuitBreakerTests
{
    private static readonly OperationsOptions Options = new()
    {
        CircuitBreakerFailureThreshold = 3,
        CircuitBreakerTimeout = TimeSpan.FromSeconds(30),
        CircuitBreakerHalfOpenAttempts = 2,
    };

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private CircuitBreaker Create(OperationsOptions? options = null) => new("dummy", options ?? Options, _clock);

    private static void Fail(CircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            breaker.Enter();
            breaker.Failure("boom " + i);
        }
    }

    private static CircuitState State(CircuitBreaker breaker) => breaker.Snapshot(TimeSpan.Zero).State;

    [Fact]
    public void Failure_BelowThreshold_StaysClosed()
    {
        var breaker = Create();
        Fail(breaker, 2);
        breaker.Enter();
        breaker.Success();
        Fail(breaker, 2);

        State(breaker).ShouldBe(CircuitState.Closed);
        breaker.Snapshot(TimeSpan.Zero).ConsecutiveFailures.ShouldBe(2);
    }

    [Fact]
    public void Failure_AtThreshold_OpensAndRefusesFastNamingTheLastError()
    {
        var breaker = Create();
        Fail(breaker, 3);

        State(breaker).ShouldBe(CircuitState.Open);
        var refused = Should.Throw<ProviderCircuitOpenException>(breaker.Enter);
        refused.Message.ShouldContain("provider 'dummy' is unavailable");
        refused.Message.ShouldContain("boom 2");
        breaker.Snapshot(TimeSpan.Zero).Rejected.ShouldBe(1);
    }

    [Fact]
    public void Open_AfterTimeout_HalfOpenAllowsOneProbeAtATime()
    {
        var breaker = Create();
        Fail(breaker, 3);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Should.Throw<ProviderCircuitOpenException>(breaker.Enter);

        _clock.Advance(TimeSpan.FromSeconds(1));
        breaker.Enter();

        State(breaker).ShouldBe(CircuitState.HalfOpen);
        Should.Throw<ProviderCircuitOpenException>(breaker.Enter).Message.ShouldContain("half-open");
    }

    [Fact]
    public void HalfOpen_EnoughSuccesses_Closes()
    {
        var breaker = Create();
        Fail(breaker, 3);
        _clock.Advance(TimeSpan.FromSeconds(30));

        breaker.Enter();
        breaker.Success();
        State(breaker).ShouldBe(CircuitState.HalfOpen);
        breaker.Enter();
        breaker.Success();

        State(breaker).ShouldBe(CircuitState.Closed);
        breaker.Enter();
        breaker.Enter();
    }

    [Fact]
    public void HalfOpen_ProbeFails_OpensAgainForAFullTimeout()
    {
        var breaker = Create();
        Fail(breaker, 3);
        _clock.Advance(TimeSpan.FromSeconds(30));
        breaker.Enter();
        breaker.Failure("still down");

        State(breaker).ShouldBe(CircuitState.Open);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Should.Throw<ProviderCircuitOpenException>(breaker.Enter).Message.ShouldContain("still down");
    }

    [Fact]
    public void HalfOpen_ProbeAbandoned_FreesTheProbeSlot()
    {
        var breaker = Create();
        Fail(breaker, 3);
        _clock.Advance(TimeSpan.FromSeconds(30));
        breaker.Enter();
        breaker.Abandoned();

        breaker.Enter();
        State(breaker).ShouldBe(CircuitState.HalfOpen);
    }

    [Fact]
    public void Disabled_NeverOpens()
    {
        var breaker = Create(Options with { CircuitBreakerEnabled = false });
        Fail(breaker, 50);

        State(breaker).ShouldBe(CircuitState.Closed);
        breaker.Enter();
    }

    [Fact]
    public void StateChanged_OpenHalfOpenClosed_RaisedInOrder()
    {
        var breaker = Create(Options with { CircuitBreakerHalfOpenAttempts = 1 });
        var changes = new List<(CircuitState, CircuitState)>();
        breaker.StateChanged += (_, from, to) => changes.Add((from, to));

        Fail(breaker, 3);
        _clock.Advance(TimeSpan.FromSeconds(30));
        breaker.Enter();
        breaker.Success();

        changes.ShouldBe([(CircuitState.Closed, CircuitState.Open), (CircuitState.Open, CircuitState.HalfOpen), (CircuitState.HalfOpen, CircuitState.Closed)]);
    }
}
