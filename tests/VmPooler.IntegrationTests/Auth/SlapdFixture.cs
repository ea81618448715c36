using VmPooler.IntegrationTests.Fixtures;

namespace VmPooler.IntegrationTests.Auth;

/// <summary>One slapd for the read-only LDAP tests of a class (the directory is never written to).</summary>
public sealed class SlapdFixture : IAsyncLifetime
{
    public SlapdServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await SlapdServer.StartNewAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
