namespace VmPooler;

/// <summary>What one <c>vmpooler</c> process runs (spec §1): the API, the pool manager, or both (the default).</summary>
public enum VmPoolerRole
{
    All,
    Api,
    Manager,
}
