using VmPooler.Providers.VSphere;
using static VmPooler.Providers.VSphere.VimXml;

namespace VmPooler.VSphereTests.Fixtures;

/// <summary>Test-only vSphere calls the provider never needs (putting a host into maintenance mode, …).</summary>
internal static class VcsimAdmin
{
    public static async Task EnterMaintenanceModeAsync(this VSphereClient client, string hostPath)
    {
        var host = await client.FindByInventoryPathAsync(hostPath, CancellationToken.None)
            ?? throw new InvalidOperationException("no host at " + hostPath);
        var response = await client.InvokeAsync(_ => El("EnterMaintenanceMode_Task", Ref("_this", host), El("timeout", "0")), CancellationToken.None);
        await client.WaitForTaskAsync(ToRef(response.Child("returnval")!), TimeSpan.FromSeconds(30), CancellationToken.None);
    }

    public static async Task<MoRef> CreateFolderPathAsync(this VSphereClient client, string datacenter, string path)
    {
        var parent = (await client.FindByInventoryPathAsync(datacenter + "/vm", CancellationToken.None))!.Value;
        var current = datacenter + "/vm";
        foreach (var part in path.Split('/'))
        {
            current += "/" + part;
            parent = await client.FindByInventoryPathAsync(current, CancellationToken.None)
                ?? await client.CreateFolderAsync(parent, part, CancellationToken.None);
        }

        return parent;
    }
}
