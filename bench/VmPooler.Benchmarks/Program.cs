using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Jobs;

// dotnet run -c Release --project bench/VmPooler.Benchmarks -- --filter '*'            (full runs)
// dotnet run -c Release --project bench/VmPooler.Benchmarks -- --filter '*' --job short (a quick look)
// In-process: the benchmarks start their own redis-server, and the repository's build settings need no generated project.
var config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).AsDefault())
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(VmPooler.Benchmarks.InventoryBenchmarks).Assembly).Run(args, config);
