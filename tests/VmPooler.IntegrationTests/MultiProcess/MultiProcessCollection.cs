namespace VmPooler.IntegrationTests.MultiProcess;

/// <summary>
/// The multi-process tests start several real <c>vmpooler</c> processes each and load both cores: they run one at a
/// time, and not alongside the other test classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiProcessCollection
{
    public const string Name = "Multi-process vmpooler on one Redis";
}
