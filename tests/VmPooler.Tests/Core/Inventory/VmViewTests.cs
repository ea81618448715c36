using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Core.Inventory;

/// <summary>The typed view of a VM's record: every field the API and the manager read, parsed once.</summary>
public class VmViewTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    private static VmView View(VmState? state, params (string Field, string Value)[] fields)
        => new VmRecord("vm1", "pool1", state, fields.ToDictionary(f => f.Field, f => f.Value)).View;

    [Fact]
    public void From_EveryField_Parsed()
    {
        var view = View(
            VmState.Running,
            (VmFields.Template, "debian-12"),
            (VmFields.Clone, VmTime.Format(At)),
            (VmFields.CloneTime, "1.25"),
            (VmFields.Ready, VmTime.Format(At.AddSeconds(2))),
            (VmFields.Check, VmTime.Format(At.AddMinutes(1))),
            (VmFields.Checkout, VmTime.Format(At.AddMinutes(5))),
            (VmFields.Lifetime, "12"),
            (VmFields.Token, "hash"),
            (VmFields.TokenUser, "alice"),
            (VmFields.Ip, "10.0.0.5"),
            (VmFields.SshPort, "2222"),
            (VmFields.HostKeyFingerprint, "SHA256:abc"),
            (VmFields.Host, "hv1"),
            (VmFields.Migrated, "true"),
            (VmFields.RequestId, "req-1"),
            (VmFields.RequestName, "alias"),
            (VmFields.CloneError, "boom"),
            (VmFields.OpenSocketError, "refused"),
            (VmFields.TimeoutNotification, "1"),
            (VmFields.TagPrefix + "project", "vmpooler"),
            (VmFields.TagPrefix + "roles", "agent, master"),
            (VmFields.SnapshotPrefix + "before", VmTime.Format(At)),
            (VmFields.Disk, "+8gb:+16gb"));

        view.ShouldBeEquivalentTo(new VmView
        {
            Name = "vm1",
            Pool = "pool1",
            State = VmState.Running,
            Template = "debian-12",
            Cloned = At,
            CloneSeconds = 1.25,
            Ready = At.AddSeconds(2),
            Checked = At.AddMinutes(1),
            CheckedOut = At.AddMinutes(5),
            Lifetime = "12",
            OwnerTokenHash = "hash",
            OwnerUser = "alice",
            Ip = "10.0.0.5",
            SshPort = 2222,
            HostKeyFingerprint = "SHA256:abc",
            Host = "hv1",
            Migrated = "true",
            RequestId = "req-1",
            RequestName = "alias",
            CloneError = "boom",
            OpenSocketError = "refused",
            TimeoutNotified = true,
            Snapshots = view.Snapshots,
            Disks = view.Disks,
            Tags = view.Tags,
        });
        view.Snapshots.ShouldBe(["before"]);
        view.Disks.ShouldBe(["+8gb", "+16gb"]);
        view.Tags.ShouldBe(new Dictionary<string, string> { ["project"] = "vmpooler", ["roles"] = "agent, master" });
        view.IsOnDemand.ShouldBeTrue();
        view.LifetimeHours(24).ShouldBe(12);
        view.HasSnapshot("before").ShouldBeTrue();
        view.HasSnapshot("after").ShouldBeFalse();
    }

    [Fact]
    public void From_NoFields_DefaultsAndTemplateIsThePool()
    {
        var view = View(VmState.Pending);

        view.Template.ShouldBe("pool1");
        view.Cloned.ShouldBeNull();
        view.CheckedOut.ShouldBeNull();
        view.Ip.ShouldBeNull();
        view.SshPort.ShouldBeNull();
        view.IsOnDemand.ShouldBeFalse();
        view.TimeoutNotified.ShouldBeFalse();
        view.Tags.ShouldBeEmpty();
        view.Snapshots.ShouldBeEmpty();
        view.Disks.ShouldBeEmpty();
        view.LifetimeHours(24).ShouldBe(24);
    }

    [Fact]
    public void From_UnreadableValues_ReadAsAbsent()
    {
        var view = View(
            null,
            (VmFields.Clone, "not a time"),
            (VmFields.CloneTime, "fast"),
            (VmFields.SshPort, "22x"),
            (VmFields.HostKeyFingerprint, ""),
            (VmFields.RequestId, ""),
            (VmFields.SnapshotPrefix + "deleted", ""),
            (VmFields.Disk, ""));

        view.State.ShouldBeNull();
        view.Cloned.ShouldBeNull();
        view.CloneSeconds.ShouldBeNull();
        view.SshPort.ShouldBeNull();
        view.HostKeyFingerprint.ShouldBeNull();
        view.IsOnDemand.ShouldBeFalse();
        view.Snapshots.ShouldBeEmpty();
        view.Disks.ShouldBeEmpty();
    }

    [Fact]
    public void From_TimeWrittenByTheOriginal_Parsed()
        => View(VmState.Ready, (VmFields.Clone, "2026-12-06 10:00:00 +0000")).Cloned.ShouldBe(At);

    [Fact]
    public void View_BuiltOnce()
    {
        var record = new VmRecord("vm1", "pool1", VmState.Ready, new Dictionary<string, string>());

        record.View.ShouldBeSameAs(record.View);
    }
}
