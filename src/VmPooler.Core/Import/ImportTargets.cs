using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Tokens;

namespace VmPooler.Core.Import;

/// <summary>Our stores an import writes through (the same ones the API and the manager use).</summary>
public sealed record ImportTargets(IInventory Inventory, ITokenStore Tokens, IPoolOverrideStore Overrides, IOnDemandStore OnDemand);
