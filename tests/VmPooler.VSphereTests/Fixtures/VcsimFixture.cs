namespace VmPooler.VSphereTests.Fixtures;

/// <summary>A simulator per test class (<c>IClassFixture&lt;VcsimFixture&gt;</c>).</summary>
public class VcsimFixture : IAsyncLifetime
{
    private Vcsim? _vcsim;

    public Vcsim Vcsim => _vcsim ?? throw new InvalidOperationException("the simulator is not started");

    /// <summary>Passed to <see cref="Vcsim.StartAsync"/>: SOAP calls to slow down, or null.</summary>
    protected virtual string? MethodDelay => null;

    public async Task InitializeAsync() => _vcsim = await Vcsim.StartAsync(MethodDelay);

    public async Task DisposeAsync()
    {
        if (_vcsim is not null)
        {
            await _vcsim.DisposeAsync();
        }
    }
}

/// <summary>A simulator whose CloneVM_Task calls take 3 s to answer, to test time limits and cancellation.</summary>
public sealed class SlowVcsimFixture : VcsimFixture
{
    protected override string? MethodDelay => "CloneVM_Task=8000";
}
