using VmPooler.Core.Import;
using VmPooler.Core.Inventory;

namespace VmPooler.Tests.Core.Import;

/// <summary>The Ruby time forms and the reading of one Ruby VM hash into our fields.</summary>
public class RubyFormatTests
{
    [Theory]
    [InlineData("2026-12-06 10:48:23 +0000", "2026-12-06T10:48:23.0000000+00:00")]
    [InlineData("2026-12-06 11:48:23 +0100", "2026-12-06T11:48:23.0000000+01:00")]
    [InlineData("2026-12-06 05:48:23 -0500", "2026-12-06T05:48:23.0000000-05:00")]
    [InlineData("2026-12-06 10:48:23 UTC", "2026-12-06T10:48:23.0000000+00:00")]
    [InlineData("2026-12-06T10:48:23+00:00", "2026-12-06T10:48:23.0000000+00:00")]
    [InlineData("2026-12-06T10:48:23.5Z", "2026-12-06T10:48:23.5000000+00:00")]
    public void RubyTime_RubyAndIsoForms_Parsed(string text, string expected)
        => RubyTime.Parse(text).ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-12-06")]
    [InlineData("2026-12-06 10:48:23")]
    [InlineData("1765017600")]
    [InlineData("")]
    public void RubyTime_NotATimeOrWithoutAZone_Null(string text) => RubyTime.Parse(text).ShouldBeNull();

    [Fact]
    public void Map_RunningVm_TimesNormalisedOwnerApartAliasRenamed()
    {
        var ruby = new Dictionary<string, string>
        {
            ["clone"] = "2026-12-06 08:00:00 +0000",
            ["checkout"] = "2026-12-06 09:00:00 +0000",
            ["token:token"] = "secret",
            ["token:user"] = "alice",
            ["lifetime"] = "12",
            ["pool_alias"] = "deb",
            ["snapshot:s1"] = "2026-12-06 09:30:00 +0000",
            ["snapshot:s2"] = "whenever",
            ["user_tagged"] = "true",
        };

        var (vm, error) = RubyVmFields.Map("vm1", "debian", VmState.Running, ruby, activeCheckout: "2026-12-06 07:00:00 +0000");

        error.ShouldBeNull();
        vm!.OwnerToken.ShouldBe("secret");
        vm.Fields.ContainsKey(VmFields.Token).ShouldBeFalse("only the hash of the token is ever written");
        vm.Fields[VmFields.Checkout].ShouldBe("2026-12-06T09:00:00.0000000+00:00", "the hash wins over the active hash");
        vm.Fields[VmFields.Clone].ShouldBe("2026-12-06T08:00:00.0000000+00:00");
        vm.Fields[VmFields.RequestName].ShouldBe("deb");
        vm.Fields[VmFields.Pool].ShouldBe("debian");
        vm.Fields["snapshot:s1"].ShouldBe("2026-12-06T09:30:00.0000000+00:00");
        vm.Fields["snapshot:s2"].ShouldBe("whenever");
        vm.Fields["user_tagged"].ShouldBe("true");
    }

    [Fact]
    public void Map_RunningWithoutCheckout_TakesTheActiveHashTime()
    {
        var (vm, _) = RubyVmFields.Map("vm1", "debian", VmState.Running, new Dictionary<string, string>(), "2026-12-06 07:00:00 +0000");
        vm!.Fields[VmFields.Checkout].ShouldBe("2026-12-06T07:00:00.0000000+00:00");
    }

    [Theory]
    [InlineData("lifetime", "forever", "lifetime")]
    [InlineData("lifetime", "-1", "lifetime")]
    [InlineData("clone_time", "fast", "clone_time")]
    [InlineData("ready", "soon", "not a time")]
    [InlineData("_state", "running", "bookkeeping")]
    [InlineData("pool", "centos", "says pool")]
    public void Map_MalformedField_VmRefusedWithTheReason(string field, string value, string reason)
    {
        var (vm, error) = RubyVmFields.Map("vm1", "debian", VmState.Ready, new Dictionary<string, string> { [field] = value }, null);
        vm.ShouldBeNull();
        error.ShouldNotBeNull().ShouldContain(reason);
    }

    [Fact]
    public void Map_RunningWithoutAnyCheckoutTime_Refused()
        => RubyVmFields.Map("vm1", "debian", VmState.Running, new Dictionary<string, string>(), null).Error.ShouldNotBeNull().ShouldContain("checkout time");
}
