namespace VmPooler.Core.Import;

/// <summary>A record that was not imported: its kind (see <see cref="ImportKinds"/>), the Ruby key or name, and why.</summary>
public sealed record ImportSkip(string Kind, string Key, string Reason)
{
    public override string ToString() => $"{Kind} {Key}: {Reason}";
}
