using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary>Azure Functions' authorization levels, as Koalja's API uses them.</summary>
public enum AuthLevel
{
    /// <summary>No key (reading, on a loopback-only server).</summary>
    Anonymous,

    /// <summary>The function key, or the admin key: dropping data, and everything on a server reachable from other machines.</summary>
    Function,

    /// <summary>Only the admin key: dropping code, which is code execution by design.</summary>
    Admin,
}

/// <summary>Endpoint metadata: the level an endpoint needs at least, whatever the server's defaults.</summary>
public sealed record RequiredLevel(AuthLevel Level);

/// <summary>The server's keys, as <c>keys.json</c> in the data directory holds them.</summary>
public sealed record ApiKeys(string Admin, string Function)
{
    public static ApiKeys Create() => new(NewKey(), NewKey());

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Who may call the API, and from where.</summary>
public sealed record ApiSecurityOptions(ApiKeys Keys, bool LoopbackOnly, IReadOnlySet<string> AllowedHosts);

/// <summary>
/// Checks every request before its endpoint runs:
/// <list type="bullet">
/// <item>the <c>Host</c> must be one of the server's own names (localhost, its addresses, configured
/// hosts), so a web page cannot reach it through a DNS name it controls (DNS rebinding);</item>
/// <item>a state-changing request that carries an <c>Origin</c> must come from the server's own origin,
/// so a web page cannot make the user's browser drop data or code (CSRF); curl sends no Origin;</item>
/// <item>keys follow Azure Functions: <c>x-functions-key</c> header or <c>code</c> query parameter; the
/// admin key for code, the function key (or admin) for data, none for reading on a loopback-only server.</item>
/// </list>
/// </summary>
public static class ApiSecurity
{
    public const string KeyHeader = "x-functions-key";

    public static WebApplication UseKoaljaSecurity(this WebApplication app, ApiSecurityOptions options)
    {
        app.UseRouting();
        app.Use(async (http, next) =>
        {
            if (Check(http, options) is { } refusal)
            {
                await refusal.ExecuteAsync(http);
                return;
            }

            await next(http);
        });
        return app;
    }

    private static IResult? Check(HttpContext http, ApiSecurityOptions options)
    {
        var request = http.Request;
        var host = request.Host.Host.Trim('[', ']').ToLowerInvariant();
        if (!options.AllowedHosts.Contains(host))
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Unknown host",
                $"This server does not answer to '{Printable(request.Host.Host)}' (a guard against DNS rebinding): use localhost or an address of this machine, or start koalja up with --allow-host NAME.");
        }

        var unsafeMethod = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        if (unsafeMethod && ForeignOrigin(request, options) is { } origin)
        {
            return Problems.Status(StatusCodes.Status403Forbidden, "Cross-site request refused",
                $"A request from the web page at '{Printable(origin)}' may not change anything here (a guard against CSRF). Call the API from a script or the command line.");
        }

        var level = http.GetEndpoint()?.Metadata.GetMetadata<RequiredLevel>()?.Level
            ?? (options.LoopbackOnly ? AuthLevel.Anonymous : AuthLevel.Function);
        if (level == AuthLevel.Anonymous)
        {
            return null;
        }

        var key = request.Headers[KeyHeader].ToString();
        if (key.Length == 0)
        {
            key = request.Query["code"].ToString();
        }

        var what = level == AuthLevel.Admin ? "the admin key" : "a function key";
        if (key.Length == 0)
        {
            return Problems.Status(StatusCodes.Status401Unauthorized, $"This needs {what}",
                $"Pass it in the {KeyHeader} header or the 'code' query parameter; koalja up writes the keys to keys.json in its data directory, and the koalja CLI sends them itself.");
        }

        var isAdmin = Same(key, options.Keys.Admin);
        if (!isAdmin && !Same(key, options.Keys.Function))
        {
            return Problems.Status(StatusCodes.Status401Unauthorized, "The key is not valid", $"This needs {what}; the key sent is neither this server's admin nor its function key.");
        }

        return level == AuthLevel.Admin && !isAdmin
            ? Problems.Status(StatusCodes.Status403Forbidden, "This needs the admin key",
                "The function key drops data; dropping or activating code runs code on this server, so it needs the admin key.")
            : null;
    }

    /// <summary>The Origin of a request from a web page of another origin than this server's; null when same-origin or absent.</summary>
    private static string? ForeignOrigin(HttpRequest request, ApiSecurityOptions options)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return request.Headers["Sec-Fetch-Site"].ToString() == "cross-site" ? "(cross-site)" : null;
        }

        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            return origin; // "null" (a sandboxed or file page) or garbage
        }

        var ownPort = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        var sameHost = options.AllowedHosts.Contains(uri.Host.Trim('[', ']').ToLowerInvariant());
        return sameHost && uri.Port == ownPort && uri.Scheme == request.Scheme ? null : origin;
    }

    private static bool Same(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));

    /// <summary>Untrusted text quoted in a message: at most 200 characters, control characters as ?.</summary>
    internal static string Printable(string text) => new(text.Take(200).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
