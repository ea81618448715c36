using System.Net;
using VmPooler.Core.Inventory;
using VmPooler.Core.Tokens;
using VmPooler.IntegrationTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;
using static VmPooler.IntegrationTests.Fixtures.AuthTestSupport;

namespace VmPooler.IntegrationTests.Api;

/// <summary>
/// Tokens on the <c>/vm</c> routes when <c>:auth:</c> is configured (spec §2.2, §2.4, §7.3, §7.4): checkout records the
/// token's owner, lifetime changes and returns of owned VMs need a token, and the opt-in <c>owner_only</c> restricts them
/// to the owner.
/// </summary>
public class VmAuthTests(ITestOutputHelper output)
{
    private const string UnknownToken = "abcdefghijklmnopqrstuvwxyz012345";

    private Task<VmPoolerServer> StartAsync(string configLines = "")
        => StartApiAsync(WithDummyAuth(configLines.Length == 0 ? TestConfigs.ApiPools : TestConfigs.ApiPoolsWithConfig(configLines)), output);

    private static async Task<VmRecord> VmAsync(VmPoolerServer server, string vm)
        => (await server.Inventory.GetVmAsync(vm, CancellationToken.None).DefaultTimeout()).ShouldNotBeNull();

    /// <summary>Seeds d1, creates a token for <paramref name="user"/> and checks d1 out with it.</summary>
    private static async Task<string> CheckOutWithTokenAsync(VmPoolerServer server, string user = User)
    {
        await server.SeedReadyAsync("debian", "d1");
        var token = await server.CreateTokenAsync(user, "pw-of-" + user);
        var response = await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token);
        response.ShouldBeJson(HttpStatusCode.OK);
        response.Object["debian"]!["hostname"]!.GetValue<string>().ShouldBe("d1.example.com");
        return token;
    }

    // ---- checkout ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task Checkout_WithValidToken_RecordsTheOwnerOnTheVm()
    {
        await using var server = await StartAsync();

        var token = await CheckOutWithTokenAsync(server, "alice");

        var vm = await VmAsync(server, "d1");
        vm.State.ShouldBe(VmState.Running);
        vm.Get(VmFields.TokenUser).ShouldBe("alice");
        vm.Get(VmFields.Token).ShouldBe(TokenHashing.Hash(token), "the VM keeps the token's hash, never the token");
        vm.Fields.Values.ShouldNotContain(token);
        vm.Get(VmFields.Lifetime).ShouldBeNull("without vm_lifetime_auth the default lifetime applies");
    }

    [Fact]
    public async Task Checkout_WithValidTokenAndVmLifetimeAuth_SetsThatLifetime()
    {
        await using var server = await StartAsync("  vm_lifetime_auth: 48");

        await CheckOutWithTokenAsync(server);

        (await VmAsync(server, "d1")).Get(VmFields.Lifetime).ShouldBe("48");
        var details = (await server.GetAsync("api/v3/vm/d1")).ShouldBeJson(HttpStatusCode.OK).Object["d1"]!;
        details["lifetime"]!.Compact().ShouldBe("48");
    }

    [Fact]
    public async Task Checkout_WithoutTokenAndVmLifetimeAuth_KeepsTheDefaultLifetime()
    {
        await using var server = await StartAsync("  vm_lifetime_auth: 48");
        await server.SeedReadyAsync("debian", "d1");

        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        var vm = await VmAsync(server, "d1");
        vm.State.ShouldBe(VmState.Running);
        vm.Get(VmFields.Lifetime).ShouldBeNull();
        vm.Get(VmFields.TokenUser).ShouldBeNull();
        vm.Get(VmFields.Token).ShouldBeNull();
    }

    [Theory]
    [InlineData(UnknownToken)]
    [InlineData("not-a-token")]
    [InlineData("")]
    public async Task Checkout_WithInvalidToken_Returns401AndChecksNothingOut(string token)
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/debian", token: token)).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm", token: token, body: """{"debian": 1}""")).ShouldBeUnauthorized();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Ready);
        (await server.CountsAsync("debian")).Running.ShouldBe(0);
    }

    [Fact]
    public async Task Checkout_WithoutToken_StillWorks()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        var response = await server.PostAsync("api/v3/vm", """{"debian": 1}""");

        response.ShouldBeJson(HttpStatusCode.OK);
        (await server.StateOfAsync("d1")).ShouldBe(VmState.Running);
    }

    // ---- PUT /vm/<host> ---------------------------------------------------------------------------------------

    [Fact]
    public async Task PutLifetime_WithoutToken_Returns401AndChangesNothing()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        (await server.PutAsync("api/v3/vm/d1", """{"lifetime": 4}""")).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: UnknownToken, body: """{"lifetime": 4}""")).ShouldBeUnauthorized();
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: UnknownToken, body: """{"tags": {"a": "b"}, "lifetime": 4}"""))
            .ShouldBeUnauthorized();

        var vm = await VmAsync(server, "d1");
        vm.Get(VmFields.Lifetime).ShouldBeNull();
        vm.Get(VmFields.TagPrefix + "a").ShouldBeNull("nothing is applied when the request is refused");
    }

    [Fact]
    public async Task PutLifetime_WithToken_Returns200()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);
        var token = await server.CreateTokenAsync();

        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: token, body: """{"lifetime": 4}""")).ShouldBeOkTrue();

        (await VmAsync(server, "d1")).Get(VmFields.Lifetime).ShouldBe("4");
    }

    [Fact]
    public async Task PutTags_WithoutToken_Returns200()
    {
        await using var server = await StartAsync();
        await CheckOutWithTokenAsync(server);

        (await server.PutAsync("api/v3/vm/d1", """{"tags": {"project": "x"}}""")).ShouldBeOkTrue();

        (await VmAsync(server, "d1")).Get(VmFields.TagPrefix + "project").ShouldBe("x");
    }

    // ---- DELETE /vm/<host> ------------------------------------------------------------------------------------

    [Theory]
    [InlineData(null)]
    [InlineData(UnknownToken)]
    [InlineData("garbage")]
    public async Task Delete_TokenOwnedVmWithoutValidToken_Returns401AndTheVmKeepsRunning(string? token)
    {
        await using var server = await StartAsync();
        await CheckOutWithTokenAsync(server);

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: token)).ShouldBeUnauthorized();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Running);
    }

    [Fact]
    public async Task Delete_TokenOwnedVmWithAnotherUsersToken_Returns200ByDefault()
    {
        // Spec §7.4: no ownership checks unless owner_only is on; any valid token returns the VM.
        await using var server = await StartAsync();
        await CheckOutWithTokenAsync(server, "alice");
        var bobs = await server.CreateTokenAsync("bob", "pw-of-bob");

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: bobs)).ShouldBeOkTrue();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task Delete_TokenOwnedVmWithItsToken_Returns200()
    {
        await using var server = await StartAsync();
        var token = await CheckOutWithTokenAsync(server);

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1.example.com", token: token)).ShouldBeOkTrue();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task Delete_VmCheckedOutWithoutToken_NeedsNoToken()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeJson(HttpStatusCode.OK);

        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkTrue();
    }

    [Fact]
    public async Task Delete_AfterTheOwningTokenIsDeleted_TheOldTokenNoLongerReturnsIt()
    {
        await using var server = await StartAsync();
        var token = await CheckOutWithTokenAsync(server);
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/token/" + token, Basic())).ShouldBeOkTrue();

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: token)).ShouldBeUnauthorized();
        (await server.StateOfAsync("d1")).ShouldBe(VmState.Running);

        var another = await server.CreateTokenAsync();
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: another)).ShouldBeOkTrue();
    }

    // ---- owner_only -------------------------------------------------------------------------------------------

    [Fact]
    public async Task OwnerOnly_AnotherUsersToken_Returns403AndTheVmKeepsRunningUnchanged()
    {
        await using var server = await StartAsync("  owner_only: true");
        await CheckOutWithTokenAsync(server, "alice");
        var bobs = await server.CreateTokenAsync("bob", "pw-of-bob");

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: bobs)).ShouldBeError(HttpStatusCode.Forbidden);
        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: bobs, body: """{"lifetime": 2}""")).ShouldBeError(HttpStatusCode.Forbidden);
        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/d1/snapshot", token: bobs)).ShouldBeError(HttpStatusCode.Forbidden);
        (await server.RequestAsync(HttpMethod.Post, "api/v3/vm/d1/disk/8", token: bobs)).ShouldBeError(HttpStatusCode.Forbidden);

        var vm = await VmAsync(server, "d1");
        vm.State.ShouldBe(VmState.Running);
        vm.Get(VmFields.Lifetime).ShouldBeNull();
    }

    [Fact]
    public async Task OwnerOnly_AnotherTokenOfTheSameUser_IsAllowed()
    {
        await using var server = await StartAsync("  owner_only: true");
        await CheckOutWithTokenAsync(server, "alice");
        var second = await server.CreateTokenAsync("alice", "pw-of-alice");

        (await server.RequestAsync(HttpMethod.Put, "api/v3/vm/d1", token: second, body: """{"lifetime": 2}""")).ShouldBeOkTrue();
        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: second)).ShouldBeOkTrue();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task OwnerOnly_OwnersToken_Returns200()
    {
        await using var server = await StartAsync("  owner_only: true");
        var token = await CheckOutWithTokenAsync(server, "alice");

        (await server.RequestAsync(HttpMethod.Delete, "api/v3/vm/d1", token: token)).ShouldBeOkTrue();
    }
}
