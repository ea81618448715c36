using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using VmPooler.Core.Leases;

namespace VmPooler.Tests.Shared.Leases;

/// <summary>
/// Random interleavings of acquires, releases, expiries and races of two or three managers (each on its own store, as
/// separate processes are) over four pools, checked step by step against a model of the contract: a pool goes to a
/// manager only when it is free or already that manager's, a release frees only the releaser's pools, an expiry frees
/// all, and in a race every free pool goes to exactly one of the managers asking for it. After every step the store's
/// owners equal the model's, so no pool is ever owned by two managers at once.
/// </summary>
public abstract partial class PoolLeaseStoreContractTests
{
    /// <summary>Pools per run of the property (masks in <see cref="LeaseStep"/> are over these).</summary>
    public const int PropertyPools = 4;

    private readonly List<IPoolLeaseStore> _managerStores = [];
    private int _runs;

    public enum LeaseStepKind
    {
        Acquire,
        Release,
        Expire,
        Race,
    }

    /// <summary>One step: <see cref="Manager"/> acquires or releases the pools in <c>Masks[0]</c>; in a race, manager i acquires <c>Masks[i]</c> at the same time.</summary>
    public sealed record LeaseStep(LeaseStepKind Kind, int Manager, int[] Masks)
    {
        public override string ToString() => Kind switch
        {
            LeaseStepKind.Expire => "Expire",
            LeaseStepKind.Race => $"Race({string.Join(",", Masks)})",
            _ => $"{Kind}(m{Manager},{Masks[0]})",
        };
    }

    public sealed record LeaseScript(int Managers, LeaseStep[] Steps)
    {
        public override string ToString() => $"{Managers} managers: {string.Join(" ", Steps.Select(s => s.ToString()))}";
    }

    public static class LeaseScripts
    {
        public static Arbitrary<LeaseScript> Scripts()
            => Gen.Choose(2, 3)
                .SelectMany(managers => Gen.ListOf(Step(managers)).Select(steps => new LeaseScript(managers, [.. steps])))
                .ToArbitrary();

        private static Gen<LeaseStep> Step(int managers)
        {
            var manager = Gen.Choose(0, managers - 1);
            var mask = Gen.Choose(1, (1 << PropertyPools) - 1);
            return Gen.Frequency(
                (5, manager.SelectMany(m => mask.Select(k => new LeaseStep(LeaseStepKind.Acquire, m, [k])))),
                (3, manager.SelectMany(m => mask.Select(k => new LeaseStep(LeaseStepKind.Release, m, [k])))),
                (1, Gen.Constant(new LeaseStep(LeaseStepKind.Expire, 0, []))),
                (2, Gen.ArrayOf(Gen.Choose(0, (1 << PropertyPools) - 1), managers).Select(masks => new LeaseStep(LeaseStepKind.Race, 0, masks))));
        }
    }

    [Property(Arbitrary = new[] { typeof(LeaseScripts) }, MaxTest = 60, EndSize = 40)]
    public async Task AcquireReleaseExpire_RandomInterleavings_NeverTwoOwners(LeaseScript script)
    {
        // Fresh pool names per run: the runs share this test's store.
        var run = Interlocked.Increment(ref _runs);
        var pools = Enumerable.Range(0, PropertyPools).Select(i => $"prop{run}-{i}").ToArray();
        var stores = await ManagerStoresAsync(script.Managers);
        var model = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var step in script.Steps)
        {
            await ApplyAsync(step, pools, stores, model);
            (await OwnersAsync(stores[0], pools)).ShouldBe(model, ignoreOrder: true, customMessage: $"after {step}");
        }
    }

    private async Task<IPoolLeaseStore[]> ManagerStoresAsync(int count)
    {
        while (_managerStores.Count < count)
        {
            _managerStores.Add(await ConnectAsync());
        }

        return [.. _managerStores.Take(count)];
    }

    private async Task ApplyAsync(LeaseStep step, string[] pools, IPoolLeaseStore[] stores, Dictionary<string, string> model)
    {
        var id = $"m{step.Manager}";
        switch (step.Kind)
        {
            case LeaseStepKind.Acquire:
                var wanted = Select(pools, step.Masks[0]);
                var held = await AcquireAsync(stores[step.Manager], id, wanted);
                held.ShouldBe(wanted.Where(p => !model.TryGetValue(p, out var owner) || owner == id), ignoreOrder: true, customMessage: $"{step}");
                foreach (var pool in held)
                {
                    model[pool] = id;
                }

                break;
            case LeaseStepKind.Release:
                await ReleaseAsync(stores[step.Manager], id, Select(pools, step.Masks[0]));
                foreach (var pool in Select(pools, step.Masks[0]).Where(p => model.GetValueOrDefault(p) == id))
                {
                    model.Remove(pool);
                }

                break;
            case LeaseStepKind.Expire:
                await ExpireAsync(pools, []);
                model.Clear();
                break;
            default:
                await RaceAsync(step, pools, stores, model);
                break;
        }
    }

    private async Task RaceAsync(LeaseStep step, string[] pools, IPoolLeaseStore[] stores, Dictionary<string, string> model)
    {
        var results = await Task.WhenAll(step.Masks.Select((mask, m) => AcquireAsync(stores[m], $"m{m}", Select(pools, mask))));
        foreach (var pool in pools)
        {
            var asking = step.Masks.Select((mask, m) => (m, mask)).Where(x => Select(pools, x.mask).Contains(pool)).Select(x => $"m{x.m}").ToList();
            var winners = results.Select((held, m) => (m, held)).Where(x => x.held.Contains(pool)).Select(x => $"m{x.m}").ToList();
            if (model.TryGetValue(pool, out var owner))
            {
                winners.ShouldBe(asking.Contains(owner) ? [owner] : [], $"{step}: {pool} belongs to {owner}");
            }
            else
            {
                winners.Count.ShouldBe(asking.Count > 0 ? 1 : 0, $"{step}: free {pool} asked by {string.Join(",", asking)}");
            }

            if (winners.Count == 1)
            {
                model[pool] = winners[0];
            }
        }
    }

    private static string[] Select(string[] pools, int mask) => [.. pools.Where((_, i) => (mask & (1 << i)) != 0)];
}
