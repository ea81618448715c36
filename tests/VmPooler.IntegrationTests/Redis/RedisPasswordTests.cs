using System.Globalization;
using System.Net;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// <c>redis.password</c> against a real <c>redis-server --requirepass</c>: the right password works end to end; a wrong
/// or missing one is a clear 503 naming the authentication failure (and <c>/readyz</c> says not ready), never a hang.
/// </summary>
public sealed class RedisPasswordTests(ITestOutputHelper output)
{
    private const string Password = "s3cr3t-Pw";

    private static string Yaml(RedisServer redis, string? password) => $"""
        ---
        :providers:
          :dummy:
            createvm_max_time: 0
            boot_max_time: 0
        :config:
          check_loop_delay_min: 0.1
          check_loop_delay_max: 0.5
        :pools:
          - name: 'locked'
            size: 1
        :redis:
          server: '127.0.0.1'
          port: {redis.Port.ToString(CultureInfo.InvariantCulture)}
          key_prefix: 'pw-{Guid.NewGuid().ToString("N")[..8]}'
        {(password is null ? "" : $"  password: '{password}'")}
        """;

    [Fact]
    public async Task RightPassword_PoolFillsAndCheckoutWorks()
    {
        await using var redis = await RedisServer.StartNewAsync("--requirepass", Password);
        await using var server = await VmPoolerServer.StartAsync(Yaml(redis, Password), VmPoolerRole.All, output: output);

        await AsyncTestHelpers.WaitUntilAsync(
            async () => (await server.GetAsync("api/v3/status?view=pools")).Object["pools"]!["locked"]!["ready"]!.GetValue<int>() == 1,
            "the pool fills through the password-protected Redis");
        var checkout = await server.PostAsync("api/v3/vm/locked");
        checkout.ShouldBeJson(HttpStatusCode.OK);
        (await redis.CliAsync("-a", Password, "--no-auth-warning", "dbsize")).Trim().ShouldNotBe("0", "the data is in that Redis");
    }

    [Theory]
    [InlineData("wrong-password")]
    [InlineData(null)]
    public async Task WrongOrNoPassword_503NamingTheAuthenticationFailure(string? password)
    {
        await using var redis = await RedisServer.StartNewAsync("--requirepass", Password);
        await using var server = await VmPoolerServer.StartAsync(Yaml(redis, password), VmPoolerRole.Api, output: output);

        var answer = await server.PostAsync("api/v3/vm/locked");

        answer.ShouldBeJson(HttpStatusCode.ServiceUnavailable);
        answer.Object["ok"]!.GetValue<bool>().ShouldBeFalse();
        var error = answer.Object["error"]!.GetValue<string>();
        output.WriteLine(error);
        error.ShouldStartWith("the inventory (Redis) is unavailable: not connected (AuthenticationFailure");
        error.ShouldContain("check redis.username and redis.password");
        (await server.GetAsync("readyz")).Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
    }
}
