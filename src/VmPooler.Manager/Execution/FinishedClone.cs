namespace VmPooler.Manager.Execution;

/// <summary>A clone the provider finished: the fields to record on the VM (address, clone time …) and how long it took.</summary>
internal sealed record FinishedClone(Dictionary<string, string> Fields, double Seconds);
