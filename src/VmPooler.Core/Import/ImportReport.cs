namespace VmPooler.Core.Import;

/// <summary>
/// What an import did (or, in a dry run, would do): per kind, how many records were imported and how many were already
/// present; every skipped record with its reason; the Ruby keys deliberately left alone.
/// </summary>
public sealed class ImportReport(bool dryRun)
{
    private readonly Dictionary<string, int> _imported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _present = new(StringComparer.Ordinal);
    private readonly List<ImportSkip> _skips = [];

    public bool DryRun { get; } = dryRun;

    /// <summary>True when the target already held data and the import was refused (no <c>--merge</c>).</summary>
    public bool Refused { get; private set; }

    /// <summary>What the target already held, when the import was refused.</summary>
    public IReadOnlyList<string> ExistingData { get; private set; } = [];

    public IReadOnlyList<ImportSkip> Skips => _skips;

    public IReadOnlyDictionary<string, int> Ignored { get; set; } = new Dictionary<string, int>();

    public int Imported(string kind) => _imported.GetValueOrDefault(kind);

    public int AlreadyPresent(string kind) => _present.GetValueOrDefault(kind);

    public int Skipped(string kind) => _skips.Count(s => s.Kind == kind);

    /// <summary>Total records written (or that would be written).</summary>
    public int TotalImported => _imported.Values.Sum();

    internal void CountImported(string kind) => _imported[kind] = Imported(kind) + 1;

    internal void CountPresent(string kind) => _present[kind] = AlreadyPresent(kind) + 1;

    internal void Skip(string kind, string key, string reason) => _skips.Add(new ImportSkip(kind, key, reason));

    internal void AddSkips(IEnumerable<ImportSkip> skips) => _skips.AddRange(skips);

    internal void Refuse(IReadOnlyList<string> existing)
    {
        Refused = true;
        ExistingData = existing;
    }

    /// <summary>Writes the summary a user checks: a line per kind, every skip, the ignored keys.</summary>
    public void Print(TextWriter output)
    {
        if (Refused)
        {
            output.WriteLine("import-ruby: refused: the target inventory already holds data (run again with --merge to add to it):");
            foreach (var item in ExistingData)
            {
                output.WriteLine("  - " + item);
            }

            return;
        }

        output.WriteLine(DryRun ? "import-ruby: dry run, nothing was written. It would import:" : "import-ruby: imported:");
        foreach (var kind in ImportKinds.All)
        {
            output.WriteLine($"  {kind + ":",-20} {Imported(kind),6} {(DryRun ? "to import" : "imported")}, {AlreadyPresent(kind),6} already present, {Skipped(kind),6} skipped");
        }

        if (_skips.Count > 0)
        {
            output.WriteLine($"Skipped ({_skips.Count}):");
            foreach (var skip in _skips)
            {
                output.WriteLine("  - " + skip);
            }
        }

        if (Ignored.Count > 0)
        {
            output.WriteLine("Left alone (the Ruby manager's own bookkeeping; ours rebuilds what it needs):");
            foreach (var (reason, count) in Ignored.OrderBy(i => i.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"  {count,6} × {reason}");
            }
        }
    }
}
