using Shouldly;
using VmPooler.Core.Inventory;
using Xunit;

namespace VmPooler.Tests.Core.Inventory;

public class VmTimeTests
{
    [Fact]
    public void Parse_FormattedTime_SameInstant()
    {
        var time = new DateTimeOffset(2026, 11, 21, 3, 41, 55, TimeSpan.FromHours(2)).AddTicks(1234567);

        VmTime.Parse(VmTime.Format(time)).ShouldBe(time);
    }

    [Theory]
    [InlineData("2024-01-01 10:00:00 +0000", "2024-01-01T10:00:00+00:00")]
    [InlineData("2024-01-01 12:00:00 +0200", "2024-01-01T10:00:00+00:00")]
    [InlineData("2024-01-01 10:00:00", "2024-01-01T10:00:00+00:00")]
    [InlineData("2024-01-01T10:00:00Z", "2024-01-01T10:00:00+00:00")]
    public void Parse_OtherForms_ReadAsBefore(string value, string expected)
    {
        VmTime.Parse(value).ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("yesterday")]
    public void Parse_NotATime_Null(string? value)
    {
        VmTime.Parse(value).ShouldBeNull();
    }
}
