using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Koalja.Operator.Tests.Fake;

// The store: objects as JSON, one global resourceVersion counter, the event history watches replay, and the
// semantics of each verb. Every method here runs under _lock; stored objects are never modified in place (each
// write stores a new object), and what leaves the lock is a copy.
public sealed partial class FakeKubeApi
{
    private static readonly string[] SystemFields = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "selfLink", "managedFields"];

    private readonly Lock _lock = new();
    private readonly Dictionary<ObjectKey, JsonObject> _objects = [];
    private readonly List<StoredEvent> _history = [];
    private readonly List<WatchStream> _watches = [];
    private long _version = 100;
    private long _compacted;

    /// <summary>One write as watches see it: the object after it (the last state for DELETED), and before it.</summary>
    private sealed record StoredEvent(long Version, ObjectKey Key, string Type, JsonObject Object, JsonObject? Previous, string Json);

    private JsonObject GetObject(ObjectKey key) =>
        _objects.TryGetValue(key, out var obj) ? Copy(obj) : throw KubeStatus.NotFound(key.Type, key.Name);

    private JsonObject ListObjects(ResourceType type, string? ns, Selector selector)
    {
        var items = new JsonArray();
        string? kind = null;
        foreach (var obj in Matching(type, ns, selector))
        {
            kind ??= Str(obj["kind"]);
            items.Add(Copy(obj));
        }

        return new JsonObject
        {
            ["apiVersion"] = type.ApiVersion,
            ["kind"] = (kind ?? type.Kind) + "List",
            ["metadata"] = new JsonObject { ["resourceVersion"] = Version(_version) },
            ["items"] = items,
        };
    }

    /// <summary>The objects of a type in a namespace (all when null) a selector matches, in etcd's key order.</summary>
    private List<JsonObject> Matching(ResourceType type, string? ns, Selector selector) =>
        _objects.Where(kv => kv.Key.Type == type && (ns is null || kv.Key.Namespace == ns) && selector.Matches(kv.Value))
            .OrderBy(kv => kv.Key.Namespace, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal)
            .Select(kv => kv.Value)
            .ToList();

    /// <summary>POST: a new object (uid, creationTimestamp, generation 1, resourceVersion; status dropped unless <paramref name="direct"/>).</summary>
    private JsonObject CreateObject(ResourceType type, string ns, JsonObject body, bool dryRun, bool direct = false)
    {
        var obj = Normalize(body);
        var meta = Meta(obj);
        var requested = Str(meta["namespace"]);
        if (!string.IsNullOrEmpty(requested) && requested != ns && ns.Length > 0)
        {
            throw KubeStatus.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        if (!direct && !string.IsNullOrEmpty(Str(meta["resourceVersion"])))
        {
            throw new KubeStatusException(500, "InternalError", "resourceVersion should not be set on objects to be created");
        }

        var name = Str(meta["name"]);
        if (string.IsNullOrEmpty(name))
        {
            var prefix = Str(meta["generateName"]);
            if (string.IsNullOrEmpty(prefix))
            {
                throw KubeStatus.Invalid(type, "", "metadata.name: Required value: name or generateName is required");
            }

            do
            {
                name = prefix + RandomSuffix();
            }
            while (_objects.ContainsKey(new ObjectKey(type, ns, name)));
        }

        var key = new ObjectKey(type, ns, name);
        if (_objects.ContainsKey(key))
        {
            throw KubeStatus.AlreadyExists(type, name);
        }

        foreach (var field in SystemFields)
        {
            meta.Remove(field);
        }

        SetIdentity(obj, key);
        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = Now();
        meta["generation"] = 1;
        if (!direct)
        {
            obj.Remove("status");
            if (type.IsNamespaces)
            {
                obj["status"] = new JsonObject { ["phase"] = "Active" };
            }
        }

        var version = dryRun ? _version + 1 : ++_version;
        meta["resourceVersion"] = Version(version);
        obj = Normalize(obj);
        if (!dryRun)
        {
            _objects[key] = obj;
            Emit(key, "ADDED", obj, null, version);
        }

        return Copy(obj);
    }

    /// <summary>
    /// Every update ends here: the system fields stay as stored, a write that changes nothing is no write (no new
    /// resourceVersion, no event), generation counts changes outside metadata and status, and an object being deleted
    /// whose last finalizer went is removed.
    /// </summary>
    private JsonObject Commit(ObjectKey key, JsonObject existing, JsonObject proposed, bool dryRun)
    {
        var next = Normalize(proposed);
        var meta = Meta(next);
        var old = Meta(existing);
        foreach (var field in SystemFields)
        {
            if (old[field] is { } value)
            {
                meta[field] = value.DeepClone();
            }
            else
            {
                meta.Remove(field);
            }
        }

        SetIdentity(next, key);
        meta["resourceVersion"] = old["resourceVersion"]?.DeepClone();
        next = Normalize(next);
        if (JsonNode.DeepEquals(next, existing))
        {
            return Copy(existing);
        }

        meta = Meta(next);
        if (!SameOutsideMetadataAndStatus(next, existing))
        {
            meta["generation"] = Generation(existing) + 1;
        }

        var version = dryRun ? _version + 1 : ++_version;
        meta["resourceVersion"] = Version(version);
        next = Normalize(next);
        if (dryRun)
        {
            return Copy(next);
        }

        if (IsDeleting(next) && Finalizers(next) == 0)
        {
            _objects.Remove(key);
            Emit(key, "DELETED", next, existing, version);
            Removed(key, next, "Background");
        }
        else
        {
            _objects[key] = next;
            Emit(key, "MODIFIED", next, existing, version);
        }

        return Copy(next);
    }

    /// <summary>PUT: optimistic concurrency on metadata.resourceVersion; the main resource keeps its status, /status changes only status.</summary>
    private JsonObject ReplaceObject(ObjectKey key, string? subresource, JsonObject body, bool dryRun)
    {
        if (!_objects.TryGetValue(key, out var existing))
        {
            throw KubeStatus.NotFound(key.Type, key.Name);
        }

        var meta = body["metadata"] as JsonObject;
        var name = Str(meta?["name"]);
        if (!string.IsNullOrEmpty(name) && name != key.Name)
        {
            throw KubeStatus.BadRequest($"the name of the object ({name}) does not match the name on the URL ({key.Name})");
        }

        var version = Str(meta?["resourceVersion"]);
        if (string.IsNullOrEmpty(version))
        {
            if (!key.Type.BuiltIn)
            {
                throw KubeStatus.Invalid(key.Type, key.Name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update");
            }
        }
        else if (version != Str(existing["metadata"]?["resourceVersion"]))
        {
            throw KubeStatus.Modified(key.Type, key.Name);
        }

        return Commit(key, existing, subresource == "status" ? WithStatusOf(existing, body) : WithStatusOf(body, existing), dryRun);
    }

    /// <summary>PATCH with a merge, strategic merge (as merge) or JSON patch.</summary>
    private JsonObject PatchObject(ObjectKey key, string? subresource, string patchType, JsonNode patch, bool dryRun)
    {
        if (!_objects.TryGetValue(key, out var existing))
        {
            throw KubeStatus.NotFound(key.Type, key.Name);
        }

        var patched = patchType == JsonPatchType
            ? JsonPatching.JsonPatch(existing, patch as JsonArray ?? throw KubeStatus.BadRequest("json patch: the patch is not a JSON array"))
            : JsonPatching.MergePatch(existing, patch as JsonObject ?? throw KubeStatus.BadRequest("merge patch: the patch is not a JSON object"));
        if (patched is not JsonObject result)
        {
            throw KubeStatus.PatchFailed("the patched document is not an object");
        }

        var version = Str(result["metadata"]?["resourceVersion"]);
        if (!string.IsNullOrEmpty(version) && version != Str(existing["metadata"]?["resourceVersion"]))
        {
            throw KubeStatus.Modified(key.Type, key.Name);
        }

        return Commit(key, existing, subresource == "status" ? WithStatusOf(existing, result) : WithStatusOf(result, existing), dryRun);
    }

    /// <summary>
    /// Server-side apply, fake: creates the object when missing, otherwise merges the applied fields over the stored
    /// object (objects recursively, lists replaced). No field ownership: fields another manager set are kept, fields
    /// this manager stops applying are kept too, and there are no apply conflicts (force is accepted and ignored).
    /// </summary>
    private (int Code, JsonObject Body) ApplyObject(ObjectKey key, string? subresource, JsonObject applied, bool dryRun)
    {
        if (Str(applied["kind"]) is null || Str(applied["apiVersion"]) is null)
        {
            throw KubeStatus.BadRequest($"error decoding YAML: Object 'Kind' or 'apiVersion' is missing in '{applied.ToJsonString()}'");
        }

        var meta = applied["metadata"] as JsonObject;
        var name = Str(meta?["name"]);
        if (!string.IsNullOrEmpty(name) && name != key.Name)
        {
            throw KubeStatus.BadRequest($"the name of the object ({name}) does not match the name on the URL ({key.Name})");
        }

        var ns = Str(meta?["namespace"]);
        if (!string.IsNullOrEmpty(ns) && key.Namespace.Length > 0 && ns != key.Namespace)
        {
            throw KubeStatus.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var version = Str(meta?["resourceVersion"]);
        if (!_objects.TryGetValue(key, out var existing))
        {
            if (subresource is not null)
            {
                throw KubeStatus.NotFound(key.Type, key.Name);
            }

            if (!string.IsNullOrEmpty(version))
            {
                throw KubeStatus.Modified(key.Type, key.Name);
            }

            var body = applied.DeepClone().AsObject();
            Meta(body)["name"] = key.Name;
            return (201, CreateObject(key.Type, key.Namespace, body, dryRun));
        }

        if (!string.IsNullOrEmpty(version) && version != Str(existing["metadata"]?["resourceVersion"]))
        {
            throw KubeStatus.Modified(key.Type, key.Name);
        }

        JsonObject merged;
        if (subresource == "status")
        {
            merged = existing.DeepClone().AsObject();
            if (applied["status"] is { } status)
            {
                merged["status"] = JsonPatching.MergePatch(existing["status"], status);
            }
        }
        else
        {
            var fields = applied.DeepClone().AsObject();
            fields.Remove("status");
            if (fields["metadata"] is JsonObject m)
            {
                foreach (var field in SystemFields)
                {
                    m.Remove(field);
                }

                m.Remove("resourceVersion");
            }

            merged = (JsonObject)JsonPatching.MergePatch(existing, fields)!;
        }

        return (200, Commit(key, existing, merged, dryRun));
    }

    /// <summary>
    /// DELETE: with finalizers the object gets a deletionTimestamp and stays (MODIFIED) until they are gone; otherwise
    /// it goes (DELETED with its last state), then what it owns is garbage-collected unless the policy is Orphan.
    /// </summary>
    private (int Code, JsonObject Body) DeleteObject(ObjectKey key, JsonObject? options, string? policy, bool dryRun)
    {
        if (!_objects.TryGetValue(key, out var existing))
        {
            throw KubeStatus.NotFound(key.Type, key.Name);
        }

        var meta = Meta(existing);
        if (options?["preconditions"] is JsonObject preconditions)
        {
            if (Str(preconditions["uid"]) is { Length: > 0 } uid && uid != Str(meta["uid"]))
            {
                throw KubeStatus.Conflict(key.Type, key.Name, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {Str(meta["uid"])}");
            }

            if (Str(preconditions["resourceVersion"]) is { Length: > 0 } rv && rv != Str(meta["resourceVersion"]))
            {
                throw KubeStatus.Conflict(key.Type, key.Name, $"Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {Str(meta["resourceVersion"])}");
            }
        }

        policy = Str(options?["propagationPolicy"]) ?? policy;
        if (options?["orphanDependents"] is JsonValue orphan && orphan.GetValueKind() == JsonValueKind.True)
        {
            policy = "Orphan";
        }

        policy ??= "Background";
        if (dryRun)
        {
            return (200, Copy(existing));
        }

        if (policy == "Foreground" && GarbageCollection)
        {
            CollectDependents(Str(meta["uid"]));
        }

        if (Finalizers(existing) > 0)
        {
            if (IsDeleting(existing))
            {
                return (200, Copy(existing));
            }

            var deleting = existing.DeepClone().AsObject();
            Meta(deleting)["deletionTimestamp"] = Now();
            Meta(deleting)["deletionGracePeriodSeconds"] = 0;
            var next = ++_version;
            Meta(deleting)["resourceVersion"] = Version(next);
            deleting = Normalize(deleting);
            _objects[key] = deleting;
            Emit(key, "MODIFIED", deleting, existing, next);
            return (200, Copy(deleting));
        }

        var version = ++_version;
        var last = existing.DeepClone().AsObject();
        Meta(last)["resourceVersion"] = Version(version);
        last = Normalize(last);
        _objects.Remove(key);
        Emit(key, "DELETED", last, existing, version);
        Removed(key, last, policy);
        return (200, key.Type.BuiltIn ? KubeStatus.Success(key.Type, key.Name, Str(meta["uid"])) : Copy(last));
    }

    /// <summary>After an object left the store: a namespace takes its contents along; owned objects are collected.</summary>
    private void Removed(ObjectKey key, JsonObject last, string policy)
    {
        if (key.Type.IsNamespaces)
        {
            foreach (var inside in _objects.Keys.Where(k => k.Namespace == key.Name).ToList())
            {
                if (_objects.TryGetValue(inside, out var obj) && !IsDeleting(obj))
                {
                    DeleteObject(inside, null, "Background", dryRun: false);
                }
            }
        }

        if (GarbageCollection && policy != "Orphan")
        {
            CollectDependents(Str(last["metadata"]?["uid"]));
        }
    }

    /// <summary>
    /// kube-controller-manager's garbage collector, synchronous: an object whose owner references name
    /// <paramref name="uid"/> is deleted when none of its other owners exists; otherwise the dangling reference is
    /// removed. Deleting a dependent collects its own dependents in turn.
    /// </summary>
    private void CollectDependents(string? uid)
    {
        if (string.IsNullOrEmpty(uid))
        {
            return;
        }

        var dependents = _objects.Where(kv => OwnerUids(kv.Value).Contains(uid)).Select(kv => kv.Key).ToList();
        foreach (var key in dependents)
        {
            if (!_objects.TryGetValue(key, out var dependent))
            {
                continue;
            }

            var live = OwnerUids(dependent).Where(u => u != uid && _objects.Values.Any(o => Str(o["metadata"]?["uid"]) == u)).ToList();
            if (live.Count > 0)
            {
                var trimmed = dependent.DeepClone().AsObject();
                var references = (JsonArray)Meta(trimmed)["ownerReferences"]!;
                for (var i = references.Count - 1; i >= 0; i--)
                {
                    if (Str(references[i]?["uid"]) == uid)
                    {
                        references.RemoveAt(i);
                    }
                }

                Commit(key, dependent, trimmed, dryRun: false);
            }
            else if (!IsDeleting(dependent))
            {
                DeleteObject(key, null, "Background", dryRun: false);
            }
        }
    }

    /// <summary>Direct store write for arranging tests: creates or replaces (status included, no version check).</summary>
    private JsonObject PutObject(JsonObject obj, string plural)
    {
        var apiVersion = Str(obj["apiVersion"]) ?? throw new ArgumentException("the object needs an apiVersion", nameof(obj));
        var meta = obj["metadata"] as JsonObject ?? throw new ArgumentException("the object needs metadata", nameof(obj));
        var name = Str(meta["name"]) ?? throw new ArgumentException("the object needs metadata.name", nameof(obj));
        var key = new ObjectKey(ResourceType.FromApiVersion(apiVersion, plural), Str(meta["namespace"]) ?? "", name);
        return _objects.TryGetValue(key, out var existing)
            ? Commit(key, existing, obj, dryRun: false)
            : CreateObject(key.Type, key.Namespace, obj, dryRun: false, direct: true);
    }

    private void Emit(ObjectKey key, string type, JsonObject obj, JsonObject? previous, long version)
    {
        var stored = new StoredEvent(version, key, type, obj, previous, obj.ToJsonString());
        _history.Add(stored);
        if (_history.Count > HistoryLimit)
        {
            var drop = _history.Count - HistoryLimit;
            _compacted = _history[drop - 1].Version;
            _history.RemoveRange(0, drop);
        }

        foreach (var watch in _watches)
        {
            watch.Offer(stored);
        }
    }

    /// <summary><paramref name="target"/> (a copy) with the status of <paramref name="source"/>.</summary>
    private static JsonObject WithStatusOf(JsonObject target, JsonObject source)
    {
        var result = target.DeepClone().AsObject();
        if (source["status"] is { } status)
        {
            result["status"] = status.DeepClone();
        }
        else
        {
            result.Remove("status");
        }

        return result;
    }

    private static void SetIdentity(JsonObject obj, ObjectKey key)
    {
        if (Str(obj["apiVersion"]) is null)
        {
            obj["apiVersion"] = key.Type.ApiVersion;
        }

        if (Str(obj["kind"]) is null)
        {
            obj["kind"] = key.Type.Kind;
        }

        var meta = Meta(obj);
        meta["name"] = key.Name;
        if (key.Namespace.Length > 0)
        {
            meta["namespace"] = key.Namespace;
        }
        else
        {
            meta.Remove("namespace");
        }
    }

    private static bool SameOutsideMetadataAndStatus(JsonObject a, JsonObject b)
    {
        foreach (var name in a.Select(p => p.Key).Union(b.Select(p => p.Key)))
        {
            if (name is not ("metadata" or "status") && !JsonNode.DeepEquals(a[name], b[name]))
            {
                return false;
            }
        }

        return true;
    }

    private static JsonObject Meta(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject meta)
        {
            return meta;
        }

        meta = [];
        obj["metadata"] = meta;
        return meta;
    }

    private static long Generation(JsonObject obj) =>
        obj["metadata"]?["generation"] is JsonValue v && v.TryGetValue<long>(out var generation) ? generation : 0;

    private static bool IsDeleting(JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    private static int Finalizers(JsonObject obj) => obj["metadata"]?["finalizers"] is JsonArray finalizers ? finalizers.Count : 0;

    private static IEnumerable<string> OwnerUids(JsonObject obj) =>
        obj["metadata"]?["ownerReferences"] is JsonArray references
            ? references.Select(r => Str(r?["uid"])).OfType<string>()
            : [];

    internal static string? Str(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A copy in which every value is plain parsed JSON (so that deep comparisons compare like with like).</summary>
    private static JsonObject Normalize(JsonObject obj) => JsonNode.Parse(obj.ToJsonString())!.AsObject();

    private static JsonObject Copy(JsonObject obj) => obj.DeepClone().AsObject();

    private static string Version(long version) => version.ToString(CultureInfo.InvariantCulture);

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string RandomSuffix()
    {
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        return new string([.. Enumerable.Range(0, 5).Select(_ => alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)])]);
    }
}
