using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.Naming;
using VmPooler.Manager;
using VmPooler.Providers.Dummy;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

/// <summary>
/// One pool, a manual clock, a memory inventory and a dummy provider, with a reconciler driven pass by pass. The
/// reconciler's VM names come from a seeded generator, and a twin generator predicts them.
/// </summary>
internal sealed class ReconcilerHarness : IAsyncDisposable
{
    public const string PoolName = "pool";
    private const int Seed = 7;

    private readonly VmNameGenerator _predictor = new(new Random(Seed));
    private readonly List<PoolReconciler> _reconcilers = [];

    public ReconcilerHarness(int size = 1, DummyProviderOptions? dummy = null, GlobalOptions? config = null, Func<PoolOptions, PoolOptions>? configurePool = null)
    {
        Memory = new MemoryInventory(Time);
        Inventory = new HookedInventory(Memory);
        Dummy = new DummyProvider("dummy", dummy ?? new DummyProviderOptions(), Time, new Random(1));
        Provider = new RecordingProvider(Dummy);
        var pool = new PoolOptions { Name = PoolName, Size = size, Provider = "dummy", Template = "tpl" };
        Pool = configurePool is null ? pool : configurePool(pool);
        Options = new VmPoolerOptions
        {
            Config = config ?? new GlobalOptions(),
            Pools = [Pool],
            Providers = new Dictionary<string, ProviderOptions> { ["dummy"] = new() { Name = "dummy", ProviderClass = "dummy" } },
        };
        Reconciler = CreateReconciler(Options, new VmNameGenerator(new Random(Seed)));
    }

    public FakeTimeProvider Time { get; } = new();

    public MemoryInventory Memory { get; }

    public HookedInventory Inventory { get; }

    public DummyProvider Dummy { get; }

    public RecordingProvider Provider { get; }

    public PoolOptions Pool { get; }

    public VmPoolerOptions Options { get; }

    public ListLogger<PoolReconciler> Log { get; } = new();

    public PoolReconciler Reconciler { get; }

    /// <summary>Another reconciler (a restarted or second manager) over the same inventory and provider.</summary>
    public PoolReconciler CreateReconciler(VmPoolerOptions options, VmNameGenerator? names = null)
    {
        var reconciler = new PoolReconciler(options, Inventory, [Provider], Time, Log, names);
        _reconcilers.Add(reconciler);
        return reconciler;
    }

    /// <summary>The next name the harness's reconciler will try, in order.</summary>
    public string PredictName() => _predictor.Next(Options.Config.Prefix);

    /// <summary>One pass, then waits for the clones and destroys it started (use only when no provider delay is pending).</summary>
    public async Task<PassResult> PassAsync(PoolReconciler? reconciler = null, PoolOptions? pool = null)
    {
        reconciler ??= Reconciler;
        var result = await reconciler.ReconcileAsync(pool ?? Pool, CancellationToken.None).DefaultTimeout();
        await reconciler.WhenIdleAsync().DefaultTimeout();
        return result;
    }

    /// <summary>One pass, leaving background clones and destroys running.</summary>
    public Task<PassResult> StartPassAsync() => Reconciler.ReconcileAsync(Pool, CancellationToken.None).DefaultTimeout();

    public Task IdleAsync() => Reconciler.WhenIdleAsync().DefaultTimeout();

    public async Task<PoolCounts> CountsAsync() => (await Memory.GetCountsAsync([PoolName], CancellationToken.None))[PoolName];

    public Task<PoolSnapshot> SnapshotAsync() => Memory.GetPoolAsync(PoolName, CancellationToken.None);

    public Task<VmRecord?> VmAsync(string name) => Memory.GetVmAsync(name, CancellationToken.None);

    public bool ProviderHas(string name) => Dummy.Vms.Any(v => v.Name == name);

    public Task CreateInProviderAsync(string name) => Dummy.CreateVmAsync(Pool, name, CancellationToken.None).DefaultTimeout();

    /// <summary>A ready VM that became ready (and was checked) now.</summary>
    public async Task SeedReadyAsync(string name, bool inProvider = true)
    {
        if (inProvider)
        {
            await CreateInProviderAsync(name);
        }

        var now = VmTime.Format(Time.GetUtcNow());
        (await Memory.AddPendingAsync(
            PoolName,
            name,
            new Dictionary<string, string>
            {
                [VmFields.Clone] = now,
                [VmFields.CloneTime] = "1",
                [VmFields.Pool] = PoolName,
                [VmFields.Template] = PoolName,
            },
            CancellationToken.None)).ShouldBeTrue();
        (await Memory.MoveAsync(
            PoolName,
            name,
            VmState.Pending,
            VmState.Ready,
            new Dictionary<string, string> { [VmFields.Ready] = now, [VmFields.Check] = now })).ShouldBeTrue();
    }

    /// <summary>A VM checked out now.</summary>
    public async Task SeedRunningAsync(string name, bool inProvider = true)
    {
        await SeedReadyAsync(name, inProvider);
        (await Memory.MoveAsync(
            PoolName,
            name,
            VmState.Ready,
            VmState.Running,
            new Dictionary<string, string> { [VmFields.Checkout] = VmTime.Format(Time.GetUtcNow()) })).ShouldBeTrue();
    }

    /// <summary>A VM returned now.</summary>
    public async Task SeedCompletedAsync(string name, bool inProvider = true)
    {
        await SeedRunningAsync(name, inProvider);
        (await Memory.ReturnAsync(name, CancellationToken.None)).Status.ShouldBe(ReturnStatus.Returned);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var reconciler in _reconcilers)
        {
            await reconciler.DisposeAsync().AsTask().DefaultTimeout();
        }
    }
}
