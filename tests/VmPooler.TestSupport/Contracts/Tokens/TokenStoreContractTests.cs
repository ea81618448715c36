using VmPooler.Core.Tokens;

namespace VmPooler.Tests.Shared.Tokens;

/// <summary>
/// The <see cref="ITokenStore"/> contract, written once and run against every implementation: derive and implement
/// <see cref="CreateStoreAsync"/>, which must return an empty store no other test shares (e.g. a fresh key prefix).
/// Times are whole milliseconds, which every store keeps exactly.
/// </summary>
public abstract class TokenStoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private ITokenStore? _store;

    protected static CancellationToken None => CancellationToken.None;

    protected ITokenStore Store => _store ?? throw new InvalidOperationException("the store has not been created");

    /// <summary>A new, empty store.</summary>
    protected abstract Task<ITokenStore> CreateStoreAsync();

    public virtual async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A record for a fresh token of <paramref name="user"/> created at <paramref name="created"/>.</summary>
    protected static (string Token, TokenRecord Record) NewToken(string user, DateTimeOffset created)
    {
        var token = TokenHashing.NewToken();
        return (token, new TokenRecord(TokenHashing.Hash(token), user, TokenHashing.Hint(token), created));
    }

    private async Task<(string Token, TokenRecord Record)> CreatedAsync(string user = "alice", DateTimeOffset? created = null)
    {
        var token = NewToken(user, created ?? T0);
        await Store.CreateAsync(token.Record, None).DefaultTimeout();
        return token;
    }

    [Fact]
    public async Task Get_Created_ReturnsTheRecordWithoutLast()
    {
        var (_, record) = await CreatedAsync();

        var read = await Store.GetAsync(record.Hash, None).DefaultTimeout();

        read.ShouldNotBeNull();
        read.Hash.ShouldBe(record.Hash);
        read.User.ShouldBe("alice");
        read.Hint.ShouldBe(record.Hint);
        read.Created.ShouldBe(T0);
        read.Last.ShouldBeNull();
    }

    [Fact]
    public async Task Get_Unknown_ReturnsNull()
    {
        await CreatedAsync();

        (await Store.GetAsync(TokenHashing.Hash("abcdefghijklmnopqrstuvwxyz012345"), None).DefaultTimeout()).ShouldBeNull();
    }

    [Fact]
    public async Task Get_ByTheTokenInsteadOfItsHash_ReturnsNull()
    {
        var (token, _) = await CreatedAsync();

        (await Store.GetAsync(token, None).DefaultTimeout()).ShouldBeNull("the store is keyed by the hash only");
    }

    [Fact]
    public async Task Touch_Known_SetsLastAndKeepsTheRest()
    {
        var (_, record) = await CreatedAsync();
        var later = T0.AddMinutes(5).AddMilliseconds(123);

        await Store.TouchAsync(record.Hash, later, None).DefaultTimeout();
        await Store.TouchAsync(record.Hash, later.AddSeconds(1), None).DefaultTimeout();

        var read = (await Store.GetAsync(record.Hash, None).DefaultTimeout()).ShouldNotBeNull();
        read.Last.ShouldBe(later.AddSeconds(1));
        read.Created.ShouldBe(T0);
        read.User.ShouldBe("alice");
    }

    [Fact]
    public async Task Touch_Unknown_DoesNotCreateTheToken()
    {
        var hash = TokenHashing.Hash("abcdefghijklmnopqrstuvwxyz012345");

        await Store.TouchAsync(hash, T0, None).DefaultTimeout();

        (await Store.GetAsync(hash, None).DefaultTimeout()).ShouldBeNull();
    }

    [Fact]
    public async Task Touch_AfterDelete_DoesNotResurrectTheToken()
    {
        var (_, record) = await CreatedAsync();
        (await Store.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeTrue();

        await Store.TouchAsync(record.Hash, T0.AddMinutes(1), None).DefaultTimeout();

        (await Store.GetAsync(record.Hash, None).DefaultTimeout()).ShouldBeNull();
        (await Store.ListAsync("alice", None).DefaultTimeout()).ShouldBeEmpty();
    }

    [Fact]
    public async Task Delete_Known_ReturnsTrueAndTheTokenIsGoneAtOnce()
    {
        var (_, record) = await CreatedAsync();
        var (_, kept) = await CreatedAsync();

        (await Store.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeTrue();

        (await Store.GetAsync(record.Hash, None).DefaultTimeout()).ShouldBeNull();
        (await Store.ListAsync("alice", None).DefaultTimeout()).Select(t => t.Hash).ShouldBe([kept.Hash]);
        (await Store.GetAsync(kept.Hash, None).DefaultTimeout()).ShouldNotBeNull();
    }

    [Fact]
    public async Task Delete_UnknownOrTwice_ReturnsFalse()
    {
        var (_, record) = await CreatedAsync();

        (await Store.DeleteAsync(TokenHashing.Hash("abcdefghijklmnopqrstuvwxyz012345"), None).DefaultTimeout()).ShouldBeFalse();
        (await Store.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeTrue();
        (await Store.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeFalse();
    }

    [Fact]
    public async Task Delete_DropsTheVmIndex()
    {
        var (_, record) = await CreatedAsync();
        await Store.AddVmsAsync(record.Hash, ["vm1"], None).DefaultTimeout();

        (await Store.DeleteAsync(record.Hash, None).DefaultTimeout()).ShouldBeTrue();

        (await Store.GetVmsAsync(record.Hash, None).DefaultTimeout()).ShouldBeEmpty();
        await Store.CreateAsync(record, None).DefaultTimeout();
        (await Store.GetVmsAsync(record.Hash, None).DefaultTimeout()).ShouldBeEmpty("a re-created token starts with no VMs");
    }

    [Fact]
    public async Task List_ReturnsOnlyTheUsersTokensOldestFirst()
    {
        var (_, second) = await CreatedAsync("alice", T0.AddMinutes(2));
        var (_, first) = await CreatedAsync("alice", T0);
        await CreatedAsync("bob", T0.AddMinutes(1));
        var (_, third) = await CreatedAsync("alice", T0.AddMinutes(3));

        var list = await Store.ListAsync("alice", None).DefaultTimeout();

        list.Select(t => t.Hash).ShouldBe([first.Hash, second.Hash, third.Hash]);
        list.ShouldAllBe(t => t.User == "alice");
        list.Select(t => t.Hint).ShouldBe([first.Hint, second.Hint, third.Hint]);
        list.Select(t => t.Created).ShouldBe([T0, T0.AddMinutes(2), T0.AddMinutes(3)]);
    }

    [Fact]
    public async Task List_ShowsLastOfUsedTokens()
    {
        var (_, record) = await CreatedAsync();
        await Store.TouchAsync(record.Hash, T0.AddHours(1), None).DefaultTimeout();

        (await Store.ListAsync("alice", None).DefaultTimeout()).ShouldHaveSingleItem().Last.ShouldBe(T0.AddHours(1));
    }

    [Fact]
    public async Task List_UnknownUser_IsEmpty()
    {
        await CreatedAsync();

        (await Store.ListAsync("nobody", None).DefaultTimeout()).ShouldBeEmpty();
    }

    [Fact]
    public async Task List_UserNamesAreExact()
    {
        await CreatedAsync("alice");
        await CreatedAsync("Alice");
        await CreatedAsync("alice2");

        (await Store.ListAsync("alice", None).DefaultTimeout()).Count.ShouldBe(1);
        (await Store.ListAsync("*", None).DefaultTimeout()).ShouldBeEmpty();
    }

    [Fact]
    public async Task Vms_AddGetRemove()
    {
        var (_, record) = await CreatedAsync();
        var (_, other) = await CreatedAsync("bob");

        await Store.AddVmsAsync(record.Hash, ["vm-b", "vm-a"], None).DefaultTimeout();
        await Store.AddVmsAsync(record.Hash, ["vm-a", "vm-c"], None).DefaultTimeout();
        await Store.AddVmsAsync(record.Hash, [], None).DefaultTimeout();
        await Store.AddVmsAsync(other.Hash, ["vm-z"], None).DefaultTimeout();

        (await Store.GetVmsAsync(record.Hash, None).DefaultTimeout()).ShouldBe(["vm-a", "vm-b", "vm-c"]);

        await Store.RemoveVmsAsync(record.Hash, ["vm-b", "not-there"], None).DefaultTimeout();
        await Store.RemoveVmsAsync(record.Hash, [], None).DefaultTimeout();

        (await Store.GetVmsAsync(record.Hash, None).DefaultTimeout()).ShouldBe(["vm-a", "vm-c"]);
        (await Store.GetVmsAsync(other.Hash, None).DefaultTimeout()).ShouldBe(["vm-z"]);
    }

    [Fact]
    public async Task Vms_OfUnknownToken_AreNotRecorded()
    {
        var hash = TokenHashing.Hash("abcdefghijklmnopqrstuvwxyz012345");

        await Store.AddVmsAsync(hash, ["vm1"], None).DefaultTimeout();

        (await Store.GetVmsAsync(hash, None).DefaultTimeout()).ShouldBeEmpty();
        await Store.RemoveVmsAsync(hash, ["vm1"], None).DefaultTimeout();
    }

    [Fact]
    public async Task Create_ConcurrentTokens_AllKept()
    {
        var tokens = Enumerable.Range(0, 20).Select(i => NewToken(i % 2 == 0 ? "alice" : "bob", T0.AddSeconds(i))).ToList();

        await Task.WhenAll(tokens.Select(t => Store.CreateAsync(t.Record, None))).DefaultTimeout();

        (await Store.ListAsync("alice", None).DefaultTimeout()).Count.ShouldBe(10);
        (await Store.ListAsync("bob", None).DefaultTimeout()).Count.ShouldBe(10);
    }
}
