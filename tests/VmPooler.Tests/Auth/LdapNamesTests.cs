using VmPooler.Api.Auth;

namespace VmPooler.Tests.Auth;

public class LdapNamesTests
{
    [Theory]
    [InlineData("alice")]
    [InlineData("alice.smith")]
    [InlineData("alice-smith_2")]
    [InlineData("alice@example.com")]
    [InlineData("Dave Smith")]
    [InlineData("jürgen")]
    [InlineData("名前")]
    public void IsAcceptableUserName_OrdinaryName_True(string username)
    {
        LdapNames.IsAcceptableUserName(username).ShouldBeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData(")(uid=*")]
    [InlineData("admin)(|(uid=*")]
    [InlineData("*)(objectClass=*))(&(objectClass=void")]
    [InlineData("uid=admin,dc=example,dc=com")]
    [InlineData("a\\2a")]
    [InlineData("admin\0")]
    [InlineData("admin\0garbage")]
    [InlineData("admin\n")]
    [InlineData("ad\u0085min")]
    [InlineData(" admin")]
    [InlineData("admin ")]
    [InlineData("\tadmin")]
    [InlineData("a+b")]
    [InlineData("a<b")]
    [InlineData("a>b")]
    [InlineData("#admin")]
    [InlineData("a;b")]
    [InlineData("a\"b")]
    public void IsAcceptableUserName_HostileName_False(string username)
    {
        LdapNames.IsAcceptableUserName(username).ShouldBeFalse();
    }

    [Fact]
    public void IsAcceptableUserName_LengthLimit_256Allowed257Refused()
    {
        LdapNames.IsAcceptableUserName(new string('a', 256)).ShouldBeTrue();
        LdapNames.IsAcceptableUserName(new string('a', 257)).ShouldBeFalse();
    }

    [Fact]
    public void IsAcceptableUserName_LoneSurrogate_False()
    {
        // Built at run time: a lone surrogate in an attribute argument would be turned into U+FFFD by the compiler.
        LdapNames.IsAcceptableUserName("x" + (char)0xD800).ShouldBeFalse();
        LdapNames.IsAcceptableUserName((char)0xDC00 + "x").ShouldBeFalse();
        LdapNames.IsAcceptableUserName("x😀").ShouldBeTrue();
    }

    [Fact]
    public void IsAcceptableUserName_Null_False()
    {
        LdapNames.IsAcceptableUserName(null).ShouldBeFalse();
    }

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("a,b", "a\\,b")]
    [InlineData("a+b=c", "a\\+b\\=c")]
    [InlineData("\"q\"", "\\\"q\\\"")]
    [InlineData("a;b<c>d\\e", "a\\;b\\<c\\>d\\\\e")]
    [InlineData("#x", "\\#x")]
    [InlineData("x#", "x#")]
    [InlineData(" x ", "\\ x\\ ")]
    [InlineData("a b", "a b")]
    [InlineData("a\0b", "a\\00b")]
    [InlineData("a\nb", "a\\0ab")]
    [InlineData("a\u0085b", "a\\c2\\85b")]
    [InlineData("jürgen", "jürgen")]
    public void EscapeDnValue_Value_Rfc4514(string value, string expected)
    {
        LdapNames.EscapeDnValue(value).ShouldBe(expected);
    }

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("*", "\\2a")]
    [InlineData(")(uid=*", "\\29\\28uid=\\2a")]
    [InlineData("a\\2a", "a\\5c2a")]
    [InlineData("a\0b", "a\\00b")]
    [InlineData("a,b=c", "a,b=c")]
    [InlineData("jürgen", "jürgen")]
    public void EscapeFilterValue_Value_Rfc4515(string value, string expected)
    {
        LdapNames.EscapeFilterValue(value).ShouldBe(expected);
    }

    [Theory]
    [InlineData("uid", true)]
    [InlineData("sAMAccountName", true)]
    [InlineData("x-custom-1", true)]
    [InlineData("0.9.2342.19200300.100.1.1", true)]
    [InlineData("", false)]
    [InlineData("uid=*", false)]
    [InlineData("1uid", false)]
    [InlineData("1..2", false)]
    [InlineData("u id", false)]
    public void IsAttributeType_Value_DescriptorOrOid(string value, bool expected)
    {
        LdapNames.IsAttributeType(value).ShouldBe(expected);
    }
}
