using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;

namespace VmPooler.Tests.Core.Operations;

/// <summary>Adaptive timeout: clamp(p95 × 1.5, min, max), initial until enough samples, −20 % per failure (spec §4.10).</summary>
public class AdaptiveTimeoutTests
{
    private static readonly OperationsOptions Options = new();

    [Fact]
    public void Current_FewSamples_Initial()
    {
        var timeout = new AdaptiveTimeout(Options);
        timeout.Succeeded(TimeSpan.FromSeconds(1));

        timeout.Current.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Current_SlowCalls_P95TimesOneAndAHalf()
    {
        var timeout = new AdaptiveTimeout(Options);
        for (var i = 1; i <= 20; i++)
        {
            timeout.Succeeded(TimeSpan.FromSeconds(i));
        }

        // p95 of 1..20 s is 19 s (the 19th of 20) → 28.5 s.
        timeout.Current.ShouldBe(TimeSpan.FromSeconds(28.5));
    }

    [Fact]
    public void Current_FastCalls_ClampedToMin_SlowCallsToMax()
    {
        var fast = new AdaptiveTimeout(Options);
        var slow = new AdaptiveTimeout(Options);
        for (var i = 0; i < 20; i++)
        {
            fast.Succeeded(TimeSpan.FromMilliseconds(3));
            slow.Succeeded(TimeSpan.FromSeconds(300));
        }

        fast.Current.ShouldBe(TimeSpan.FromSeconds(5));
        slow.Current.ShouldBe(TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Failed_Repeatedly_TwentyPercentOffEachNeverBelowMin()
    {
        var timeout = new AdaptiveTimeout(Options);
        timeout.Failed();
        timeout.Current.ShouldBe(TimeSpan.FromSeconds(24));
        timeout.Failed();
        timeout.Current!.Value.TotalSeconds.ShouldBe(19.2, 0.001);
        for (var i = 0; i < 20; i++)
        {
            timeout.Failed();
        }

        timeout.Current.ShouldBe(TimeSpan.FromSeconds(5));
        timeout.Succeeded(TimeSpan.FromSeconds(1));
        timeout.Current.ShouldBe(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Current_Disabled_Null() => new AdaptiveTimeout(Options with { AdaptiveTimeoutEnabled = false }).Current.ShouldBeNull();
}
