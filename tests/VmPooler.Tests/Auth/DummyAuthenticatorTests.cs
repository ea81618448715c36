using VmPooler.Api.Auth;

namespace VmPooler.Tests.Auth;

public class DummyAuthenticatorTests
{
    [Theory]
    [InlineData("admin", "s3cr3t", AuthResult.Accepted)]
    [InlineData("admin", "Admin", AuthResult.Accepted)]
    [InlineData("admin", "admin", AuthResult.Denied)]
    [InlineData("", "s3cr3t", AuthResult.Denied)]
    [InlineData("admin", "", AuthResult.Denied)]
    [InlineData("", "", AuthResult.Denied)]
    public async Task AuthenticateAsync_Pair_AcceptedOnlyWhenNamesDiffer(string username, string password, AuthResult expected)
    {
        var result = await new DummyAuthenticator().AuthenticateAsync(username, password, CancellationToken.None);

        result.ShouldBe(expected);
    }
}
