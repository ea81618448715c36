using BenchmarkDotNet.Attributes;
using VmPooler.Bench.Shared;
using VmPooler.Core.Configuration;
using VmPooler.Providers;

namespace VmPooler.Benchmarks;

/// <summary>Loading and validating a generated configuration of 200 pools from a file, as the executable does at start-up.</summary>
[MemoryDiagnoser]
public class ConfigLoadBenchmarks
{
    private readonly Dictionary<string, string?> _environment = [];
    private readonly ProviderFactory _providers = new(TimeProvider.System);
    private string _directory = "";
    private string _path = "";

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("vmpooler-bench-config-").FullName;
        _path = Path.Combine(_directory, "vmpooler.yaml");
        File.WriteAllText(_path, BenchConfig.Yaml(pools: 200, size: 50));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark]
    public VmPoolerOptions Load200Pools()
    {
        var options = ConfigLoader.Load(_path, _environment, _directory, _path, _providers);
        return options.Pools.Count == 200 ? options : throw new InvalidOperationException("expected 200 pools");
    }
}
