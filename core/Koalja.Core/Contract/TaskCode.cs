namespace Koalja.Core.Contract;

/// <summary>How dropped code was sent.</summary>
public enum CodeKind
{
    /// <summary>One file: a script with a <c>#!</c> line, or a shell script without one (run by /bin/sh).</summary>
    Script,

    /// <summary>A .zip archive.</summary>
    Zip,

    /// <summary>A gzip-compressed tar archive.</summary>
    TarGz,
}

/// <summary>
/// Dropped code that replaces a task's executor: the stored bytes (by content hash), how to unpack them,
/// and the file to run, relative to the unpacked directory.
/// </summary>
public sealed record TaskCode(string Version, CodeKind Kind, string Sha256, string Entrypoint);

/// <summary>Dropped code that cannot be used, with a message for the one who sent it.</summary>
public sealed class CodePackageException(string message) : Exception(message);
