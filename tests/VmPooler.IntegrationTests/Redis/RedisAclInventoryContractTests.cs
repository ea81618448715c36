using VmPooler.Core.Configuration;
using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Redis;

/// <summary>
/// The whole inventory contract over mutual TLS as an ACL user with exactly the documented rules
/// (<see cref="VmPooler.Redis.RedisAcl"/>) for the test's key prefix: a command the inventory needs and the ACL lacks
/// fails the suite.
/// </summary>
public class RedisAclInventoryContractTests(RedisTlsServer tls) : RedisContractTestsBase, IClassFixture<RedisTlsServer>
{
    protected override string Endpoints => "127.0.0.1";

    protected override async Task<RedisOptions> ConfigureAsync(RedisOptions options)
    {
        var user = "vmpooler-" + options.KeyPrefix;
        var password = Guid.NewGuid().ToString("N");
        await tls.SetAclUserAsync(user, password, options.KeyPrefix);
        return tls.Options(options) with { Username = user, Password = password };
    }
}
