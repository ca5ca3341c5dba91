using System.Text.Json.Nodes;

namespace Koalja.Operator.Tests.Fake;

/// <summary>An API error, answered as a metav1.Status object with its HTTP code, as kube-apiserver does.</summary>
internal sealed class KubeStatusException : Exception
{
    public KubeStatusException()
        : this(500, "InternalError", "internal error")
    {
    }

    public KubeStatusException(string message)
        : this(500, "InternalError", message)
    {
    }

    public KubeStatusException(string message, Exception inner)
        : base(message, inner)
    {
        Code = 500;
        Reason = "InternalError";
    }

    public KubeStatusException(int code, string reason, string message, JsonObject? details = null)
        : base(message)
    {
        Code = code;
        Reason = reason;
        Details = details;
    }

    public int Code { get; }

    public string Reason { get; }

    public JsonObject? Details { get; }

    public JsonObject ToStatus() => KubeStatus.Failure(Code, Reason, Message, Details?.DeepClone().AsObject());
}

/// <summary>Status objects and the errors the fake answers with, worded as kube-apiserver words them.</summary>
internal static class KubeStatus
{
    public static JsonObject Failure(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        status["code"] = code;
        return status;
    }

    public static JsonObject Success(FakeKubeApi.ResourceType type, string name, string? uid) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Success",
        ["details"] = Details(type, name, uid),
    };

    /// <summary>The reason kube-apiserver gives with an HTTP status code (metav1.StatusReason).</summary>
    public static string ReasonFor(int code) => code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };

    public static JsonObject Details(FakeKubeApi.ResourceType type, string name, string? uid = null)
    {
        var details = new JsonObject { ["name"] = name };
        if (type.Group.Length > 0)
        {
            details["group"] = type.Group;
        }

        details["kind"] = type.Plural;
        if (uid is not null)
        {
            details["uid"] = uid;
        }

        return details;
    }

    public static KubeStatusException NotFound(FakeKubeApi.ResourceType type, string name) =>
        new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found", Details(type, name));

    public static KubeStatusException AlreadyExists(FakeKubeApi.ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists", Details(type, name));

    public static KubeStatusException Conflict(FakeKubeApi.ResourceType type, string name, string why) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": {why}", Details(type, name));

    public static KubeStatusException Modified(FakeKubeApi.ResourceType type, string name) =>
        Conflict(type, name, "the object has been modified; please apply your changes to the latest version and try again");

    public static KubeStatusException BadRequest(string message) => new(400, "BadRequest", message);

    public static KubeStatusException Invalid(FakeKubeApi.ResourceType type, string name, string message) =>
        new(422, "Invalid", $"{type.Kind} \"{name}\" is invalid: {message}", Details(type, name));

    public static KubeStatusException PatchFailed(string message) => new(422, "Invalid", message);

    public static KubeStatusException NoSuchResource() => new(404, "NotFound", "the server could not find the requested resource");

    public static KubeStatusException MethodNotAllowed(string method) => new(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource ({method})");
}
