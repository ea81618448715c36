namespace VmPooler.VSphereTests.Fixtures;

/// <summary>A simulator per test class (<c>IClassFixture&lt;VcsimFixture&gt;</c>).</summary>
public sealed class VcsimFixture : IAsyncLifetime
{
    private Vcsim? _vcsim;

    public Vcsim Vcsim => _vcsim ?? throw new InvalidOperationException("the simulator is not started");

    public async Task InitializeAsync() => _vcsim = await Vcsim.StartAsync();

    public async Task DisposeAsync()
    {
        if (_vcsim is not null)
        {
            await _vcsim.DisposeAsync();
        }
    }
}
