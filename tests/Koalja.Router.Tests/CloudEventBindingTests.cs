using Koalja.Core.Events;
using System.Net;
using Koalja.Router.Events;

namespace Koalja.Router.Tests;

public sealed class CloudEventBindingTests
{
    [Theory]
    [InlineData("Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀")] // the HTTP binding's own example
    [InlineData("%e2%82%ac", "€")]
    [InlineData("plain", "plain")]
    [InlineData("\"quoted \\\"value\\\"\"", "quoted \"value\"")]
    [InlineData("%41%42", "AB")]
    public void HeaderValuesArePercentDecoded(string header, string expected) => Assert.Equal(expected, CloudEventBinding.DecodeHeaderValue(header));

    [Theory]
    [InlineData("%C0%A0")] // overlong encoding of a space: must be rejected
    [InlineData("%E2%82")] // truncated sequence
    [InlineData("%zz")]
    [InlineData("100%")]
    public void InvalidPercentEncodingIsRefused(string header) => Assert.Null(CloudEventBinding.DecodeHeaderValue(header));

    [Theory]
    [InlineData("169.254.169.254", true)]
    [InlineData("fe80::1", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::ffff:169.254.1.1", true)]
    [InlineData("::a9fe:a9fe", true)] // IPv4-compatible 169.254.169.254
    [InlineData("64:ff9b::a9fe:a9fe", true)] // NAT64 169.254.169.254
    [InlineData("fd00:ec2::254", true)] // AWS IMDS over IPv6
    [InlineData("100.100.100.200", true)] // Alibaba Cloud metadata
    [InlineData("192.0.0.192", true)] // Oracle Cloud metadata
    [InlineData("::", true)]
    [InlineData("::1", false)]
    [InlineData("64:ff9b::a01:203", false)] // NAT64 10.1.2.3
    [InlineData("100.100.100.201", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("2001:db8::1", false)]
    public void DatarefsAreNeverFetchedFromLinkLocalMulticastOrUnspecifiedAddresses(string address, bool forbidden) =>
        Assert.Equal(forbidden, DataRefFetcher.IsForbidden(IPAddress.Parse(address)));
}
