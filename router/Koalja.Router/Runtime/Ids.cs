using System.Security.Cryptography;
using System.Text;

namespace Koalja.Router.Runtime;

/// <summary>Identifiers: 32 hex digits, derived (a hash of their parts) where they must be idempotent.</summary>
internal static class Ids
{
    /// <summary>SHA-256 of the parts (each followed by a NUL), first 16 bytes in hex.</summary>
    public static string Hash(params string[] parts)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Join('\0', parts) + "\0");
        return Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 16));
    }

    /// <summary>A new, time-ordered id for a value that has no natural key (a drop without an idempotency key).</summary>
    public static string New() => Guid.CreateVersion7().ToString("N");

    public static string ProducedValue(string snapshotId, string output, int index) =>
        Hash("value", snapshotId, output, index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static string Execution(string snapshotId, int attempt) =>
        Hash("execution", snapshotId, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Dropped code: the same bytes and entrypoint dropped onto the same task spec are the same version.</summary>
    public static string DroppedCode(string baseVersion, string kind, string sha256, string? entrypoint) => Hash("dropped-code", baseVersion, kind, sha256, entrypoint ?? "");

    public static string Drop(string pipeline, string task, string idempotencyKey) => Hash("drop", pipeline, task, idempotencyKey);

    /// <summary>A value that came in as a CloudEvent: (source, id) names the event once per pipeline.</summary>
    public static string Event(string pipeline, string source, string id) => Hash("event", pipeline, source, id);
}
