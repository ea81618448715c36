using VmPooler.Core.Tokens;

namespace VmPooler.Tests.Core.Tokens;

/// <summary>Making, hashing and comparing tokens (spec §7.1).</summary>
public class TokenHashingTests
{
    [Fact]
    public void NewToken_ManyTokens_AllHaveTheOriginalShapeAndAreDistinct()
    {
        var tokens = Enumerable.Range(0, 2000).Select(_ => TokenHashing.NewToken()).ToList();

        tokens.ShouldAllBe(t => t.Length == 32);
        tokens.ShouldAllBe(t => t[0] >= 'a' && t[0] <= 'y');
        tokens.ShouldAllBe(t => t.All(c => (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')));
        tokens.Distinct(StringComparer.Ordinal).Count().ShouldBe(tokens.Count);
        tokens.Select(t => t[0]).Distinct().Count().ShouldBeGreaterThan(20, "the first character ranges over a–y");
        tokens.SelectMany(t => t[1..]).Distinct().Count().ShouldBe(36, "the other characters range over [a-z0-9]");
    }

    [Fact]
    public void Hash_IsLowerCaseHexSha256()
    {
        // SHA-256("abc"), the FIPS 180-2 test vector.
        TokenHashing.Hash("abc").ShouldBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    [Fact]
    public void Hash_DoesNotContainTheToken()
    {
        var token = TokenHashing.NewToken();

        TokenHashing.Hash(token).ShouldNotContain(token);
        TokenHashing.Hash(token).Length.ShouldBe(64);
    }

    [Fact]
    public void Matches_ComparesByHash()
    {
        var token = TokenHashing.NewToken();

        TokenHashing.Matches(token, TokenHashing.Hash(token)).ShouldBeTrue();
        TokenHashing.Matches(token, TokenHashing.Hash(token + "x")).ShouldBeFalse();
        TokenHashing.Matches(token, null).ShouldBeFalse();
        TokenHashing.Matches(token, token).ShouldBeFalse();
    }

    [Theory]
    [InlineData("abc", "abc", true)]
    [InlineData("abc", "abd", false)]
    [InlineData("abc", "abcd", false)]
    [InlineData("", "", true)]
    public void FixedTimeEquals_ComparesExactly(string a, string b, bool expected)
        => TokenHashing.FixedTimeEquals(a, b).ShouldBe(expected);

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", "abcd...2345")]
    [InlineData("abcdefgh", "********")]
    [InlineData("", "")]
    public void Hint_FirstAndLastFour(string token, string hint) => TokenHashing.Hint(token).ShouldBe(hint);

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", true)]
    [InlineData("zbcdefghijklmnopqrstuvwxyz012345", true)]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456", false)]
    [InlineData("Abcdefghijklmnopqrstuvwxyz012345", false)]
    [InlineData("abcdefghijklmnopqrstuvwxyz01234-", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void LooksLikeToken_ShapeOnly(string? text, bool expected) => TokenHashing.LooksLikeToken(text).ShouldBe(expected);
}
