using VmPooler.Core.Configuration;
using VmPooler.Core.Leases;

namespace VmPooler.Tests.Core.Leases;

public class ManagerIdentityArgumentsTests
{
    [Theory]
    [InlineData("/etc/vmpooler/vmpooler.yaml", "myhost:/etc/vmpooler/vmpooler.yaml")]
    [InlineData(ConfigLoader.DemoSource, "myhost:embedded")]
    [InlineData(ConfigLoader.EnvironmentSource, "myhost:VMPOOLER_CONFIG")]
    public void Create_NoId_HostNamePlusConfigSource(string source, string expected)
    {
        ManagerIdentityArguments.Create(null, [], "myhost", source).Id.ShouldBe(expected);
    }

    [Fact]
    public void Create_IdAndLabels_SelectorFromLabels()
    {
        var identity = ManagerIdentityArguments.Create("hv1", ["host=hv1", "url=http://x/?a=b", "host=hv1"], "myhost", "demo");

        identity.Id.ShouldBe("hv1");
        identity.PoolSelector.ShouldBe(new Dictionary<string, string> { ["host"] = "hv1", ["url"] = "http://x/?a=b" }, ignoreOrder: true);
        identity.Accepts(new Dictionary<string, string> { ["host"] = "hv1", ["url"] = "http://x/?a=b", ["rack"] = "1" }).ShouldBeTrue();
        identity.Accepts(new Dictionary<string, string> { ["host"] = "hv1" }).ShouldBeFalse();
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData(" \t", "must not be empty")]
    [InlineData("a\nb", "must not contain control characters")]
    public void IdProblem_BadId_Named(string id, string expected)
    {
        ManagerIdentityArguments.IdProblem(id).ShouldBe(expected);
        Should.Throw<ArgumentException>(() => ManagerIdentityArguments.Create(id, [], "h", "s")).Message.ShouldStartWith("--manager-id " + expected);
    }

    [Fact]
    public void IdProblem_TooLong_Named()
    {
        ManagerIdentityArguments.IdProblem(new string('a', 513)).ShouldBe("must be at most 512 characters (got 513)");
        ManagerIdentityArguments.IdProblem(new string('a', 512)).ShouldBeNull();
        ManagerIdentityArguments.IdProblem("host:/path with space/vmpooler.yaml").ShouldBeNull();
    }

    [Theory]
    [InlineData("host")]
    [InlineData("=hv1")]
    [InlineData("host=")]
    [InlineData(" =hv1")]
    [InlineData("host= ")]
    [InlineData("")]
    public void LabelProblems_NotKeyValue_Named(string label)
    {
        ManagerIdentityArguments.LabelProblems([label]).ShouldBe([$"'{label}' must be key=value with a non-empty key and value"]);
        Should.Throw<ArgumentException>(() => ManagerIdentityArguments.Create("m", [label], "h", "s"));
    }

    [Fact]
    public void LabelProblems_TwoValuesForOneKey_Named()
    {
        ManagerIdentityArguments.LabelProblems(["host=a", "rack=1", "host=b", "bad"])
            .ShouldBe(["'host=b' contradicts 'host=a' (a pool has one value per label)", "'bad' must be key=value with a non-empty key and value"]);
    }
}
