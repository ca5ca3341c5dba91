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
    [InlineData("::1", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.254", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::7f00:1", true)] // IPv4-compatible 127.0.0.1
    [InlineData("64:ff9b::7f00:1", true)] // NAT64 127.0.0.1
    [InlineData("10.1.2.3", true)]
    [InlineData("64:ff9b::a01:203", true)] // NAT64 10.1.2.3
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("::ffff:192.168.1.1", true)]
    [InlineData("100.64.0.1", true)] // CGNAT
    [InlineData("100.127.255.255", true)]
    [InlineData("fc00::1", true)] // unique-local
    [InlineData("fdff:ffff::1", true)]
    [InlineData("fec0::1", true)] // site-local
    [InlineData("64:ff9b:1::a01:203", true)] // local-use NAT64
    [InlineData("255.255.255.255", true)]
    [InlineData("100.128.0.1", false)]
    [InlineData("100.63.255.255", false)]
    [InlineData("172.15.255.255", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.169.0.1", false)]
    [InlineData("11.0.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("64:ff9b::808:808", false)] // NAT64 8.8.8.8
    [InlineData("2001:db8::1", false)]
    [InlineData("2606:4700::1111", false)]
    public void DatarefsAreNotFetchedFromLoopbackPrivateLinkLocalMetadataOrMulticastAddressesByDefault(string address, bool forbidden) =>
        Assert.Equal(forbidden, DataRefFetcher.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.0/8", "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", true)] // public anyway
    [InlineData("10.0.0.0/8", "192.168.1.1", false)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    [InlineData("fd00::/8", "fd12::1", true)]
    [InlineData("fd00::/8", "fc00::1", false)]
    [InlineData("minio.internal", "10.9.8.7", true)]
    [InlineData("MINIO.internal", "10.9.8.7", true)]
    [InlineData("other.internal", "10.9.8.7", false)]
    [InlineData("0.0.0.0/0", "10.9.8.7", true)]
    [InlineData("0.0.0.0/0", "0.0.0.0", false)] // nothing answers from there, allowed or not
    [InlineData("224.0.0.0/4", "224.0.0.1", false)]
    public void TheAllowListLetsDatarefsBeFetchedFromTheRangesAndHostsItNames(string entry, string address, bool allowed) =>
        Assert.Equal(allowed, DataRefAllowList.Parse([entry]).Allows(address == "10.9.8.7" ? "minio.internal" : address, IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.1.0.0/8")]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host")]
    [InlineData("")]
    [InlineData("http://minio/")]
    public void AnAllowListEntryThatIsNoRangeAddressOrHostIsRefusedNamingIt(string entry)
    {
        var problems = new Runtime.RuntimeOptions { DataRefAllow = [entry] }.Problems();

        Assert.Equal($"DataRefAllow (--dataref-allow) '{entry}' is neither a CIDR range with its host bits zero (10.0.0.0/8, fd00::/8), an IP address, nor a host name",
            Assert.Single(problems));
    }
}
