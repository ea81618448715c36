using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Core.Inventory;

/// <summary>The in-memory task queue keeps the Redis queue's rules: a queue per pool, taken only for owned pools, in order.</summary>
public class MemoryVmTaskQueueTests
{
    private static CancellationToken None => CancellationToken.None;

    [Fact]
    public async Task Dequeue_TakesOnlyOwnedPoolsInOrderAndAtMostMax()
    {
        var queue = new MemoryVmTaskQueue();
        VmTask[] debian = [.. Enumerable.Range(0, 5).Select(i => new VmTask(VmTaskKind.Disk, "debian", "vm-d", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))];
        var centos = new VmTask(VmTaskKind.Snapshot, "centos", "vm-c", "s");
        await queue.EnqueueAsync(debian[0], None);
        await queue.EnqueueAsync(centos, None);
        foreach (var task in debian[1..])
        {
            await queue.EnqueueAsync(task, None);
        }

        (await queue.LengthAsync(None)).ShouldBe(6);
        (await queue.DequeueAsync(p => p == "debian", 3, None)).ShouldBe(debian[..3]);
        (await queue.DequeueAsync(p => p == "debian", 3, None)).ShouldBe(debian[3..]);
        (await queue.DequeueAsync(p => p == "debian", 3, None)).ShouldBeEmpty();
        (await queue.LengthAsync(None)).ShouldBe(1, "centos's task waits for its owner");
        (await queue.DequeueAsync(p => p == "centos", 3, None)).ShouldBe([centos]);
    }

    [Fact]
    public void Enqueue_WithoutAPool_IsRefused()
    {
        var queue = new MemoryVmTaskQueue();

        Should.Throw<ArgumentException>(() => queue.EnqueueAsync(new VmTask(VmTaskKind.Disk, "", "vm", "1"), None));
    }

    [Theory]
    [InlineData("snapshot|vm-a|name|with|bars", VmTaskKind.Snapshot, "vm-a", "name|with|bars")]
    [InlineData("DISK|vm-b|12", VmTaskKind.Disk, "vm-b", "12")]
    public void Parse_ReadsSerializedForm_WithThePoolOfItsQueue(string text, VmTaskKind kind, string vm, string argument)
    {
        var task = VmTask.Parse(text, "debian");

        task.ShouldBe(new VmTask(kind, "debian", vm, argument));
        VmTask.Parse(task!.Serialize(), "debian").ShouldBe(task, "the serialized form reads back");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("garbage")]
    [InlineData("resize|vm|1")]
    [InlineData("disk||1")]
    public void Parse_NotATask_IsNull(string? text) => VmTask.Parse(text, "debian").ShouldBeNull();
}
