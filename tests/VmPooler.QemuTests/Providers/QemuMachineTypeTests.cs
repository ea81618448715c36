using VmPooler.Providers.Qemu;
using VmPooler.QemuTests.Fixtures;
using VmPooler.Tests.Shared;
using Xunit.Abstractions;

namespace VmPooler.QemuTests.Providers;

/// <summary>
/// The other machine types on real VMs: q35 hot-adds disks behind its PCIe root ports; microvm (no PCI) boots under TCG
/// (tsc_early_khz) and restores from its own saved state, but answers false to a disk. One VM each.
/// </summary>
[Collection(QemuCollection.Name)]
public class QemuMachineTypeTests(QemuEnvironment environment, ITestOutputHelper output)
{
    [Theory]
    [InlineData("q35", true)]
    [InlineData("microvm", false)]
    public async Task MachineType_ClonesFromSavedState_AndHotAddsDisksWhereItCan(string machine, bool canAddDisks)
    {
        var runDir = environment.NewRunDirectory("mt");
        var provider = new QemuProvider("qemu", environment.ProviderOptions(runDir), TimeProvider.System, environment.Logger(output));
        var pool = environment.Pool(machine) with { Settings = new Dictionary<string, object?> { ["machine"] = machine, ["memory"] = "160" } };
        try
        {
            var vm = await provider.CreateVmAsync(pool, "m1", CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(150));

            (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "hostname")).ShouldBe("m1");
            (await provider.CreateDiskAsync(pool, "m1", 1, CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(60))).ShouldBe(canAddDisks);
            if (canAddDisks)
            {
                await AsyncTestHelpers.WaitUntilAsync(
                    async () => (await Ssh.OutputAsync(environment.Key, vm.Ip!, vm.SshPort!.Value, "ls /sys/block")).Split('\n').Contains("vdb"),
                    "the hot-added disk appears as /sys/block/vdb",
                    TimeSpan.FromSeconds(20));
            }
        }
        finally
        {
            await provider.DestroyVmAsync(pool, "m1", CancellationToken.None).DefaultTimeout(TimeSpan.FromSeconds(60));
            environment.KillAll(runDir).ShouldBe(0);
        }
    }
}
