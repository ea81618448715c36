using System.Collections.Concurrent;
using System.Text.Json;

namespace VmPooler.Providers.Dummy;

/// <summary>Where the dummy provider keeps its VMs.</summary>
internal interface IDummyVmStore
{
    /// <summary>Adds a VM; false when a VM of that name exists already.</summary>
    bool TryAdd(DummyVm vm);

    DummyVm? Get(string name);

    /// <summary>Writes back a VM changed after <see cref="Get"/> (no-op in memory, where the object is the state).</summary>
    void Save(DummyVm vm);

    void Remove(string name);

    IEnumerable<DummyVm> All();

    /// <summary>The names of the VMs of one pool.</summary>
    IReadOnlyList<string> NamesIn(string pool);
}

/// <summary>The default: VMs live in this process's memory and die with it.</summary>
internal sealed class MemoryVmStore : IDummyVmStore
{
    private readonly ConcurrentDictionary<string, DummyVm> _vms = new(StringComparer.Ordinal);

    // The names of each pool's VMs: the manager lists a pool on every pass, and a scan of every VM of every pool made
    // that listing cost as much as the rest of an idle 1000-pool manager's work.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _byPool = new(StringComparer.Ordinal);

    public bool TryAdd(DummyVm vm)
    {
        if (!_vms.TryAdd(vm.Name, vm))
        {
            return false;
        }

        _byPool.GetOrAdd(vm.Pool, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal))[vm.Name] = 0;
        return true;
    }

    public DummyVm? Get(string name) => _vms.TryGetValue(name, out var vm) ? vm : null;

    public void Save(DummyVm vm)
    {
    }

    public void Remove(string name)
    {
        if (_vms.TryRemove(name, out var vm) && _byPool.TryGetValue(vm.Pool, out var names))
        {
            names.TryRemove(name, out _);
        }
    }

    public IReadOnlyList<string> NamesIn(string pool)
        => _byPool.TryGetValue(pool, out var names) ? [.. names.Select(entry => entry.Key).Where(_vms.ContainsKey)] : [];

    // Enumerating the dictionary itself takes no locks and copies nothing; its Values property copies every VM of every
    // pool under all its locks, and the manager lists a pool on every pass.
    public IEnumerable<DummyVm> All() => _vms.Select(entry => entry.Value);
}

/// <summary>
/// <c>state_dir</c>: one JSON file per VM in a directory, so VMs outlive the process (as real VMs outlive a killed
/// manager) and every process configured with the same directory sees the same VMs. Each write goes to a temporary file
/// that is then renamed into place, so a reader (or a process killed mid-write) never sees half a VM; a VM is created
/// with a rename that fails when the name is taken, so two processes cannot both create it.
/// </summary>
internal sealed class DirectoryVmStore : IDummyVmStore
{
    private const string Extension = ".vm.json";

    private readonly string _directory;

    public DirectoryVmStore(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
    }

    public bool TryAdd(DummyVm vm)
    {
        var temporary = WriteTemporary(vm);
        try
        {
            File.Move(temporary, PathOf(vm.Name), overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(PathOf(vm.Name)))
        {
            File.Delete(temporary);
            return false;
        }
    }

    public DummyVm? Get(string name)
    {
        try
        {
            var record = JsonSerializer.Deserialize<StoredVm>(File.ReadAllBytes(PathOf(name)));
            return record?.ToVm();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public void Save(DummyVm vm)
    {
        var temporary = WriteTemporary(vm);
        File.Move(temporary, PathOf(vm.Name), overwrite: true);
    }

    public void Remove(string name) => File.Delete(PathOf(name));

    public IEnumerable<DummyVm> All()
    {
        foreach (var file in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            var name = Path.GetFileName(file)[..^Extension.Length];
            if (Get(name) is { } vm)
            {
                yield return vm;
            }
        }
    }

    public IReadOnlyList<string> NamesIn(string pool) => [.. All().Where(vm => vm.Pool == pool).Select(vm => vm.Name)];

    private string PathOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('.') || name.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            throw new ArgumentException($"dummy provider: '{name}' cannot be a VM name in state_dir", nameof(name));
        }

        return Path.Combine(_directory, name + Extension);
    }

    private string WriteTemporary(DummyVm vm)
    {
        _ = PathOf(vm.Name);
        var temporary = Path.Combine(_directory, $".{vm.Name}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(StoredVm.From(vm)));
        return temporary;
    }

    private sealed record StoredVm(
        string Name,
        string Pool,
        string Template,
        string Hostname,
        DateTimeOffset CreatedAt,
        DateTimeOffset? ClonedAt,
        DateTimeOffset BootsAt,
        bool PoweredOff,
        List<int> Disks,
        List<string> Snapshots)
    {
        public static StoredVm From(DummyVm vm)
        {
            lock (vm)
            {
                return new(vm.Name, vm.Pool, vm.Template, vm.Hostname, vm.CreatedAt, vm.ClonedAt, vm.BootsAt, vm.PoweredOff, [.. vm.Disks], [.. vm.Snapshots]);
            }
        }

        public DummyVm ToVm() => new(Name, Pool, Template, CreatedAt)
        {
            Hostname = Hostname,
            ClonedAt = ClonedAt,
            BootsAt = BootsAt,
            PoweredOff = PoweredOff,
            Disks = [.. Disks],
            Snapshots = new HashSet<string>(Snapshots, StringComparer.Ordinal),
        };
    }
}
