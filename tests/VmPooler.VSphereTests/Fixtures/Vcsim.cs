using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using VmPooler.Providers.VSphere;

namespace VmPooler.VSphereTests.Fixtures;

/// <summary>
/// One running vCenter simulator on 127.0.0.1 (the <c>simulator.VPX()</c> model: datacenter DC0, cluster DC0_C0 with
/// hosts DC0_C0_H0..H2, datastore LocalDS_0, VMs such as DC0_C0_RP0_VM0 in DC0/vm). Start one per test class through
/// <see cref="VcsimFixture"/>. The process ends when this is disposed, and on its own when the test process dies
/// (it exits when its standard input closes).
/// </summary>
public sealed class Vcsim : IAsyncDisposable
{
    public const string Username = "vmpooler";
    public const string Password = "s3cret-pass";
    public const string Datacenter = "DC0";
    public const string Cluster = "DC0_C0";
    public const string Datastore = "LocalDS_0";

    /// <summary>The VM the tests clone from; <see cref="StartAsync"/> gives it a snapshot so linked clones work.</summary>
    public const string Template = "DC0_C0_RP0_VM0";

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    private Vcsim(Process process, Uri sdkUrl)
    {
        _process = process;
        SdkUrl = sdkUrl;
    }

    public Uri SdkUrl { get; }

    /// <summary>What the simulator wrote to standard error (for failure messages).</summary>
    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts a simulator; <paramref name="methodDelay"/> (e.g. <c>CloneVM_Task=3000</c>) slows those calls down.</summary>
    public static async Task<Vcsim> StartAsync(string? methodDelay = null)
    {
        var binary = await VcsimBinary.GetAsync();
        string[] args = ["-listen", "127.0.0.1:0", "-username", Username, "-password", Password];
        if (methodDelay is not null)
        {
            args = [.. args, "-method-delay", methodDelay];
        }

        var start = new ProcessStartInfo(binary, args)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start vcsim");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        string? line;
        try
        {
            line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new InvalidOperationException("vcsim printed no URL within 30 s: " + stderr);
        }

        if (line is null || !Uri.TryCreate(line.Trim(), UriKind.Absolute, out var url) || url.Host != "127.0.0.1")
        {
            process.Kill();
            throw new InvalidOperationException($"vcsim printed \"{line}\" instead of a loopback URL: {stderr}");
        }

        var vcsim = new Vcsim(process, url);
        lock (stderr)
        {
            vcsim._stderr.Append(stderr);
        }

        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (vcsim._stderr)
                {
                    vcsim._stderr.AppendLine(e.Data);
                }
            }
        };
        await vcsim.PrepareTemplateAsync();
        return vcsim;
    }

    /// <summary>A client logged in as the simulator's user (for test set-up and inspection).</summary>
    internal VSphereClient NewClient(string? password = null)
        => new(
            new VSphereConnectionOptions { SdkUrl = SdkUrl, Username = Username, Password = password ?? Password },
            TimeProvider.System,
            NullLogger.Instance);

    /// <summary>Takes a snapshot of the template, as a linked-clone template has.</summary>
    private async Task PrepareTemplateAsync()
    {
        await using var client = NewClient();
        var template = await client.FindByInventoryPathAsync($"{Datacenter}/vm/{Template}", CancellationToken.None)
            ?? throw new InvalidOperationException("the simulator has no " + Template);
        var task = await client.CreateSnapshotAsync(template, "base", "linked clone base", memory: false, quiesce: false, CancellationToken.None);
        await client.WaitForTaskAsync(task, TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
