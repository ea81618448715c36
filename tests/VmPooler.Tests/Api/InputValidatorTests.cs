using System.Text.Json.Nodes;
using VmPooler.Api.Http;

namespace VmPooler.Tests.Api;

public class InputValidatorTests
{
    [Theory]
    [InlineData("vm1")]
    [InlineData("quick-fox")]
    [InlineData("VM-01")]
    [InlineData("a")]
    [InlineData("vm1.example.com")]
    [InlineData("0abc")]
    public void Hostname_Valid_Null(string hostname) => InputValidator.Hostname(hostname).ShouldBeNull();

    [Theory]
    [InlineData(null, "Hostname is required")]
    [InlineData("", "Hostname is required")]
    [InlineData("-vm", "Invalid hostname format")]
    [InlineData("vm-", "Invalid hostname format")]
    [InlineData("vm_1", "Invalid hostname format")]
    [InlineData("vm..example", "Invalid hostname format")]
    [InlineData("vm.", "Invalid hostname format")]
    [InlineData(".vm", "Invalid hostname format")]
    [InlineData("vm 1", "Invalid hostname format")]
    [InlineData("vm/../etc", "Invalid hostname format")]
    [InlineData("vm1\n", "Invalid hostname format")]
    public void Hostname_Invalid_Message(string? hostname, string expected) => InputValidator.Hostname(hostname).ShouldBe(expected);

    [Fact]
    public void Hostname_LabelOf63_ValidOf64_Invalid()
    {
        InputValidator.Hostname(new string('a', 63)).ShouldBeNull();
        InputValidator.Hostname(new string('a', 64)).ShouldBe("Invalid hostname format");
    }

    [Fact]
    public void Hostname_TotalLength_253ValidAbove_TooLong()
    {
        var label = new string('a', 63);
        var name253 = $"{label}.{label}.{label}.{new string('b', 61)}";
        name253.Length.ShouldBe(253);

        InputValidator.Hostname(name253).ShouldBeNull();
        InputValidator.Hostname(name253 + "b").ShouldBe("Hostname too long");
    }

    [Theory]
    [InlineData("debian-12")]
    [InlineData("centos_7_x86_64")]
    [InlineData("A")]
    public void PoolName_Valid_Null(string name) => InputValidator.PoolName(name).ShouldBeNull();

    [Theory]
    [InlineData(null, "Pool name is required")]
    [InlineData("", "Pool name is required")]
    [InlineData("debian.12", "Invalid pool name format")]
    [InlineData("debian 12", "Invalid pool name format")]
    [InlineData("a+b", "Invalid pool name format")]
    [InlineData("pool\n", "Invalid pool name format")]
    public void PoolName_Invalid_Message(string? name, string expected) => InputValidator.PoolName(name).ShouldBe(expected);

    [Fact]
    public void PoolName_Length_100ValidAbove_TooLong()
    {
        InputValidator.PoolName(new string('p', 100)).ShouldBeNull();
        InputValidator.PoolName(new string('p', 101)).ShouldBe("Pool name too long");
    }

    [Theory]
    [InlineData("1", 1)]
    [InlineData("100", 100)]
    [InlineData("007", 7)]
    public void VmCount_ValidString_CountSet(string text, int expected)
    {
        InputValidator.VmCount(JsonValue.Create(text), out var count).ShouldBeNull();
        count.ShouldBe(expected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(100)]
    public void VmCount_ValidNumber_CountSet(int value)
    {
        InputValidator.VmCount(JsonValue.Create(value), out var count).ShouldBeNull();
        count.ShouldBe(value);
    }

    [Theory]
    [InlineData("0", "VM count must be at least 1")]
    [InlineData("000", "VM count must be at least 1")]
    [InlineData("101", "VM count must be at most 100")]
    [InlineData("99999999999999999999", "VM count must be at most 100")]
    [InlineData("-1", "VM count must be a valid integer")]
    [InlineData("1.5", "VM count must be a valid integer")]
    [InlineData("two", "VM count must be a valid integer")]
    [InlineData(" 2", "VM count must be a valid integer")]
    [InlineData("2 ", "VM count must be a valid integer")]
    [InlineData("+2", "VM count must be a valid integer")]
    [InlineData("", "VM count is required")]
    public void VmCount_InvalidString_Message(string text, string expected)
        => InputValidator.VmCount(JsonValue.Create(text), out _).ShouldBe(expected);

    [Fact]
    public void VmCount_InvalidNumbers_Message()
    {
        InputValidator.VmCount(JsonValue.Create(0), out _).ShouldBe("VM count must be at least 1");
        InputValidator.VmCount(JsonValue.Create(101), out _).ShouldBe("VM count must be at most 100");
        InputValidator.VmCount(JsonValue.Create(-3), out _).ShouldBe("VM count must be a valid integer");
        InputValidator.VmCount(JsonValue.Create(2.5), out _).ShouldBe("VM count must be a valid integer");
        InputValidator.VmCount(JsonNode.Parse("1e2"), out _).ShouldBe("VM count must be a valid integer");
        InputValidator.VmCount(JsonNode.Parse("12345678901234567890"), out _).ShouldBe("VM count must be at most 100");
    }

    [Fact]
    public void VmCount_Missing_Required()
        => InputValidator.VmCount(null, out _).ShouldBe("VM count is required");

    [Fact]
    public void VmCount_NotAStringOrNumber_Rejected()
    {
        InputValidator.VmCount(new JsonObject(), out _).ShouldNotBeNull();
        InputValidator.VmCount(new JsonArray(), out _).ShouldNotBeNull();
        InputValidator.VmCount(JsonValue.Create(true), out _).ShouldNotBeNull();
    }

    [Theory]
    [InlineData("project")]
    [InlineData("build.id")]
    [InlineData("a_b-c.d")]
    public void TagKey_Valid_Null(string key) => InputValidator.TagKey(key).ShouldBeNull();

    [Theory]
    [InlineData(null, "Tag key is required")]
    [InlineData("", "Tag key is required")]
    [InlineData("a b", "Invalid tag key format")]
    [InlineData("a:b", "Invalid tag key format")]
    [InlineData("a/b", "Invalid tag key format")]
    public void TagKey_Invalid_Message(string? key, string expected) => InputValidator.TagKey(key).ShouldBe(expected);

    [Fact]
    public void TagKey_Length_50ValidAbove_TooLong()
    {
        InputValidator.TagKey(new string('k', 50)).ShouldBeNull();
        InputValidator.TagKey(new string('k', 51)).ShouldBe("Tag key too long");
    }

    [Theory]
    [InlineData("")]
    [InlineData("jenkins")]
    [InlineData("user@example.com")]
    [InlineData("https://ci.example.com/job/1")]
    [InlineData("a b\tc")]
    [InlineData("v1.2-rc:3")]
    [InlineData("agent, master")]
    [InlineData("key=value")]
    [InlineData("https://ci.example.com/job/1/?x=1#top")]
    public void TagValue_Valid_Null(string value) => InputValidator.TagValue(value).ShouldBeNull();

    [Theory]
    [InlineData("<script>")]
    [InlineData("a;b")]
    [InlineData("\"quoted\"")]
    [InlineData("a&b")]
    [InlineData("$(rm)")]
    [InlineData("a|b")]
    [InlineData("`id`")]
    public void TagValue_ForbiddenCharacters_Message(string value)
        => InputValidator.TagValue(value).ShouldBe("Tag value contains invalid characters");

    [Fact]
    public void TagValue_Length_255ValidAbove_TooLong()
    {
        InputValidator.TagValue(new string('v', 255)).ShouldBeNull();
        InputValidator.TagValue(new string('v', 256)).ShouldBe("Tag value too long");
    }

    [Theory]
    [InlineData("vm1", "vm1")]
    [InlineData("vm1.example.com", "vm1")]
    [InlineData("vm1.", "vm1")]
    [InlineData(".example", "")]
    public void ShortName_Hostname_PartBeforeFirstDot(string hostname, string expected)
        => InputValidator.ShortName(hostname).ShouldBe(expected);
}
