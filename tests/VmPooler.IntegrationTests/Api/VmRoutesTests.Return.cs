using System.Net;
using VmPooler.Core.Inventory;

namespace VmPooler.IntegrationTests.Api;

/// <summary>DELETE /api/v3/vm/&lt;hostname&gt; (spec §2.4; Q1: 404 unless the VM was running).</summary>
public partial class VmRoutesTests
{
    [Fact]
    public async Task DeleteVm_RunningVm_Returns200AndMovesItToCompleted()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkTrue();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Completed);
        (await server.CountsAsync("debian")).ShouldBe(new PoolCounts(0, 0, 0, 1));
    }

    [Fact]
    public async Task DeleteVm_Fqdn_ReturnsTheVm()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.DeleteAsync("api/v3/vm/d1.example.com")).ShouldBeOkTrue();

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Completed);
    }

    [Fact]
    public async Task DeleteVm_ReadyVm_Returns404AndLeavesItReady()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1");

        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkFalse(HttpStatusCode.NotFound);

        (await server.StateOfAsync("d1")).ShouldBe(VmState.Ready);
    }

    [Fact]
    public async Task DeleteVm_PendingVm_Returns404AndLeavesItPending()
    {
        await using var server = await StartAsync();
        await server.SeedPendingAsync("debian", "p1");

        (await server.DeleteAsync("api/v3/vm/p1")).ShouldBeOkFalse(HttpStatusCode.NotFound);

        (await server.StateOfAsync("p1")).ShouldBe(VmState.Pending);
    }

    [Fact]
    public async Task DeleteVm_Twice_SecondReturns404()
    {
        await using var server = await WithRunningVmAsync(StartAsync());

        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkTrue();
        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkFalse(HttpStatusCode.NotFound);

        (await server.CountsAsync("debian")).Completed.ShouldBe(1);
    }

    [Fact]
    public async Task DeleteVm_UnknownHost_Returns404()
    {
        await using var server = await StartAsync();

        (await server.DeleteAsync("api/v3/vm/nosuchvm")).ShouldBeOkFalse(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteVm_InvalidHostname_Returns400WithError()
    {
        await using var server = await StartAsync();

        (await server.DeleteAsync("api/v3/vm/bad_host!")).ShouldBeError(HttpStatusCode.BadRequest).ShouldBe("Invalid hostname format");
    }

    [Fact]
    public async Task DeleteVm_ReturnedVm_IsNotHandedOutAgain()
    {
        await using var server = await StartAsync();
        await server.SeedReadyAsync("debian", "d1", "d2");
        (await CheckOutAsync(server, "debian")).ShouldBe("d1.example.com");

        (await server.DeleteAsync("api/v3/vm/d1")).ShouldBeOkTrue();

        (await CheckOutAsync(server, "debian")).ShouldBe("d2.example.com");
        (await server.PostAsync("api/v3/vm/debian")).ShouldBeOkFalse(HttpStatusCode.ServiceUnavailable);
    }
}
