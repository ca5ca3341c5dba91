using Koalja.Core.Contract;
using Koalja.Router.Registry;

namespace Koalja.Router.Runtime;

/// <summary>How code kinds are named in the registry and the API.</summary>
internal static class CodeKinds
{
    public const string Spec = "spec";

    public static string Name(CodeKind kind) => kind switch
    {
        CodeKind.Script => "script",
        CodeKind.Zip => "zip",
        _ => "tar.gz",
    };

    /// <summary>The dropped code a version record describes; null for the spec's own executor.</summary>
    public static TaskCode? ToTaskCode(CodeVersionRecord? record) => record switch
    {
        null or { Kind: Spec } => null,
        { Kind: "script" } => new TaskCode(record.Id, CodeKind.Script, record.Sha256!, record.Entrypoint!),
        { Kind: "zip" } => new TaskCode(record.Id, CodeKind.Zip, record.Sha256!, record.Entrypoint!),
        _ => new TaskCode(record.Id, CodeKind.TarGz, record.Sha256!, record.Entrypoint!),
    };
}
