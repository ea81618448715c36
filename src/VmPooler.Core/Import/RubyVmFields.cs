using System.Globalization;
using VmPooler.Core.Inventory;

namespace VmPooler.Core.Import;

/// <summary>
/// Reads one Ruby VM hash (<c>vmpooler__vm__&lt;vm&gt;</c>, spec §3.2) into our field form: the field names are the same
/// (ours follow the original), times become <see cref="VmTime.Format"/>, the owner's token is taken out to be hashed, and
/// <c>pool_alias</c> becomes <c>request_name</c>. A field of a known kind that does not parse makes the whole VM
/// malformed: reported, never guessed.
/// </summary>
public static class RubyVmFields
{
    private static readonly string[] TimeFields = [VmFields.Clone, VmFields.Ready, VmFields.Check, VmFields.Checkout, VmFields.Destroy];

    /// <summary>
    /// The VM, or the reason it cannot be imported. <paramref name="activeCheckout"/> is the pool's
    /// <c>vmpooler__active__&lt;pool&gt;</c> entry, the Ruby manager's own record of the checkout time.
    /// </summary>
    public static (RubyVm? Vm, string? Error) Map(string name, string pool, VmState state, IReadOnlyDictionary<string, string> ruby, string? activeCheckout)
    {
        if (ruby.TryGetValue(VmFields.Pool, out var ownPool) && ownPool != pool)
        {
            return (null, $"its hash says pool '{ownPool}' but it is in a state set of pool '{pool}'");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? owner = null;
        foreach (var (field, value) in ruby)
        {
            if (Field(field, value, fields, ref owner) is { } error)
            {
                return (null, error);
            }
        }

        fields[VmFields.Pool] = pool;
        if (state == VmState.Running && !fields.ContainsKey(VmFields.Checkout))
        {
            if (RubyTime.Parse(activeCheckout) is not { } checkout)
            {
                return (null, "checked out, but neither its hash nor vmpooler__active__<pool> holds a checkout time");
            }

            fields[VmFields.Checkout] = VmTime.Format(checkout);
        }

        return (new RubyVm(name, pool, state, fields, owner), null);
    }

    private static string? Field(string field, string value, Dictionary<string, string> fields, ref string? owner)
    {
        if (field.StartsWith('_'))
        {
            return $"field '{field}' would clash with the inventory's own bookkeeping";
        }

        if (TimeFields.Contains(field))
        {
            if (RubyTime.Parse(value) is not { } time)
            {
                return $"field '{field}' is not a time: '{value}'";
            }

            fields[field] = VmTime.Format(time);
            return null;
        }

        switch (field)
        {
            case VmFields.Token:
                owner = value;
                return null;
            case VmFields.Lifetime when !(int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var hours) && hours >= 0):
                return $"field 'lifetime' is not a whole number of hours: '{value}'";
            case VmFields.CloneTime when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _):
                return $"field 'clone_time' is not a number of seconds: '{value}'";
            case "pool_alias":
                fields[VmFields.RequestName] = value;
                return null;
            default:
                // Snapshot times are only ever shown as names; normalise those that parse, keep the others as they are.
                fields[field] = field.StartsWith(VmFields.SnapshotPrefix, StringComparison.Ordinal) && RubyTime.Parse(value) is { } taken
                    ? VmTime.Format(taken)
                    : value;
                return null;
        }
    }
}
