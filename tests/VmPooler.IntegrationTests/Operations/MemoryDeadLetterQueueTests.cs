using VmPooler.Core.Configuration;
using VmPooler.Core.Operations;

namespace VmPooler.IntegrationTests.Operations;

public class MemoryDeadLetterQueueTests : DeadLetterQueueContractTests
{
    protected override Task<IDeadLetterQueue> CreateAsync(OperationsOptions options)
        => Task.FromResult<IDeadLetterQueue>(new MemoryDeadLetterQueue(options, Clock));
}
