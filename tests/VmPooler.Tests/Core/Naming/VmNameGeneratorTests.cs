using System.Text.RegularExpressions;
using VmPooler.Core.Naming;

namespace VmPooler.Tests.Core.Naming;

public partial class VmNameGeneratorTests
{
    [GeneratedRegex("^[a-z]+-[a-z]+$")]
    private static partial Regex AdjectiveNoun();

    [Fact]
    public void Next_NoPrefix_AdjectiveDashNoun()
    {
        var generator = new VmNameGenerator(new Random(1));

        for (var i = 0; i < 2000; i++)
        {
            var name = generator.Next("");
            AdjectiveNoun().IsMatch(name).ShouldBeTrue(name);
            name.Length.ShouldBeLessThanOrEqualTo(15, name);
            name.Split('-')[1].Length.ShouldBeLessThanOrEqualTo(10, name);
        }
    }

    [Fact]
    public void Next_Prefix_PrependedAndRandomPartAtMost15()
    {
        var generator = new VmNameGenerator(new Random(2));

        for (var i = 0; i < 500; i++)
        {
            var name = generator.Next("ci-");
            name.ShouldStartWith("ci-");
            var random = name["ci-".Length..];
            AdjectiveNoun().IsMatch(random).ShouldBeTrue(name);
            random.Length.ShouldBeLessThanOrEqualTo(15, name);
        }
    }

    [Fact]
    public void Next_ManyNames_Varied()
    {
        var generator = new VmNameGenerator(new Random(3));

        var names = Enumerable.Range(0, 1000).Select(_ => generator.Next("")).ToHashSet();

        names.Count.ShouldBeGreaterThan(900);
    }

    [Fact]
    public void Next_SameSeed_SameSequence()
    {
        var first = new VmNameGenerator(new Random(4));
        var second = new VmNameGenerator(new Random(4));

        Enumerable.Range(0, 50).Select(_ => first.Next("p")).ShouldBe(Enumerable.Range(0, 50).Select(_ => second.Next("p")));
    }

    [Fact]
    public void Next_DefaultRandom_ValidName()
        => AdjectiveNoun().IsMatch(new VmNameGenerator().Next("")).ShouldBeTrue();
}
