namespace VmPooler.Core.Configuration;

/// <summary>The unit a duration key of the vmpooler format is written in (spec §5.2: <c>timeout</c> in minutes, …).</summary>
public enum DurationUnit
{
    Seconds,
    Minutes,
    Hours,
}
