using System.Globalization;
using VmPooler.Core.Configuration;

namespace VmPooler.Tests.Configuration;

/// <summary>The one reader of the YAML format: the rules Core and every provider share (issue 15 item 5).</summary>
public class ConfigReaderTests
{
    private static Dictionary<string, object?> Map(params (string Key, object? Value)[] settings)
        => settings.ToDictionary(s => s.Key, s => s.Value);

    private static ConfigSection Section(ConfigReader reader, params (string Key, object? Value)[] settings)
        => reader.Section(settings.ToDictionary(s => s.Key, s => s.Value), "providers.p");

    [Theory]
    [InlineData("10", 10.0)]
    [InlineData(" 0.25 ", 0.25)]
    [InlineData("1e3", 1000.0)]
    public void Seconds_Number_ReadAsTimeSpan(string value, double seconds)
    {
        var reader = new ConfigReader();

        Section(reader, ("t", value)).Seconds("t", NumberRule.Positive).ShouldBe(TimeSpan.FromSeconds(seconds));
        reader.Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("0", NumberRule.Positive, "providers.p.t: must be a number of seconds > 0 (got \"0\")")]
    [InlineData("-1", NumberRule.NonNegative, "providers.p.t: must be a number of seconds ≥ 0 (got \"-1\")")]
    [InlineData("1e9", NumberRule.NonNegative, "providers.p.t: must be a number of seconds ≥ 0 (got \"1e9\")")]
    [InlineData("soon", NumberRule.Positive, "providers.p.t: must be a number of seconds > 0 (got \"soon\")")]
    public void Seconds_OutOfRule_ErrorNamesKey(string value, NumberRule rule, string error)
    {
        var reader = new ConfigReader();

        Section(reader, ("t", value)).Seconds("t", rule).ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe(error);
    }

    [Fact]
    public void Seconds_AboveItsOwnMaximum_ErrorSaysTheMaximum()
    {
        var reader = new ConfigReader();

        Section(reader, ("t", "3601")).Seconds("t", NumberRule.Positive, 3600).ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe("providers.p.t: must be a number of seconds > 0 and ≤ 3600 (got \"3601\")");
    }

    [Fact]
    public void Seconds_ShownBackInSeconds_IsTheNumberWritten()
    {
        // As ReadDuration: rounded to the nearest tick, so 3.002 is not shown back as 3.0019999.
        var reader = new ConfigReader();
        for (var thousandths = 1; thousandths <= 200_000; thousandths += 7)
        {
            var text = (thousandths / 1000.0).ToString(CultureInfo.InvariantCulture);

            Section(reader, ("t", text)).Seconds("t", NumberRule.Positive)!.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture).ShouldBe(text);
        }

        reader.Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("15", DurationUnit.Minutes, 900.0)]
    [InlineData("0.5", DurationUnit.Hours, 1800.0)]
    [InlineData(" 0.2 ", DurationUnit.Seconds, 0.2)]
    public void Duration_NumberInItsUnit_ReadAsTimeSpan(string value, DurationUnit unit, double seconds)
    {
        var reader = new ConfigReader();

        reader.ReadDuration(Map(("t", value)), "t", "config.t", unit, NumberRule.Positive).ShouldBe(TimeSpan.FromSeconds(seconds));
        reader.Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("0", NumberRule.Positive, "config.t: must be a number > 0 (got \"0\")")]
    [InlineData("-1", NumberRule.NonNegative, "config.t: must be a number ≥ 0 (got \"-1\")")]
    [InlineData("soon", NumberRule.Positive, "config.t: must be a number > 0 (got \"soon\")")]
    [InlineData("1e300", NumberRule.Positive, "config.t: must be below 15372286728 minutes (got \"1e300\")")]
    public void Duration_OutOfRule_ErrorAsForANumber(string value, NumberRule rule, string error)
    {
        var reader = new ConfigReader();

        reader.ReadDuration(Map(("t", value)), "t", "config.t", DurationUnit.Minutes, rule).ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe(error);
    }

    /// <summary>
    /// The API and the logs show a duration back in its key's unit (<c>TotalMinutes</c> …): it must print as the number
    /// the file holds (15, 0.1, not 15.000000001), as it did when the options were doubles.
    /// </summary>
    [Theory]
    [InlineData(DurationUnit.Seconds)]
    [InlineData(DurationUnit.Minutes)]
    [InlineData(DurationUnit.Hours)]
    public void Duration_ShownBackInItsUnit_IsTheNumberWritten(DurationUnit unit)
    {
        var reader = new ConfigReader();
        for (var thousandths = 1; thousandths <= 200_000; thousandths += 7)
        {
            var text = (thousandths / 1000.0).ToString(CultureInfo.InvariantCulture);
            var duration = reader.ReadDuration(Map(("t", text)), "t", "config.t", unit, NumberRule.Positive)!.Value;

            var shown = unit switch
            {
                DurationUnit.Seconds => duration.TotalSeconds,
                DurationUnit.Minutes => duration.TotalMinutes,
                _ => duration.TotalHours,
            };
            shown.ToString(CultureInfo.InvariantCulture).ShouldBe(text);
        }

        reader.Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("Yes", true)]
    [InlineData("ON", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    [InlineData("Off", false)]
    public void Bool_YamlWordsInAnyCase_Read(string value, bool expected)
    {
        var reader = new ConfigReader();

        Section(reader, ("b", value)).Bool("b").ShouldBe(expected);
        reader.Errors.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("maybe")]
    public void Bool_OtherWords_ErrorNamesKey(string value)
    {
        var reader = new ConfigReader();

        Section(reader, ("b", value)).Bool("b").ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe($"providers.p.b: must be true or false (got \"{value}\")");
    }

    [Fact]
    public void Keys_MatchExactly()
    {
        var reader = new ConfigReader();
        var section = Section(reader, ("Memory", "256"));

        section.Int("memory", 1).ShouldBeNull();
        reader.Errors.ShouldBeEmpty();
    }

    [Fact]
    public void Int_Unbounded_ErrorSaysInteger()
    {
        var reader = new ConfigReader();

        Section(reader, ("seed", "1.5")).Int("seed").ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe("providers.p.seed: must be an integer (got \"1.5\")");
    }

    [Fact]
    public void Percent_OutsideZeroToHundred_ErrorNamesKey()
    {
        var reader = new ConfigReader();
        var section = Section(reader, ("a", "100"), ("b", "100.5"));

        section.Percent("a").ShouldBe(100);
        section.Percent("b").ShouldBeNull();
        reader.Errors.ShouldHaveSingleItem().ShouldBe("providers.p.b: must be a percentage from 0 to 100 (got \"100.5\")");
    }

    [Fact]
    public void RequiredString_BlankOrMissing_IsRequired()
    {
        var reader = new ConfigReader();
        var section = Section(reader, ("blank", " "));

        section.RequiredString("blank", "a name").ShouldBeNull();
        section.RequiredString("missing", "a name").ShouldBeNull();
        reader.Errors.ShouldBe(["providers.p.blank: is required (a name)", "providers.p.missing: is required (a name)"]);
    }

    [Fact]
    public void StringMap_NonStringValue_ErrorNamesItsKey()
    {
        var reader = new ConfigReader();
        var section = Section(reader, ("extra", new Dictionary<string, object?> { ["a"] = "1", ["b"] = new List<object?>() }));

        section.StringMap("extra").ShouldBe([new KeyValuePair<string, string>("a", "1")]);
        reader.Errors.ShouldHaveSingleItem().ShouldBe("providers.p.extra.b: must be a string (got a list)");
    }
}
