namespace VmPooler.ChaosTests.Fixtures;

/// <summary>The chaos scenarios each start several real processes and load both cores: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos scenarios (real processes on one Redis)";
}
