namespace Koalja.Tasks;

/// <summary>The media type of a value, from the <c>format</c> of its type (informational in the spec).</summary>
public static class MediaTypes
{
    public const string Default = "application/octet-stream";

    public static string ForFormat(string? format) => format?.ToUpperInvariant() switch
    {
        "TEXT" => "text/plain",
        "JSON" or "JSON-URL" => "application/json",
        "CSV" => "text/csv",
        "IMAGE" => "image/*",
        _ => Default,
    };
}
