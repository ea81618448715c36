using VmPooler.Core.Inventory;

namespace VmPooler.Core.Import;

/// <summary>
/// A VM of the Ruby vmpooler: its pool and state (from the state set it is in) and its metadata with times in our form
/// (<see cref="VmTime.Format"/>). The owner's token is kept apart (<see cref="OwnerToken"/>, as the Ruby hash holds it in
/// clear) so that only its hash is ever written.
/// </summary>
public sealed record RubyVm(string Name, string Pool, VmState State, IReadOnlyDictionary<string, string> Fields, string? OwnerToken);
