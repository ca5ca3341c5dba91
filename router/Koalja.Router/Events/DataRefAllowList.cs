using System.Net;
using System.Net.Sockets;

namespace Koalja.Router.Events;

/// <summary>
/// Which addresses a <c>dataref</c> may be fetched from: public ones, and those <see cref="Runtime.RuntimeOptions.DataRefAllow"/>
/// lists (CIDR ranges, single addresses, host names); never an address nothing can answer from (<see cref="Unfetchable"/>).
/// </summary>
internal sealed class DataRefAllowList
{
    /// <summary>Loopback, private, shared, link-local, unique-local, metadata, multicast and reserved ranges (<see cref="DataRefFetcher.IsForbidden"/>).</summary>
    internal static readonly IPNetwork[] NotPublic = Ranges(
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b:1::/48", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8");

    /// <summary>The unspecified address, multicast and broadcast: not fetched from even when a listed range covers them.</summary>
    internal static readonly IPNetwork[] Unfetchable = Ranges("0.0.0.0/32", "224.0.0.0/4", "255.255.255.255/32", "::/128", "ff00::/8");

    private readonly IPNetwork[] _ranges;
    private readonly HashSet<string> _hosts;

    private DataRefAllowList(IPNetwork[] ranges, HashSet<string> hosts)
    {
        _ranges = ranges;
        _hosts = hosts;
    }

    /// <exception cref="ArgumentException">An entry is not a range, an address or a host name (<see cref="Problem"/> says why).</exception>
    public static DataRefAllowList Parse(IEnumerable<string> entries)
    {
        var ranges = new List<IPNetwork>();
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in entries)
        {
            if (Problem(entry) is { } problem)
            {
                throw new ArgumentException(problem, nameof(entries));
            }

            if (AsRange(entry) is { } range)
            {
                ranges.Add(range);
            }
            else
            {
                hosts.Add(entry.Trim().TrimEnd('.'));
            }
        }

        return new DataRefAllowList([.. ranges], hosts);
    }

    /// <summary>Why <paramref name="entry"/> cannot be on the list, or null when it can.</summary>
    public static string? Problem(string entry) =>
        entry is null || AsRange(entry) is null && Uri.CheckHostName(entry.Trim().TrimEnd('.')) != UriHostNameType.Dns
            ? $"'{Api.ApiSecurity.Printable(entry ?? "")}' is neither a CIDR range with its host bits zero (10.0.0.0/8, fd00::/8), an IP address, nor a host name"
            : null;

    /// <summary>Whether <paramref name="address"/>, which <paramref name="host"/> (the URL's host) resolved to, may be fetched from.</summary>
    public bool Allows(string host, IPAddress address) =>
        !InAny(address, Unfetchable) && (!InAny(address, NotPublic) || InAny(address, _ranges) || _hosts.Contains(host.TrimEnd('.')));

    /// <summary>Whether a range holds the address, or the IPv4 address an IPv6 one carries.</summary>
    internal static bool InAny(IPAddress address, IPNetwork[] ranges)
    {
        var embedded = EmbeddedIPv4(address);
        return ranges.Any(r => r.Contains(address) || embedded is not null && r.Contains(embedded));
    }

    private static IPNetwork? AsRange(string entry)
    {
        entry = entry.Trim();
        if (IPAddress.TryParse(entry, out var address) && !entry.Contains('/', StringComparison.Ordinal))
        {
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        // 10.1.0.0/8 is refused, not read as 10.0.0.0/8: whoever wrote it meant something narrower.
        return entry.IndexOf('/', StringComparison.Ordinal) is > 0 and var slash && IPNetwork.TryParse(entry, out var range)
            && IPAddress.TryParse(entry[..slash], out var written) && written.Equals(range.BaseAddress) ? range : null;
    }

    private static IPNetwork[] Ranges(params string[] ranges) => [.. ranges.Select(r => IPNetwork.Parse(r))];

    /// <summary>The IPv4 address an IPv6 one carries: mapped (::ffff:0:0/96), compatible (::/96, not :: or ::1) or NAT64 (64:ff9b::/96).</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var b = address.GetAddressBytes();
        var nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0;
        var compatible = b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1);
        return nat64 || compatible ? new IPAddress(b.AsSpan(12, 4)) : null;
    }
}
