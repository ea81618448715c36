using System.Diagnostics;
using System.Security.Cryptography;

namespace VmPooler.VSphereTests.Fixtures;

/// <summary>
/// Builds <c>tools/vcsim</c> (govmomi's vCenter simulator) once, offline, from the Debian packages golang-go,
/// golang-github-vmware-govmomi-dev and golang-github-google-uuid-dev, and caches the binary under the temp directory
/// keyed by the source's hash, so later runs start at once.
/// </summary>
public static class VcsimBinary
{
    private const string Packages = "golang-go golang-github-vmware-govmomi-dev golang-github-google-uuid-dev";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _path;

    /// <summary>The path of the built simulator.</summary>
    public static async Task<string> GetAsync()
    {
        if (_path is not null)
        {
            return _path;
        }

        await Gate.WaitAsync();
        try
        {
            return _path ??= await BuildAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<string> BuildAsync()
    {
        var source = Path.Combine(RepoRoot(), "tools", "vcsim");
        var main = Path.Combine(source, "main.go");
        var hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(main)))[..16];
        var cacheDir = Path.Combine(Path.GetTempPath(), "vmpooler-vcsim", hash);
        var binary = Path.Combine(cacheDir, "vcsim");
        if (File.Exists(binary))
        {
            return binary;
        }

        var go = FindGo() ?? throw new InvalidOperationException(
            $"the vSphere tests build a vCenter simulator with Go, but 'go' is not installed: apt-get install {Packages}");
        if (!Directory.Exists("/usr/share/gocode/src/github.com/vmware/govmomi/simulator"))
        {
            throw new InvalidOperationException(
                $"the vSphere tests need govmomi's simulator package from Debian: apt-get install {Packages}");
        }

        Directory.CreateDirectory(cacheDir);
        var temp = binary + "." + Environment.ProcessId + ".tmp";
        var start = new ProcessStartInfo(go, ["build", "-o", temp, "."])
        {
            WorkingDirectory = source,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["GOPATH"] = "/usr/share/gocode";
        start.Environment["GO111MODULE"] = "off";
        start.Environment["GOPROXY"] = "off";
        start.Environment["GOFLAGS"] = "";
        start.Environment["GOCACHE"] = Path.Combine(Path.GetTempPath(), "vmpooler-vcsim", "gocache");
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start go build");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"go build of tools/vcsim failed ({process.ExitCode}); are {Packages} installed?\n{await stdout}{await stderr}");
        }

        File.Move(temp, binary, overwrite: true);
        return binary;
    }

    private static string? FindGo()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/lib/go/bin").Append("/usr/bin"))
        {
            var candidate = Path.Combine(dir, "go");
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The repository root: the first parent of the test binaries holding VmPooler.slnx.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VmPooler.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("VmPooler.slnx not found above " + AppContext.BaseDirectory);
    }
}
