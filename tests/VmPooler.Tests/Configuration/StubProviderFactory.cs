using VmPooler.Core.Configuration;
using VmPooler.Core.Providers;

namespace VmPooler.Tests.Configuration;

/// <summary>A provider factory that only knows class names and records what it was asked to validate.</summary>
internal sealed class StubProviderFactory : IVmProviderFactory
{
    private readonly Func<ProviderOptions, IReadOnlyList<(int Index, PoolOptions Pool)>, IReadOnlyList<string>> _validate;

    public StubProviderFactory(
        IReadOnlyCollection<string> knownClasses,
        Func<ProviderOptions, IReadOnlyList<(int Index, PoolOptions Pool)>, IReadOnlyList<string>>? validate = null)
    {
        KnownClasses = knownClasses;
        _validate = validate ?? ((_, _) => []);
    }

    public IReadOnlyCollection<string> KnownClasses { get; }

    public List<(ProviderOptions Provider, IReadOnlyList<(int Index, PoolOptions Pool)> Pools)> Validated { get; } = [];

    public IReadOnlyList<string> Validate(
        ProviderOptions provider,
        IReadOnlyList<(int Index, PoolOptions Pool)> pools,
        IReadOnlyDictionary<string, object?>? globalConfig = null,
        GlobalOptions? global = null)
    {
        Validated.Add((provider, pools));
        return _validate(provider, pools);
    }

    public IVmProvider Create(ProviderOptions provider, VmPoolerOptions options) => throw new NotSupportedException();
}
