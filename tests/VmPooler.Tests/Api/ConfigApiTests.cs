using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Api;
using VmPooler.Api.Config;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Api;

public class ConfigApiTests
{
    private static ApiServices Services(VmPoolerOptions options)
        => new(options, new PoolDirectory(options), new MemoryInventory(TimeProvider.System), ApiStores.InMemory(TimeProvider.System), TimeProvider.System, NullLogger<ApiServices>.Instance);

    private static async Task<(int Status, string Body)> RunAsync(IResult result)
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        return (context.Response.StatusCode, Encoding.UTF8.GetString(((MemoryStream)context.Response.Body).ToArray()));
    }

    [Fact]
    public async Task Config_NoPools_Returns404OkFalse()
    {
        var (status, body) = await RunAsync(await ConfigApi.Config(new DefaultHttpContext(), Services(new VmPoolerOptions())));

        status.ShouldBe(StatusCodes.Status404NotFound);
        body.ShouldBe("{\n  \"ok\": false\n}");
    }

    [Fact]
    public void PoolObject_EffectiveValues_ReplaceConfiguredOnesInPlaceAndAppendTheRest()
    {
        var pool = new PoolOptions
        {
            Name = "debian",
            Size = 4,
            Template = "tpl/debian",
            Settings = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["size"] = "2",
                ["name"] = "debian",
                ["clone_target"] = "cluster1",
                ["ready_ttl"] = null,
            },
        };

        var json = ConfigApi.PoolObject(pool, new GlobalOptions { ReadyTtl = TimeSpan.FromMinutes(45) }, templateReady: false);

        json.ToJsonString().ShouldBe(
            """{"size":4,"name":"debian","clone_target":"cluster1","ready_ttl":45,"template":"tpl/debian","template_ready":false}""");
    }

    [Fact]
    public void PoolObject_PoolReadyTtl_WinsOverTheGlobalOne()
    {
        var pool = new PoolOptions { Name = "p", ReadyTtl = TimeSpan.FromMinutes(5), Settings = new Dictionary<string, object?> { ["name"] = "p" } };

        var json = ConfigApi.PoolObject(pool, new GlobalOptions(), templateReady: true);

        json.ToJsonString().ShouldBe("""{"name":"p","size":0,"ready_ttl":5,"template_ready":true}""");
    }
}
