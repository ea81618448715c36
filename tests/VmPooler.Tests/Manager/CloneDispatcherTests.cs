using VmPooler.Core.Configuration;
using VmPooler.Manager.Execution;

namespace VmPooler.Tests.Manager;

public class CloneDispatcherTests
{
    private static PoolOptions P(string name) => new() { Name = name, Size = 10 };

    [Fact]
    public void Want_MoreThanSlots_StartsOnlySlots()
    {
        var dispatcher = new CloneDispatcher(2, _ => false);

        var batches = dispatcher.Want(P("a"), 5, dispatcher.Mark("a"));

        batches.ShouldHaveSingleItem().Count.ShouldBe(2);
        dispatcher.InUse.ShouldBe(2);
    }

    [Fact]
    public void Release_TwoPoolsWaiting_SlotsAlternate()
    {
        var dispatcher = new CloneDispatcher(1, _ => false);
        dispatcher.Want(P("big"), 10, 0).ShouldHaveSingleItem().Pool.Name.ShouldBe("big");
        dispatcher.Want(P("small"), 1, 0).ShouldBeEmpty();
        dispatcher.Reserved("big", registered: true);

        // Slots go round in turn: the pool that was already in line gets the next one, then the one that joined, and
        // the filling pool never takes two turns while another waits.
        var order = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var pool = dispatcher.Release().ShouldHaveSingleItem().Pool.Name;
            dispatcher.Reserved(pool, registered: true);
            order.Add(pool);
        }

        order.ShouldBe(["big", "small", "big", "big"]);
    }

    [Fact]
    public void Want_ClonesNotYetRegistered_NotAskedForTwice()
    {
        var dispatcher = new CloneDispatcher(10, _ => false);
        dispatcher.Want(P("a"), 3, dispatcher.Mark("a")).Single().Count.ShouldBe(3);

        // Counts read now do not show the three clones yet (their names are not registered): nothing more starts.
        dispatcher.Want(P("a"), 3, dispatcher.Mark("a")).ShouldBeEmpty();
    }

    [Fact]
    public void Want_RegisteredAfterTheCountsWereRead_NotAskedForTwice()
    {
        var dispatcher = new CloneDispatcher(10, _ => false);
        var mark = dispatcher.Mark("a");
        dispatcher.Want(P("a"), 2, mark).Single().Count.ShouldBe(2);
        var countsReadAt = dispatcher.Mark("a");
        dispatcher.Reserved("a", registered: true);
        dispatcher.Reserved("a", registered: true);

        // The counts were read before the two registrations: they still lack 2, but those are the two started.
        dispatcher.Want(P("a"), 2, countsReadAt).ShouldBeEmpty();
    }

    [Fact]
    public void Want_PoolBackingOff_StartsNothing()
    {
        var dispatcher = new CloneDispatcher(3, pool => pool == "a");

        dispatcher.Want(P("a"), 3, 0).ShouldBeEmpty();
        dispatcher.InUse.ShouldBe(0);
    }
}
