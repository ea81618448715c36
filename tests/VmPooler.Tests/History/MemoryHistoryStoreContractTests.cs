using VmPooler.Core.History;
using VmPooler.Tests.Shared.History;

namespace VmPooler.Tests.History;

public class MemoryHistoryStoreContractTests : HistoryStoreContractTests
{
    protected override Task<IHistoryStore> CreateStoreAsync() => Task.FromResult<IHistoryStore>(new MemoryHistoryStore());
}
