using VmPooler.Core.Tokens;
using VmPooler.Tests.Shared.Tokens;

namespace VmPooler.Tests.Core.Tokens;

/// <summary>The token store contract against <see cref="MemoryTokenStore"/>.</summary>
public class MemoryTokenStoreContractTests : TokenStoreContractTests
{
    protected override Task<ITokenStore> CreateStoreAsync() => Task.FromResult<ITokenStore>(new MemoryTokenStore());
}
