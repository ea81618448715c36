using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using VmPooler.Manager;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Manager;

public class PoolWorkQueueTests
{
    private readonly FakeTimeProvider _time = new();

    /// <summary>Asserts that nothing can be dequeued right now (a read is left pending, then cancelled).</summary>
    private static async Task AssertEmptyAsync(PoolWorkQueue queue)
    {
        using var cts = new CancellationTokenSource();
        var read = queue.DequeueAsync(cts.Token).AsTask();
        await Task.Yield();
        read.IsCompleted.ShouldBeFalse(read.IsCompletedSuccessfully ? $"the queue handed out '{read.Result}'" : "the read ended");
        await cts.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(read.DefaultTimeout());
    }

    private static Task<string> DequeueAsync(PoolWorkQueue queue) => queue.DequeueAsync(CancellationToken.None).AsTask().DefaultTimeout();

    [Fact]
    public async Task Enqueue_SamePoolTwiceWhileQueued_HandedOutOnce()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.Enqueue("a");
        queue.Enqueue("a");

        (await DequeueAsync(queue)).ShouldBe("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_WithinMinSpacingOfTheLastStart_CoalescedIntoOnePassAtTheEndOfTheInterval()
    {
        using var queue = new PoolWorkQueue(_time) { MinSpacing = TimeSpan.FromMilliseconds(20) };
        queue.Enqueue("a");
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");

        _time.Advance(TimeSpan.FromMilliseconds(5));
        queue.Enqueue("a");
        queue.Enqueue("a");
        queue.Enqueue("b");

        (await DequeueAsync(queue)).ShouldBe("b", "another pool is not held back");
        queue.Done("b");
        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromMilliseconds(14));
        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        (await DequeueAsync(queue)).ShouldBe("a", "20 ms after the last start");
        queue.Done("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_AfterMinSpacing_HandedOutAtOnce_AndDuePassesAreNotHeldBack()
    {
        using var queue = new PoolWorkQueue(_time) { MinSpacing = TimeSpan.FromMilliseconds(20) };
        queue.Enqueue("a");
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");

        queue.EnqueueAfter("a", TimeSpan.FromMilliseconds(1));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        (await DequeueAsync(queue)).ShouldBe("a", "a due pass is not spaced");
        queue.Done("a");

        _time.Advance(TimeSpan.FromMilliseconds(20));
        queue.Enqueue("a");
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");
    }

    [Fact]
    public async Task Done_DirtyWithinMinSpacing_RunsAgainAtTheEndOfTheInterval()
    {
        using var queue = new PoolWorkQueue(_time) { MinSpacing = TimeSpan.FromMilliseconds(20) };
        queue.Enqueue("a");
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Enqueue("a"); // an event during the pass

        _time.Advance(TimeSpan.FromMilliseconds(3));
        queue.Done("a");
        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromMilliseconds(17));
        (await DequeueAsync(queue)).ShouldBe("a");
    }

    [Fact]
    public async Task Enqueue_DifferentPools_FifoOrder()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.Enqueue("a");
        queue.Enqueue("b");
        queue.Enqueue("a");

        (await DequeueAsync(queue)).ShouldBe("a");
        (await DequeueAsync(queue)).ShouldBe("b");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_BehindDuePasses_HandedOutFirst()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("due1", TimeSpan.FromSeconds(1));
        queue.EnqueueAfter("due2", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        queue.Enqueue("event");

        (await DequeueAsync(queue)).ShouldBe("event");
        (await DequeueAsync(queue)).ShouldBe("due1");
        (await DequeueAsync(queue)).ShouldBe("due2");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_SteadyStreamOfEvents_DuePassStillHandedOut()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("due", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 6; i++)
        {
            queue.Enqueue($"event{i}");
        }

        var order = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            order.Add(await DequeueAsync(queue));
        }

        order.ShouldBe(["event0", "event1", "event2", "event3", "due", "event4", "event5"]);
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_PoolAlreadyDue_PromotedAndHandedOutOnce()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(1));
        queue.EnqueueAfter("b", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        queue.Enqueue("b");

        (await DequeueAsync(queue)).ShouldBe("b");
        (await DequeueAsync(queue)).ShouldBe("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_PromotedPoolQueuedAgainAfterDone_HandedOutOnceMore()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(1));
        queue.Enqueue("a");
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");

        queue.Enqueue("a");

        (await DequeueAsync(queue)).ShouldBe("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_WhileProcessing_ExactlyOneMorePassAfterDone()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.Enqueue("a");
        var pool = await DequeueAsync(queue);

        queue.Enqueue("a");
        queue.Enqueue("a");
        queue.Enqueue("a");

        await AssertEmptyAsync(queue);
        queue.Done(pool);
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Done_NoEventsDuringPass_NothingRequeued()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.Enqueue("a");
        await DequeueAsync(queue);

        queue.Done("a");

        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Enqueue_OtherPoolWhileOneProcessing_HandedOutAtOnce()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.Enqueue("a");
        await DequeueAsync(queue);

        queue.Enqueue("b");

        (await DequeueAsync(queue)).ShouldBe("b");
    }

    [Fact]
    public async Task EnqueueAfter_ClockAdvances_FiresAtDueTime()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.EnqueueAfter("a", TimeSpan.FromSeconds(10));

        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromSeconds(9));
        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromSeconds(1));
        (await DequeueAsync(queue)).ShouldBe("a");
    }

    [Fact]
    public async Task EnqueueAfter_EarlierScheduleLater_EarlierWins()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.EnqueueAfter("a", TimeSpan.FromSeconds(10));
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));

        _time.Advance(TimeSpan.FromSeconds(5));
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");
        _time.Advance(TimeSpan.FromSeconds(10));
        await AssertEmptyAsync(queue);
        _time.PendingTimers.ShouldBe(0);
    }

    [Fact]
    public async Task EnqueueAfter_LaterScheduleLater_EarlierKept()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(5));
        (await DequeueAsync(queue)).ShouldBe("a");
        queue.Done("a");
        _time.Advance(TimeSpan.FromSeconds(10));
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task EnqueueAfter_AfterFiring_CanBeScheduledAgain()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(5));
        await DequeueAsync(queue);
        queue.Done("a");

        queue.EnqueueAfter("a", TimeSpan.FromSeconds(20));

        _time.Advance(TimeSpan.FromSeconds(19));
        await AssertEmptyAsync(queue);
        _time.Advance(TimeSpan.FromSeconds(1));
        (await DequeueAsync(queue)).ShouldBe("a");
    }

    [Fact]
    public async Task EnqueueAfter_ZeroDelay_QueuedAtOnce()
    {
        using var queue = new PoolWorkQueue(_time);

        queue.EnqueueAfter("a", TimeSpan.Zero);

        (await DequeueAsync(queue)).ShouldBe("a");
    }

    [Fact]
    public async Task EnqueueAfter_FiresWhileProcessing_OneMorePassAfterDone()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.Enqueue("a");
        await DequeueAsync(queue);
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));

        _time.Advance(TimeSpan.FromSeconds(5));

        await AssertEmptyAsync(queue);
        queue.Done("a");
        (await DequeueAsync(queue)).ShouldBe("a");
    }

    [Fact]
    public async Task EnqueueAfter_PoolAlreadyQueued_HandedOutOnceNow()
    {
        using var queue = new PoolWorkQueue(_time);
        queue.Enqueue("a");
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));

        (await DequeueAsync(queue)).ShouldBe("a");
        await AssertEmptyAsync(queue);
    }

    [Fact]
    public async Task Dispose_WaitingReader_Released()
    {
        var queue = new PoolWorkQueue(_time);
        var read = queue.DequeueAsync(CancellationToken.None).AsTask();

        queue.Dispose();

        await Should.ThrowAsync<ChannelClosedException>(read.DefaultTimeout());
    }

    [Fact]
    public async Task Dispose_PendingTimers_CancelledAndLaterEnqueuesIgnored()
    {
        var queue = new PoolWorkQueue(_time);
        queue.EnqueueAfter("a", TimeSpan.FromSeconds(5));

        queue.Dispose();
        queue.Enqueue("b");
        queue.EnqueueAfter("c", TimeSpan.FromSeconds(1));

        _time.PendingTimers.ShouldBe(0);
        _time.Advance(TimeSpan.FromSeconds(10));
        await Should.ThrowAsync<ChannelClosedException>(queue.DequeueAsync(CancellationToken.None).AsTask().DefaultTimeout());
    }
}
