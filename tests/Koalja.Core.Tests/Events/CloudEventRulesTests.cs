using System.Text.Json;
using Koalja.Core.Events;

namespace Koalja.Core.Tests.Events;

public sealed class CloudEventRulesTests
{
    [Theory]
    [InlineData("id", true)]
    [InlineData("comexampleextension1", true)]
    [InlineData("a1", true)]
    [InlineData("ID", false)]
    [InlineData("my-ext", false)]
    [InlineData("my_ext", false)]
    [InlineData("", false)]
    [InlineData("é", false)]
    public void AttributeNamesAreLowerCaseLettersAndDigits(string name, bool valid) => Assert.Equal(valid, CloudEventRules.IsValidName(name));

    [Theory]
    [InlineData("2018-04-05T17:31:00Z", "2018-04-05T17:31:00.0000000+00:00")]
    [InlineData("2018-04-05t17:31:00.123456789z", "2018-04-05T17:31:00.1234567+00:00")]
    [InlineData("2018-04-05T19:31:00+02:00", "2018-04-05T19:31:00.0000000+02:00")]
    public void TimestampsAreRfc3339WithAnyFraction(string text, string expected)
    {
        Assert.True(CloudEventRules.TryParseTime(text, out var time));
        Assert.Equal(expected, time.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2018-04-05 17:31:00Z")]
    [InlineData("2018-04-05T17:31:00")]
    [InlineData("April 5th")]
    [InlineData("2018-13-05T17:31:00Z")]
    public void OtherTimesAreNot(string text) => Assert.False(CloudEventRules.TryParseTime(text, out _));

    [Fact]
    public void EveryViolationIsReportedWithItsAttribute()
    {
        var violations = CloudEventRules.Check(new Dictionary<string, string>
        {
            ["specversion"] = "1.0",
            ["Source"] = "/s",
            ["type"] = "",
            ["datacontenttype"] = "not a media type",
            ["subject"] = "line\nbreak",
        });

        Assert.Equal(["Source", "id", "source", "type", "datacontenttype", "subject"], violations.Select(v => v.Attribute));
    }

    [Fact]
    public void AJsonEventWithNullAttributesAndExtensionsOfEveryTypeIsValid()
    {
        var json = JsonDocument.Parse("""
            {"specversion": "1.0", "id": "1", "source": "urn:example:1", "type": "t", "subject": null, "flag": true, "count": -5, "name": "x",
             "datacontenttype": "text/xml", "data": "<a/>"}
            """).RootElement;

        Assert.Empty(CloudEventJson.Validate(json));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("application/json", true)]
    [InlineData("application/vnd.api+json; charset=utf-8", true)]
    [InlineData("text/json", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/jsonl", false)]
    public void JsonDataIsStarSlashJsonOrPlusJsonOrNoContentType(string? mediaType, bool json) => Assert.Equal(json, CloudEventJson.IsJson(mediaType));
}
