using System.Collections;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using YamlDotNet.Serialization;

namespace Koalja.Operator.Tests.Fake;

/// <summary>
/// An in-process fake Kubernetes API server for tests: Kestrel on a free loopback port speaking the real REST and
/// watch protocol (so a real <see cref="k8s.Kubernetes"/> client talks to it), storing any resource as JSON, with
/// the semantics an operator relies on (resourceVersion and conflicts, generation, status subresource, patches,
/// server-side apply, finalizers, owner-reference garbage collection, watches with history and 410 Expired) and
/// fault injection (<see cref="FailNext"/>, <see cref="DropWatches"/>, <see cref="Compact"/>).
/// </summary>
/// <remarks>
/// URL shapes: <c>/api/v1/namespaces/{ns}/{plural}[/{name}[/status]]</c>, <c>/api/v1/{plural}[/{name}[/status]]</c>
/// (cluster-scoped, or every namespace when listing), <c>/api/v1/namespaces[/{name}]</c>, and the same under
/// <c>/apis/{group}/{version}</c>. Any plural is accepted without discovery; kind and apiVersion come from the
/// request body (or from the URL when the body has none).
/// </remarks>
public sealed partial class FakeKubeApi : IAsyncDisposable
{
    private const string MergePatchType = "application/merge-patch+json";
    private const string JsonPatchType = "application/json-patch+json";
    private const string StrategicMergePatchType = "application/strategic-merge-patch+json";
    private const string ApplyPatchType = "application/apply-patch+yaml";

    private readonly WebApplication _app;
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<Failure> _failures = [];
    private bool _disposed;

    private FakeKubeApi(WebApplication app) => _app = app;

    /// <summary>Where the fake listens, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Whether deleting an object deletes what names it in metadata.ownerReferences (recursively), as kube-controller-manager's garbage collector does.</summary>
    public bool GarbageCollection { get; set; } = true;

    /// <summary>How many events the history keeps for watches to resume from; older ones are compacted away (410 Expired).</summary>
    public int HistoryLimit { get; set; } = 10_000;

    /// <summary>Every request answered so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>How many watch streams are open.</summary>
    public int OpenWatches
    {
        get
        {
            lock (_lock)
            {
                return _watches.Count;
            }
        }
    }

    /// <summary>The current (latest) resourceVersion.</summary>
    public string ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return Version(_version);
            }
        }
    }

    public static async Task<FakeKubeApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        var fake = new FakeKubeApi(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUri = new Uri(address);
        return fake;
    }

    /// <summary>A client of this fake (a new one each call; dispose it).</summary>
    public Kubernetes Client() => new(new KubernetesClientConfiguration { Host = BaseUri.ToString() });

    /// <summary>Forgets the event history: a watch from any resourceVersion handed out before now gets 410 Expired.</summary>
    /// <remarks>
    /// The resourceVersion moves on by one, as it always does on a real cluster where something is always written, so
    /// that even the latest version a client saw is too old; a list made after this gives a version to watch from.
    /// </remarks>
    public void Compact()
    {
        lock (_lock)
        {
            _compacted = ++_version;
            _history.Clear();
        }
    }

    /// <summary>Ends every open watch stream abruptly (the connection is reset mid-stream, without the last chunk).</summary>
    public void DropWatches()
    {
        List<WatchStream> open;
        lock (_lock)
        {
            open = [.. _watches];
            _watches.Clear();
        }

        foreach (var stream in open)
        {
            stream.Drop();
        }
    }

    /// <summary>
    /// The next <paramref name="times"/> requests with this method and plural answer with a Status of
    /// <paramref name="statusCode"/> (reason from the code unless given) instead of being served.
    /// </summary>
    /// <param name="method">
    /// An HTTP method (GET, POST, PUT, PATCH, DELETE; GET matches get, list and watch) or a Kubernetes verb (get, list,
    /// watch, create, update, patch, delete, deletecollection), case-insensitive, or <c>*</c>.
    /// </param>
    /// <param name="plural">A resource's plural (matches its subresources too), <c>plural/status</c> for the subresource only, or <c>*</c>.</param>
    public void FailNext(string method, string plural, int statusCode, int times = 1, string? reason = null)
    {
        lock (_lock)
        {
            _failures.Add(new Failure(method, plural, statusCode, reason ?? KubeStatus.ReasonFor(statusCode)) { Remaining = times });
        }
    }

    public void ClearRequests()
    {
        lock (_lock)
        {
            _requests.Clear();
        }
    }

    /// <summary>An object as stored (a copy), by plural whatever its group; null when there is none.</summary>
    /// <param name="ns">The namespace, "" for cluster-scoped objects.</param>
    public JsonObject? Get(string plural, string ns, string name)
    {
        lock (_lock)
        {
            foreach (var (key, obj) in _objects)
            {
                if (key.Type.Plural == plural && key.Namespace == ns && key.Name == name)
                {
                    return Copy(obj);
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Writes an object directly (its group and version from apiVersion, namespace from metadata): created when
    /// missing, else replaced with its status and without a version check; watches see ADDED or MODIFIED (nothing
    /// when it changes nothing). Returns the stored object.
    /// </summary>
    public JsonObject Put(JsonObject obj, string plural)
    {
        lock (_lock)
        {
            return PutObject(obj, plural);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        lock (_lock)
        {
            foreach (var stream in _watches)
            {
                stream.End();
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    private sealed class Failure(string method, string plural, int code, string reason)
    {
        public int Remaining { get; set; }

        public int Code => code;

        public string Reason => reason;

        public bool Matches(string httpMethod, string verb, Route route) =>
            (method == "*" || string.Equals(method, httpMethod, StringComparison.OrdinalIgnoreCase) || string.Equals(method, verb, StringComparison.OrdinalIgnoreCase))
            && (plural == "*" || plural == route.Type.Plural || (route.Subresource is not null && plural == $"{route.Type.Plural}/{route.Subresource}"));
    }

    /// <summary>A resource URL: its type, namespace (null when the URL has none), object name and subresource.</summary>
    private sealed record Route(ResourceType Type, string? Namespace, string? Name, string? Subresource)
    {
        public ObjectKey Key => new(Type, Namespace ?? "", Name!);

        public static Route? Parse(string path)
        {
            var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
            string group, version;
            string[] rest;
            if (segments is ["api", var v, ..])
            {
                (group, version, rest) = ("", v, segments[2..]);
            }
            else if (segments is ["apis", var g, var v2, ..])
            {
                (group, version, rest) = (g, v2, segments[3..]);
            }
            else
            {
                return null;
            }

            if (rest.Any(s => s.Length == 0))
            {
                return null;
            }

            ResourceType Type(string plural) => new(group, version, plural);
            var core = group.Length == 0;
            return rest switch
            {
                ["namespaces"] when core => new Route(Type("namespaces"), null, null, null),
                ["namespaces", var name] when core => new Route(Type("namespaces"), null, name, null),
                ["namespaces", var name, "status" or "finalize"] when core => new Route(Type("namespaces"), null, name, rest[2]),
                ["namespaces", var ns, var plural] => new Route(Type(plural), ns, null, null),
                ["namespaces", var ns, var plural, var name] => new Route(Type(plural), ns, name, null),
                ["namespaces", var ns, var plural, var name, var sub] => new Route(Type(plural), ns, name, sub),
                ["namespaces", ..] => null,
                [var plural] => new Route(Type(plural), null, null, null),
                [var plural, var name] => new Route(Type(plural), null, name, null),
                [var plural, var name, var sub] => new Route(Type(plural), null, name, sub),
                _ => null,
            };
        }
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(http.RequestAborted);
        }

        var path = request.Path.Value ?? "/";
        var route = Route.Parse(path);
        var watch = request.Method == "GET" && route is not null && IsTrue(request.Query["watch"]);
        var verb = route is null ? "" : Verb(request.Method, route, watch);
        var recorded = new RecordedRequest(request.Method, verb, path, request.QueryString.Value?.TrimStart('?') ?? "", request.ContentType, body, 0);
        int code;
        JsonNode answer;
        try
        {
            if (route is null)
            {
                (code, answer) = NonResource(path);
            }
            else
            {
                TakeFailure(request.Method, verb, route);
                if (route.Subresource is not null and not "status")
                {
                    throw KubeStatus.NoSuchResource();
                }

                if (watch)
                {
                    await WatchAsync(http, route, recorded);
                    return;
                }

                (code, answer) = Serve(http.Request, route, body);
            }
        }
        catch (KubeStatusException e)
        {
            (code, answer) = (e.Code, e.ToStatus());
            if (code == 429)
            {
                http.Response.Headers.RetryAfter = "1";
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && !http.Response.HasStarted)
        {
            // a bug in the fake: answered as kube-apiserver answers a panic, with what went wrong
            (code, answer) = (500, KubeStatus.Failure(500, "InternalError", $"the fake API server failed: {e}"));
        }

        Record(recorded with { StatusCode = code });
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(answer.ToJsonString(), http.RequestAborted);
    }

    private (int Code, JsonNode Body) Serve(HttpRequest request, Route route, string body)
    {
        var query = request.Query;
        var dryRun = !string.IsNullOrEmpty(query["dryRun"]);
        switch (request.Method)
        {
            case "GET" when route.Name is null:
            {
                var selector = Selector.Parse(query["labelSelector"], query["fieldSelector"]);
                lock (_lock)
                {
                    return (200, ListObjects(route.Type, route.Namespace, selector));
                }
            }

            case "GET":
                lock (_lock)
                {
                    return (200, GetObject(route.Key));
                }

            case "POST" when route.Name is null:
            {
                var obj = ParseObject(body, request.ContentType);
                lock (_lock)
                {
                    return (201, CreateObject(route.Type, route.Namespace ?? "", obj, dryRun));
                }
            }

            case "PUT" when route.Name is not null:
            {
                var obj = ParseObject(body, request.ContentType);
                lock (_lock)
                {
                    return (200, ReplaceObject(route.Key, route.Subresource, obj, dryRun));
                }
            }

            case "PATCH" when route.Name is not null:
                return Patch(request, route, body, dryRun);

            case "DELETE" when route.Name is not null:
            {
                var options = body.Trim().Length == 0 ? null : ParseObject(body, request.ContentType);
                lock (_lock)
                {
                    return DeleteObject(route.Key, options, query["propagationPolicy"], dryRun);
                }
            }

            case "DELETE":
            {
                var selector = Selector.Parse(query["labelSelector"], query["fieldSelector"]);
                lock (_lock)
                {
                    foreach (var obj in Matching(route.Type, route.Namespace, selector))
                    {
                        var meta = obj["metadata"]!;
                        var key = new ObjectKey(route.Type, Str(meta["namespace"]) ?? "", Str(meta["name"])!);
                        if (_objects.ContainsKey(key))
                        {
                            DeleteObject(key, null, query["propagationPolicy"], dryRun);
                        }
                    }

                    return (200, new JsonObject { ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success" });
                }
            }

            default:
                throw KubeStatus.MethodNotAllowed(request.Method);
        }
    }

    private (int Code, JsonNode Body) Patch(HttpRequest request, Route route, string body, bool dryRun)
    {
        var mediaType = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        switch (mediaType)
        {
            case ApplyPatchType:
            {
                if (string.IsNullOrEmpty(request.Query["fieldManager"]))
                {
                    throw KubeStatus.BadRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
                }

                var applied = ParseObject(body, mediaType);
                lock (_lock)
                {
                    return ApplyObject(route.Key, route.Subresource, applied, dryRun);
                }
            }

            case MergePatchType or StrategicMergePatchType or JsonPatchType:
            {
                JsonNode patch;
                try
                {
                    patch = JsonNode.Parse(body) ?? throw KubeStatus.BadRequest("the patch is null");
                }
                catch (JsonException e)
                {
                    throw KubeStatus.BadRequest($"error decoding patch: {e.Message}");
                }

                lock (_lock)
                {
                    return (200, PatchObject(route.Key, route.Subresource, mediaType == JsonPatchType ? JsonPatchType : MergePatchType, patch, dryRun));
                }
            }

            default:
                throw new KubeStatusException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {JsonPatchType}, {MergePatchType}, {ApplyPatchType}, {StrategicMergePatchType}");
        }
    }

    private static (int Code, JsonNode Body) NonResource(string path) => path.TrimEnd('/') switch
    {
        "/version" => (200, new JsonObject { ["major"] = "1", ["minor"] = "30", ["gitVersion"] = "v1.30.0-fake", ["platform"] = "linux/amd64" }),
        "/healthz" or "/readyz" or "/livez" => (200, JsonValue.Create("ok")),
        "/api" => (200, new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1") }),
        "/apis" => (200, new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JsonArray() }),
        _ => throw KubeStatus.NoSuchResource(),
    };

    private void TakeFailure(string method, string verb, Route route)
    {
        lock (_lock)
        {
            var failure = _failures.Find(f => f.Remaining > 0 && f.Matches(method, verb, route));
            if (failure is null)
            {
                return;
            }

            if (--failure.Remaining == 0)
            {
                _failures.Remove(failure);
            }

            var name = route.Name ?? "";
            throw new KubeStatusException(failure.Code, failure.Reason, $"injected failure: {failure.Code} {failure.Reason} for {method} {route.Type.GroupResource} \"{name}\"",
                KubeStatus.Details(route.Type, name));
        }
    }

    private void Record(RecordedRequest request)
    {
        lock (_lock)
        {
            _requests.Add(request);
        }
    }

    private static string Verb(string method, Route route, bool watch) => method switch
    {
        "GET" when watch => "watch",
        "GET" => route.Name is null ? "list" : "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => route.Name is null ? "deletecollection" : "delete",
        _ => method.ToLowerInvariant(),
    };

    private static bool IsTrue(string? value) => value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>A request body as a JSON object; YAML is accepted too (for apply and application/yaml bodies).</summary>
    private static JsonObject ParseObject(string body, string? contentType)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject ?? throw KubeStatus.BadRequest("the body is not a JSON object");
        }
        catch (JsonException) when (contentType?.Contains("yaml", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                var value = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build().Deserialize<object>(body);
                return FromYaml(value) as JsonObject ?? throw KubeStatus.BadRequest("the body is not a YAML mapping");
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw KubeStatus.BadRequest($"error decoding YAML: {e.Message}");
            }
        }
        catch (JsonException e)
        {
            throw KubeStatus.BadRequest($"error decoding the body: {e.Message}");
        }
    }

    private static JsonNode? FromYaml(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        decimal m => JsonValue.Create(m),
        IDictionary map => new JsonObject(map.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, FromYaml(map[k])))),
        IEnumerable list => new JsonArray([.. list.Cast<object?>().Select(FromYaml)]),
        _ => JsonValue.Create(value.ToString()),
    };
}
