using System.Globalization;
using VmPooler.Core.Configuration;
using VmPooler.Core.Inventory;
using VmPooler.Core.OnDemand;
using VmPooler.Core.Tokens;

namespace VmPooler.Core.Import;

/// <summary>
/// Writes what <see cref="RubyData"/> holds into our stores, through the same interfaces the API and the manager use, so
/// an import behaves the same on every inventory. It never overwrites: a record already present is counted, one that
/// conflicts with ours or does not fit our configuration is skipped with its reason. It refuses to write into a target
/// that already holds data unless told to merge; a dry run reads only.
/// </summary>
public sealed class RubyImporter(VmPoolerOptions options, ImportTargets targets)
{
    public async Task<ImportReport> ImportAsync(RubyData data, bool dryRun, bool merge, CancellationToken cancellationToken)
    {
        var report = new ImportReport(dryRun) { Ignored = data.Ignored };
        report.AddSkips(data.Skips);
        if (!merge && await ExistingDataAsync(data, cancellationToken) is { Count: > 0 } existing)
        {
            report.Refuse(existing);
            return report;
        }

        var write = !dryRun;
        await ImportTokensAsync(data, report, write, cancellationToken);
        await ImportVmsAsync(data, report, write, cancellationToken);
        await ImportOverridesAsync(data, report, write, cancellationToken);
        await ImportOnDemandAsync(data, report, write, cancellationToken);
        await ImportDurationsAsync(data, report, write, cancellationToken);
        await ImportTagsAsync(data, report, write, cancellationToken);
        await ImportLastBootAsync(data, report, write, cancellationToken);
        return report;
    }

    /// <summary>What the target already holds of the kinds an import writes (empty: safe to import without merging).</summary>
    public async Task<IReadOnlyList<string>> ExistingDataAsync(RubyData data, CancellationToken cancellationToken)
    {
        var found = new List<string>();
        var pools = options.Pools.Select(p => p.Name).ToList();
        var counts = await targets.Inventory.GetCountsAsync(pools, cancellationToken);
        if (counts.Where(c => c.Value.Pending + c.Value.Ready + c.Value.Running + c.Value.Completed > 0).Select(c => c.Key).ToList() is { Count: > 0 } withVms)
        {
            found.Add($"VMs in pool(s) {string.Join(", ", withVms)}");
        }

        var overrides = await targets.Overrides.GetAsync(cancellationToken);
        if (overrides.Values.Any(kv => kv.Value.Count > 0))
        {
            found.Add("run-time pool overrides");
        }

        if ((await targets.OnDemand.PendingAsync(cancellationToken)).Count is > 0 and var pending)
        {
            found.Add($"{pending} on-demand request(s) in progress");
        }

        var users = new List<string>();
        foreach (var user in data.Tokens.Select(t => t.User).Distinct(StringComparer.Ordinal))
        {
            if ((await targets.Tokens.ListAsync(user, cancellationToken)).Count > 0)
            {
                users.Add(user);
            }
        }

        if (users.Count > 0)
        {
            found.Add($"tokens of user(s) {string.Join(", ", users)}");
        }

        foreach (var day in data.Durations)
        {
            if ((await targets.Inventory.GetDurationsAsync(day.Kind, day.Day, cancellationToken)).Count > 0)
            {
                found.Add($"{KindName(day.Kind)} history on {day.Day:yyyy-MM-dd}");
            }
        }

        return found;
    }

    private async Task ImportTokensAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        foreach (var token in data.Tokens)
        {
            var hint = TokenHashing.Hint(token.Token);
            if (!TokenHashing.LooksLikeToken(token.Token))
            {
                report.Skip(ImportKinds.Token, hint, $"not 32 characters of [a-z0-9], so our API would never accept it (user {token.User})");
                continue;
            }

            var hash = TokenHashing.Hash(token.Token);
            if (await targets.Tokens.GetAsync(hash, ct) is { } existing)
            {
                if (existing.User == token.User)
                {
                    report.CountPresent(ImportKinds.Token);
                }
                else
                {
                    report.Skip(ImportKinds.Token, hint, $"this token already belongs to user {existing.User} here (Ruby: {token.User})");
                }

                continue;
            }

            if (write)
            {
                await targets.Tokens.CreateAsync(new TokenRecord(hash, token.User, hint, token.Created), ct);
                if (token.Last is { } last)
                {
                    await targets.Tokens.TouchAsync(hash, last, ct);
                }
            }

            report.CountImported(ImportKinds.Token);
        }
    }

    private async Task ImportVmsAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        // Ready VMs oldest first, so checkouts keep handing out the one that has waited longest.
        foreach (var vm in data.Vms.OrderBy(v => v.State).ThenBy(v => VmTime.Parse(v.Fields.GetValueOrDefault(VmFields.Ready)) ?? DateTimeOffset.MinValue))
        {
            if (options.FindPool(vm.Pool) is null)
            {
                report.Skip(ImportKinds.Vm, vm.Name, $"pool '{vm.Pool}' is not in the configuration");
                continue;
            }

            var fields = new Dictionary<string, string>(vm.Fields, StringComparer.Ordinal);
            var owner = vm.OwnerToken is { } token ? TokenHashing.Hash(token) : null;
            if (owner is not null)
            {
                fields[VmFields.Token] = owner;
            }

            if (await targets.Inventory.GetVmAsync(vm.Name, ct) is { } existing)
            {
                if (existing.Pool == vm.Pool && existing.State == vm.State)
                {
                    report.CountPresent(ImportKinds.Vm);
                }
                else
                {
                    report.Skip(ImportKinds.Vm, vm.Name, $"a VM of this name is already tracked here (pool {existing.Pool}, {StateName(existing.State)})");
                }

                continue;
            }

            if (write)
            {
                if (!await targets.Inventory.ImportVmAsync(vm.Pool, vm.Name, vm.State, fields, ct))
                {
                    report.Skip(ImportKinds.Vm, vm.Name, "the name was taken here while importing");
                    continue;
                }

                if (owner is not null && vm.State == VmState.Running)
                {
                    await targets.Tokens.AddVmsAsync(owner, [vm.Name], ct);
                }
            }

            report.CountImported(ImportKinds.Vm);
        }
    }

    private async Task ImportOverridesAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        var current = await targets.Overrides.GetAsync(ct);
        foreach (var item in data.Overrides)
        {
            var key = $"{item.Kind.ToString().ToLowerInvariant()} of {item.Pool}";
            if (options.FindPool(item.Pool) is null)
            {
                report.Skip(ImportKinds.Override, key, $"pool '{item.Pool}' is not in the configuration");
            }
            else if (item.Kind == PoolOverrideKind.Size && !(int.TryParse(item.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size >= 0))
            {
                report.Skip(ImportKinds.Override, key, $"'{item.Value}' is not a pool size (an integer ≥ 0)");
            }
            else if (current.Get(item.Kind, item.Pool) is { } ours)
            {
                if (ours == item.Value)
                {
                    report.CountPresent(ImportKinds.Override);
                }
                else
                {
                    report.Skip(ImportKinds.Override, key, $"ours is already set to '{ours}' (Ruby: '{item.Value}')");
                }
            }
            else
            {
                if (write)
                {
                    await targets.Overrides.SetAsync(item.Kind, item.Pool, item.Value, ct);
                }

                report.CountImported(ImportKinds.Override);
            }
        }

        foreach (var pool in data.PoolResets)
        {
            if (options.FindPool(pool) is null)
            {
                report.Skip(ImportKinds.PoolReset, pool, $"pool '{pool}' is not in the configuration");
                continue;
            }

            if (write)
            {
                await targets.Overrides.RequestResetAsync(pool, ct);
            }

            report.CountImported(ImportKinds.PoolReset);
        }
    }

    private async Task ImportOnDemandAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        foreach (var request in data.OnDemand)
        {
            if (request.Entries.FirstOrDefault(e => options.FindPool(e.Pool) is null) is { } foreign)
            {
                report.Skip(ImportKinds.OnDemand, request.Id, $"pool '{foreign.Pool}' is not in the configuration");
                continue;
            }

            if (await targets.OnDemand.GetAsync(request.Id, ct) is not null)
            {
                report.CountPresent(ImportKinds.OnDemand);
                continue;
            }

            if (write)
            {
                var owner = request.Token is { } token ? TokenHashing.Hash(token) : null;
                await targets.OnDemand.CreateAsync(new OnDemandRequest(request.Id, request.Entries, OnDemandStatus.Pending, request.Created, owner, request.User), ct);
                foreach (var entry in request.Entries)
                {
                    foreach (var vm in request.Delivered.GetValueOrDefault(entry.Key) ?? [])
                    {
                        await targets.OnDemand.DeliverAsync(request.Id, entry, vm, ct);
                    }
                }
            }

            report.CountImported(ImportKinds.OnDemand);
        }
    }

    private async Task ImportDurationsAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        foreach (var day in data.Durations.OrderBy(d => d.Day))
        {
            var kind = day.Kind == DurationKind.Clone ? ImportKinds.CloneDuration : ImportKinds.BootDuration;
            var existing = await targets.Inventory.GetDurationsAsync(day.Kind, day.Day, ct);
            var at = new DateTimeOffset(day.Day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            foreach (var (key, seconds) in day.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                // A key without a pool is counted under "unknown" by /summary; writing it so keeps that answer.
                var (pool, vm) = key.IndexOf(':', StringComparison.Ordinal) is var colon and > 0 ? (key[..colon], key[(colon + 1)..]) : ("unknown", key);
                if (existing.TryGetValue($"{pool}:{vm}", out var ours))
                {
                    if (Math.Abs(ours - seconds) < 1e-9)
                    {
                        report.CountPresent(kind);
                    }
                    else
                    {
                        report.Skip(kind, $"{day.Day:yyyy-MM-dd} {key}", $"ours already records {ours.ToString(CultureInfo.InvariantCulture)} s");
                    }

                    continue;
                }

                if (write)
                {
                    await targets.Inventory.RecordDurationAsync(day.Kind, pool, vm, seconds, at, ct);
                }

                report.CountImported(kind);
            }
        }
    }

    private async Task ImportTagsAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        foreach (var day in data.Tags.OrderBy(d => d.Day))
        {
            var existing = await targets.Inventory.GetTagsAsync(day.Day, ct);
            foreach (var (key, value) in day.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            {
                var colon = key.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || colon == key.Length - 1)
                {
                    report.Skip(ImportKinds.Tag, $"{day.Day:yyyy-MM-dd} {key}", "not of the form <vm>:<tag>");
                }
                else if (existing.TryGetValue(key, out var ours))
                {
                    if (ours == value)
                    {
                        report.CountPresent(ImportKinds.Tag);
                    }
                    else
                    {
                        report.Skip(ImportKinds.Tag, $"{day.Day:yyyy-MM-dd} {key}", $"ours already records '{ours}'");
                    }
                }
                else
                {
                    if (write)
                    {
                        await targets.Inventory.RecordTagsAsync(key[..colon], new Dictionary<string, string> { [key[(colon + 1)..]] = value }, day.Day, ct);
                    }

                    report.CountImported(ImportKinds.Tag);
                }
            }
        }
    }

    /// <summary>
    /// Our inventory records a pool's last boot together with a boot duration, so the Ruby last boot is carried by writing
    /// that day's boot duration of the pool once more (same value) at the Ruby time.
    /// </summary>
    private async Task ImportLastBootAsync(RubyData data, ImportReport report, bool write, CancellationToken ct)
    {
        var ours = await targets.Inventory.GetLastBootAsync(ct);
        foreach (var (pool, at) in data.LastBoot.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            if (ours.TryGetValue(pool, out var current) && current >= at)
            {
                report.CountPresent(ImportKinds.LastBoot);
                continue;
            }

            var day = DateOnly.FromDateTime(at.UtcDateTime);
            var carrier = data.Durations
                .Where(d => d.Kind == DurationKind.Boot && d.Day == day)
                .SelectMany(d => d.Entries)
                .Where(e => e.Key.StartsWith(pool + ":", StringComparison.Ordinal))
                .OrderBy(e => e.Key, StringComparer.Ordinal)
                .FirstOrDefault();
            if (carrier.Key is null)
            {
                report.Skip(ImportKinds.LastBoot, pool, $"no boot duration of the pool on {day:yyyy-MM-dd} to carry it; /status shows it after the pool's next boot");
                continue;
            }

            if (write)
            {
                await targets.Inventory.RecordDurationAsync(DurationKind.Boot, pool, carrier.Key[(pool.Length + 1)..], carrier.Value, at, ct);
            }

            report.CountImported(ImportKinds.LastBoot);
        }
    }

    private static string KindName(DurationKind kind) => kind == DurationKind.Clone ? "clone" : "boot";

    private static string StateName(VmState? state) => state?.ToString().ToLowerInvariant() ?? "destroyed";
}
