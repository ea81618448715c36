using VmPooler.Manager.Execution;

namespace VmPooler.Tests.Manager;

public class BackoffTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(5, 60)]
    [InlineData(500, 60)]
    public void Delay_Failures_DoublesUpToMax(int failures, int seconds)
        => Backoff.Delay(failures, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60)).ShouldBe(TimeSpan.FromSeconds(seconds));
}
