using Microsoft.Extensions.Time.Testing;
using VmPooler.Core.Configuration;
using VmPooler.Core.Import;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Tokens;
using VmPooler.Tests.Shared;

namespace VmPooler.Tests.Core.Import;

/// <summary><see cref="RubyImporter"/> against the in-memory stores: the rules of writing, apart from any Redis.</summary>
public class RubyImporterTests
{
    private const string Token = "abcdefghijklmnopqrstuvwxyz012345";
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly MemoryInventory _inventory;
    private readonly MemoryTokenStore _tokens = new();
    private readonly MemoryPoolOverrideStore _overrides = new();
    private readonly MemoryOnDemandStore _onDemand;
    private readonly RubyImporter _importer;

    public RubyImporterTests()
    {
        _inventory = new MemoryInventory(_time);
        _onDemand = new MemoryOnDemandStore(_time);
        var options = new VmPoolerOptions { Pools = [new PoolOptions { Name = "debian", Size = 1 }] };
        _importer = new RubyImporter(options, new ImportTargets(_inventory, _tokens, _overrides, _onDemand));
    }

    private static RubyData Data() => new()
    {
        Tokens = [new RubyToken(Token, "alice", Now.AddDays(-2), Now.AddDays(-1))],
        Vms =
        [
            new RubyVm("vm1", "debian", VmState.Running, new Dictionary<string, string> { [VmFields.Checkout] = VmTime.Format(Now.AddHours(-1)) }, Token),
            new RubyVm("vm2", "gone", VmState.Ready, new Dictionary<string, string>(), null),
        ],
        Overrides = [new RubyOverride(PoolOverrideKind.Size, "debian", "3")],
        Durations = [new RubyDurations(DurationKind.Boot, new DateOnly(2026, 12, 5), new Dictionary<string, double> { ["debian:vmA"] = 60 })],
        LastBoot = new Dictionary<string, DateTimeOffset> { ["debian"] = new(2026, 12, 5, 11, 0, 0, TimeSpan.Zero) },
        OnDemand = [new RubyOnDemandRequest("req-1", [new OnDemandEntry("debian", "debian", 2)], Now.AddMinutes(-5), Token, "alice", new Dictionary<string, IReadOnlyList<string>> { ["debian:debian"] = ["vm1"] })],
    };

    [Fact]
    public async Task Import_Memory_EveryStoreHoldsTheFacts()
    {
        var report = await _importer.ImportAsync(Data(), dryRun: false, merge: false, CancellationToken.None);

        report.Refused.ShouldBeFalse();
        var token = (await _tokens.GetAsync(TokenHashing.Hash(Token), CancellationToken.None)).ShouldNotBeNull();
        (token.User, token.Created, token.Last).ShouldBe(("alice", Now.AddDays(-2), (DateTimeOffset?)Now.AddDays(-1)));
        (await _tokens.GetVmsAsync(token.Hash, CancellationToken.None)).ShouldBe(["vm1"]);
        var vm = (await _inventory.GetVmAsync("vm1", CancellationToken.None)).ShouldNotBeNull();
        vm.State.ShouldBe(VmState.Running);
        vm.Get(VmFields.Token).ShouldBe(token.Hash);
        report.Skips.ShouldHaveSingleItem().ToString().ShouldBe("vm vm2: pool 'gone' is not in the configuration");
        (await _overrides.GetAsync(CancellationToken.None)).Size("debian").ShouldBe(3);
        (await _inventory.GetLastBootAsync(CancellationToken.None))["debian"].ShouldBe(new DateTimeOffset(2026, 12, 5, 11, 0, 0, TimeSpan.Zero));
        var request = (await _onDemand.GetAsync("req-1", CancellationToken.None)).ShouldNotBeNull();
        (request.Status, request.Created, request.TokenHash, request.DeliveredCount(request.Entries[0])).ShouldBe((OnDemandStatus.Pending, Now.AddMinutes(-5), token.Hash, 1));
    }

    [Fact]
    public async Task DryRun_Memory_NothingWrittenSameCounts()
    {
        var dry = await _importer.ImportAsync(Data(), dryRun: true, merge: false, CancellationToken.None);

        (await _inventory.GetVmAsync("vm1", CancellationToken.None)).ShouldBeNull();
        (await _tokens.ListAsync("alice", CancellationToken.None)).ShouldBeEmpty();
        (await _onDemand.PendingAsync(CancellationToken.None)).ShouldBeEmpty();
        var real = await _importer.ImportAsync(Data(), dryRun: false, merge: false, CancellationToken.None);
        foreach (var kind in ImportKinds.All)
        {
            real.Imported(kind).ShouldBe(dry.Imported(kind), kind);
        }
    }

    [Fact]
    public async Task SecondImport_RefusedWithoutMerge_AllPresentWithIt()
    {
        await _importer.ImportAsync(Data(), dryRun: false, merge: false, CancellationToken.None);

        var refused = await _importer.ImportAsync(Data(), dryRun: false, merge: false, CancellationToken.None);
        refused.Refused.ShouldBeTrue();
        refused.ExistingData.ShouldContain("VMs in pool(s) debian");
        var merged = await _importer.ImportAsync(Data(), dryRun: false, merge: true, CancellationToken.None);
        merged.TotalImported.ShouldBe(0);
        merged.AlreadyPresent(ImportKinds.Vm).ShouldBe(1);
        merged.AlreadyPresent(ImportKinds.Token).ShouldBe(1);
        merged.AlreadyPresent(ImportKinds.LastBoot).ShouldBe(1);
    }

    [Fact]
    public async Task Merge_ConflictingRecords_SkippedOursKept()
    {
        await _tokens.CreateAsync(new TokenRecord(TokenHashing.Hash(Token), "mallory", "abcd...2345", Now), CancellationToken.None);
        await _overrides.SetAsync(PoolOverrideKind.Size, "debian", "7", CancellationToken.None);
        await _inventory.ImportVmAsync("debian", "vm1", VmState.Ready, new Dictionary<string, string>(), CancellationToken.None);

        var report = await _importer.ImportAsync(Data(), dryRun: false, merge: true, CancellationToken.None);

        report.Skips.Select(s => s.ToString()).ShouldContain(s => s.StartsWith("token abcd...2345: this token already belongs to user mallory", StringComparison.Ordinal));
        report.Skips.Select(s => s.ToString()).ShouldContain("pool override size of debian: ours is already set to '7' (Ruby: '3')");
        report.Skips.Select(s => s.ToString()).ShouldContain("vm vm1: a VM of this name is already tracked here (pool debian, ready)");
        (await _tokens.GetAsync(TokenHashing.Hash(Token), CancellationToken.None))!.User.ShouldBe("mallory");
        (await _inventory.GetVmAsync("vm1", CancellationToken.None))!.State.ShouldBe(VmState.Ready);
    }
}
