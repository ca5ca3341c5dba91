using Koalja.Core.Contract;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Koalja.Core.Diagnostics;
using Koalja.Core.Source;

namespace Koalja.Tasks;

/// <summary>
/// Unpacks dropped code into a directory, treating every name in it as hostile: entries must be plain
/// files or directories with relative names that stay inside the directory (no <c>..</c>, no absolute
/// paths, no links or devices, no entry inside a file), and the number of entries and the unpacked size are bounded, so a zip bomb
/// stops early. The bytes written are counted, not the sizes an archive claims.
/// </summary>
public static class CodePackage
{
    /// <summary>The optional manifest at the top of an archive: <c>entrypoint: run.sh</c>.</summary>
    public const string ManifestName = "koalja.yaml";

    /// <summary>The name a single-file script gets in its directory (the sender's file name is never used as a path).</summary>
    public const string ScriptName = "script";

    /// <summary>
    /// What runs an entrypoint without a <c>#!</c> line, by its extension (a single script keeps the extension of the
    /// file name it was dropped with, as <c>script.py</c>); anything else runs with /bin/sh.
    /// </summary>
    private static readonly Dictionary<string, string> Interpreters = new(StringComparer.Ordinal)
    {
        [".py"] = "python3",
        [".rb"] = "ruby",
        [".pl"] = "perl",
        [".js"] = "node",
        [".R"] = "Rscript",
        [".r"] = "Rscript",
        [".sh"] = "/bin/sh",
    };

    /// <summary>The name a single script is kept under: <see cref="ScriptName"/> with its dropped file name's extension when one of <see cref="Interpreters"/> runs it.</summary>
    public static string? ScriptEntrypoint(string? fileName) =>
        Path.GetExtension(fileName ?? "") is { Length: > 0 } extension && Interpreters.ContainsKey(extension) ? ScriptName + extension : null;

    /// <summary>The command that runs <paramref name="entrypoint"/>: itself with a <c>#!</c> line, else its interpreter by extension, else /bin/sh.</summary>
    public static string[] Command(string entrypoint) =>
        HasShebang(entrypoint) ? [entrypoint] : [Interpreters.GetValueOrDefault(Path.GetExtension(entrypoint), "/bin/sh"), entrypoint];

    /// <summary>The most entries an archive may hold, files and directories alike (each costs an inode and a name, whatever its size).</summary>
    public const int MaxEntries = 10_000;
    public const long MaxUnpackedBytes = 1L << 30;
    private const int MaxPathLength = 1024;
    private const int MaxDepth = 32;

    private static readonly UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly UnixFileMode Plain = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Tells a zip or a gzip (tar.gz) from a script by the first bytes.</summary>
    public static CodeKind Detect(ReadOnlySpan<byte> head) =>
        head.StartsWith("PK\u0003\u0004"u8) ? CodeKind.Zip
        : head.Length >= 2 && head[0] == 0x1f && head[1] == 0x8b ? CodeKind.TarGz
        : CodeKind.Script;

    /// <summary>
    /// Unpacks <paramref name="file"/> into the empty directory <paramref name="target"/> and returns the
    /// entrypoint: <paramref name="requestedEntrypoint"/>, else the manifest's, for an archive.
    /// </summary>
    public static async Task<string> UnpackAsync(string file, CodeKind kind, string target, string? requestedEntrypoint, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(target);
        switch (kind)
        {
            case CodeKind.Script:
                var name = requestedEntrypoint ?? ScriptName;
                if (name != ScriptName && ScriptEntrypoint(name) != name)
                {
                    throw new CodePackageException("entrypoint names a file inside an archive; a single script is its own entrypoint");
                }

                await UnpackScriptAsync(file, Path.Combine(target, name), cancellationToken);
                return name;
            case CodeKind.Zip:
                await UnpackZipAsync(file, target, cancellationToken);
                break;
            default:
                await UnpackTarGzAsync(file, target, cancellationToken);
                break;
        }

        var entrypoint = requestedEntrypoint ?? ReadManifest(target)
            ?? throw new CodePackageException($"name the file to run: pass entrypoint=PATH, or put '{ManifestName}' with 'entrypoint: PATH' at the top of the archive");
        var relative = CheckName(entrypoint, "entrypoint");
        var path = Path.Combine(target, relative);
        if (!File.Exists(path))
        {
            var files = Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(target, f)).Where(f => f != ManifestName);
            throw new CodePackageException($"the entrypoint '{entrypoint}' is not a file in the archive{Suggestions.DidYouMean(relative, files) switch { null => "", var hint => "; " + hint }}");
        }

        SetMode(path, Executable);
        return relative;
    }

    /// <summary>Whether the file starts with <c>#!</c> (the kernel runs it with that interpreter), else /bin/sh runs it.</summary>
    public static bool HasShebang(string path)
    {
        Span<byte> head = stackalloc byte[2];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, 2, throwOnEndOfStream: false) == 2 && head.SequenceEqual("#!"u8);
    }

    private static async Task UnpackScriptAsync(string file, string path, CancellationToken cancellationToken)
    {
        var length = new FileInfo(file).Length;
        if (length == 0)
        {
            throw new CodePackageException("the script is empty");
        }

        var head = new byte[(int)Math.Min(length, 8192)];
        await using (var stream = File.OpenRead(file))
        {
            await stream.ReadExactlyAsync(head, cancellationToken);
        }

        if (head.AsSpan().Contains((byte)0))
        {
            throw new CodePackageException("this is neither a script nor a .zip or .tar.gz archive (it holds binary data); send a script with a #! line, or an archive with an entrypoint");
        }

        File.Copy(file, path);
        SetMode(path, Executable);
    }

    private static async Task UnpackZipAsync(string file, string target, CancellationToken cancellationToken)
    {
        ZipArchive archive;
        try
        {
            archive = await ZipFile.OpenReadAsync(file, cancellationToken);
        }
        catch (InvalidDataException e)
        {
            throw new CodePackageException($"the .zip archive cannot be read: {e.Message}");
        }

        using (archive)
        {
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try
            {
                entries = archive.Entries; // the central directory is read here, not when the archive is opened
            }
            catch (InvalidDataException e)
            {
                throw new CodePackageException($"the .zip archive cannot be read: {e.Message}");
            }

            var budget = new Budget();
            foreach (var entry in entries)
            {
                var mode = (entry.ExternalAttributes >> 16) & 0xF000;
                if (mode is not (0 or 0x8000 or 0x4000))
                {
                    throw new CodePackageException($"archive entry '{Printable(entry.FullName)}' is a {(mode == 0xA000 ? "symbolic link" : "special file")}; only files and directories are allowed");
                }

                var isDirectory = entry.FullName.EndsWith('/') || mode == 0x4000;
                var executable = ((entry.ExternalAttributes >> 16) & 0b001_001_001) != 0;
                try
                {
                    await using var content = isDirectory ? null : await entry.OpenAsync(cancellationToken);
                    await WriteEntryAsync(target, entry.FullName, isDirectory, executable, content, budget, cancellationToken);
                }
                catch (InvalidDataException e)
                {
                    throw new CodePackageException($"archive entry '{Printable(entry.FullName)}' cannot be read: {e.Message}");
                }
            }
        }
    }

    private static async Task UnpackTarGzAsync(string file, string target, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        await using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        await using var reader = new TarReader(gzip);
        var budget = new Budget();
        try
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                switch (entry.EntryType)
                {
                    case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                        await WriteEntryAsync(target, entry.Name, isDirectory: false, (entry.Mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0,
                            entry.DataStream ?? Stream.Null, budget, cancellationToken);
                        break;
                    case TarEntryType.Directory:
                        await WriteEntryAsync(target, entry.Name, isDirectory: true, executable: false, null, budget, cancellationToken);
                        break;
                    case TarEntryType.GlobalExtendedAttributes:
                        break;
                    default:
                        throw new CodePackageException($"archive entry '{Printable(entry.Name)}' is a {Describe(entry.EntryType)}; only files and directories are allowed");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new CodePackageException($"the .tar.gz archive cannot be read: {e.Message}");
        }
    }

    private static async Task WriteEntryAsync(string target, string name, bool isDirectory, bool executable, Stream? content, Budget budget, CancellationToken cancellationToken)
    {
        if (++budget.Entries > MaxEntries)
        {
            throw new CodePackageException($"the archive holds more than {MaxEntries:N0} entries (files and directories)");
        }

        var relative = CheckName(name, "archive entry");
        if (relative.Length == 0)
        {
            return; // "./"
        }

        var path = Path.Combine(target, relative);
        CreateParents(target, relative, name);
        if (isDirectory)
        {
            if (File.Exists(path))
            {
                throw new CodePackageException($"archive entry '{Printable(name)}' is a directory, but the archive also holds a file '{Printable(relative)}'");
            }

            Directory.CreateDirectory(path);
            return;
        }

        if (Directory.Exists(path))
        {
            throw new CodePackageException($"archive entry '{Printable(name)}' is a file, but the archive also holds a directory '{Printable(relative)}/'");
        }

        FileStream output;
        try
        {
            output = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new CodePackageException($"archive entry '{Printable(name)}' appears twice");
        }

        await using (output)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await content!.ReadAsync(buffer, cancellationToken)) > 0)
            {
                budget.Bytes += read;
                if (budget.Bytes > MaxUnpackedBytes)
                {
                    throw new CodePackageException($"the archive unpacks to more than {MaxUnpackedBytes / (1 << 20):N0} MiB");
                }

                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        SetMode(path, executable ? Executable : Plain);
    }

    /// <summary>Creates the directories an entry sits in; one the archive already holds as a file is refused (<c>x</c>, then <c>x/y</c>).</summary>
    private static void CreateParents(string target, string relative, string name)
    {
        var segments = relative.Split('/');
        var path = target;
        for (var i = 0; i < segments.Length - 1; i++)
        {
            path = Path.Combine(path, segments[i]);
            if (File.Exists(path))
            {
                throw new CodePackageException($"archive entry '{Printable(name)}' is inside '{Printable(string.Join('/', segments[..(i + 1)]))}', but the archive holds that as a file");
            }
        }

        Directory.CreateDirectory(path);
    }

    /// <summary>A relative path inside the code directory, from a name someone else chose; "" for the directory itself.</summary>
    internal static string CheckName(string name, string what)
    {
        if (name.Length > MaxPathLength)
        {
            throw new CodePackageException($"{what} name is longer than {MaxPathLength} characters");
        }

        if (name.StartsWith('/'))
        {
            throw new CodePackageException($"{what} '{Printable(name)}' is an absolute path; names must be relative");
        }

        var segments = new List<string>();
        foreach (var segment in name.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                throw new CodePackageException($"{what} '{Printable(name)}' leaves its directory ('..')");
            }

            if (segment.Any(c => char.IsControl(c) || c == '\\') || segment.Length > 255)
            {
                throw new CodePackageException($"{what} '{Printable(name)}' has a control character, a backslash or a name over 255 characters");
            }

            segments.Add(segment);
        }

        if (segments.Count > MaxDepth)
        {
            throw new CodePackageException($"{what} '{Printable(name)}' is nested deeper than {MaxDepth} directories");
        }

        return string.Join('/', segments);
    }

    /// <summary>The manifest's entrypoint; the manifest may sit at the top or inside the archive's single top directory.</summary>
    private static string? ReadManifest(string target)
    {
        var path = Path.Combine(target, ManifestName);
        var prefix = "";
        if (!File.Exists(path) && Directory.GetFileSystemEntries(target) is [var only] && Directory.Exists(only))
        {
            prefix = Path.GetFileName(only) + "/";
            path = Path.Combine(only, ManifestName);
        }

        if (!File.Exists(path))
        {
            return null;
        }

        if (new FileInfo(path).Length > 64 * 1024)
        {
            throw new CodePackageException($"{ManifestName} is larger than 64 KiB");
        }

        var read = YamlSourceReader.Read(File.ReadAllText(path, Encoding.UTF8), ManifestName);
        if (read.Diagnostics.FirstOrDefault(d => d.Severity == Severity.Error) is { } error)
        {
            throw new CodePackageException($"{ManifestName}: {error.Message} (line {error.Position.Line})");
        }

        if (read.Documents is not [{ Root: MappingNode root }])
        {
            throw new CodePackageException($"{ManifestName} must be one mapping, like 'entrypoint: run.sh'");
        }

        foreach (var entry in root.Entries.Where(e => e.Key.Value != "entrypoint"))
        {
            throw new CodePackageException($"{ManifestName}: unknown field '{entry.Key.Value}' (line {entry.Key.Position.Line}); the only field is 'entrypoint'");
        }

        return root["entrypoint"] is ScalarNode { IsNull: false } value
            ? prefix + value.Value
            : throw new CodePackageException($"{ManifestName} has no 'entrypoint: PATH'");
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static string Printable(string name)
    {
        var builder = new StringBuilder();
        foreach (var c in name.Length > 200 ? name[..200] + "…" : name)
        {
            builder.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        }

        return builder.ToString();
    }

    private static string Describe(TarEntryType type) => type switch
    {
        TarEntryType.SymbolicLink => "symbolic link",
        TarEntryType.HardLink => "hard link",
        TarEntryType.CharacterDevice or TarEntryType.BlockDevice => "device",
        TarEntryType.Fifo => "FIFO",
        _ => $"{type} entry",
    };

    private sealed class Budget
    {
        public int Entries { get; set; }

        public long Bytes { get; set; }
    }
}
