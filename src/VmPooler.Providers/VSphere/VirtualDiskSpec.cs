namespace VmPooler.Providers.VSphere;

/// <summary>A new thin-provisioned disk for <see cref="VSphereClient.AddDiskAsync"/>.</summary>
internal sealed record VirtualDiskSpec(int ControllerKey, int UnitNumber, long CapacityKb, string DatastoreName, MoRef? Datastore);
