using StackExchange.Redis;
using VmPooler.Redis;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>Which cause the 503 and the log name while Redis cannot be reached: the telling one, not the last retry's.</summary>
public class RedisFailureTests
{
    private static readonly RedisServerException WrongPass = new(RedisErrorKind.WrongPass, CommandFlags.None, "WRONGPASS invalid username-password pair or user is disabled.");

    [Fact]
    public void Record_RefusedThenSocketFailures_KeepsTheRefusal()
    {
        var failure = new RedisFailure();

        failure.Record(ConnectionFailureType.AuthenticationFailure, WrongPass);
        var cause = failure.Record(ConnectionFailureType.SocketFailure, null);

        cause.ShouldStartWith("AuthenticationFailure: WRONGPASS");
        cause.ShouldContain("redis.username and redis.password");
        failure.Record(ConnectionFailureType.UnableToResolvePhysicalConnection, null).ShouldBe(cause);
    }

    [Fact]
    public void Record_SocketFailureFirst_NamedUntilSomethingBetterIsKnown()
    {
        var failure = new RedisFailure();

        failure.Record(ConnectionFailureType.SocketFailure, null).ShouldBe("SocketFailure");
        failure.Record(ConnectionFailureType.AuthenticationFailure, WrongPass).ShouldStartWith("AuthenticationFailure: WRONGPASS");
    }

    [Fact]
    public void Record_AfterAConnectionWasMade_NewCausesCountAgain()
    {
        var failure = new RedisFailure();
        failure.Record(ConnectionFailureType.AuthenticationFailure, WrongPass);

        failure.Clear();

        failure.Record(ConnectionFailureType.SocketFailure, null).ShouldBe("SocketFailure");
    }
}
