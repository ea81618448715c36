namespace VmPooler.IntegrationTests.Fixtures;

/// <summary>
/// One API server (no pool manager) with <see cref="TestConfigs.ApiPools"/> shared by a test class whose tests do not
/// change state (routing, rejected input).
/// </summary>
public sealed class ApiServerFixture : IAsyncLifetime
{
    private VmPoolerServer? _server;

    public VmPoolerServer Server => _server ?? throw new InvalidOperationException("the server has not started");

    public async Task InitializeAsync() => _server = await VmPoolerServer.StartAsync(TestConfigs.ApiPools, VmPoolerRole.Api);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
