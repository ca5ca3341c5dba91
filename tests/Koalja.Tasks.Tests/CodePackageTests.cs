using Koalja.Core.Contract;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Koalja.Storage;

namespace Koalja.Tasks.Tests;

/// <summary>Dropped code is unpacked from real archives, and hostile archives are refused before anything lands outside.</summary>
public sealed class CodePackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-code-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(new byte[] { 0x50, 0x4b, 3, 4 }, CodeKind.Zip)]
    [InlineData(new byte[] { 0x1f, 0x8b, 8, 0 }, CodeKind.TarGz)]
    [InlineData(new byte[] { (byte)'#', (byte)'!', (byte)'/', (byte)'b' }, CodeKind.Script)]
    [InlineData(new byte[] { (byte)'e', (byte)'c' }, CodeKind.Script)]
    public void KindsAreToldByTheirFirstBytes(byte[] head, CodeKind kind) => Assert.Equal(kind, CodePackage.Detect(head));

    [Fact]
    public async Task AScriptIsItsOwnEntrypointAndIsExecutable()
    {
        var entry = await UnpackAsync(Write("s.sh", "#!/bin/sh\necho hi\n"), CodeKind.Script, null);

        Assert.Equal(CodePackage.ScriptName, entry);
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(Path.Combine(_dir, "out", entry)).HasFlag(UnixFileMode.UserExecute));
        Assert.True(CodePackage.HasShebang(Path.Combine(_dir, "out", entry)));
    }

    [Fact]
    public async Task ATarGzFindsItsEntrypointInKoaljaYamlEvenUnderOneTopDirectory()
    {
        var archive = TarGz(("proj/koalja.yaml", "entrypoint: bin/run.sh\n"), ("proj/bin/run.sh", "#!/bin/sh\n"), ("proj/lib/util.sh", "x=1\n"));

        var entry = await UnpackAsync(archive, CodeKind.TarGz, null);

        Assert.Equal("proj/bin/run.sh", entry);
        Assert.True(File.Exists(Path.Combine(_dir, "out", "proj", "lib", "util.sh")));
    }

    [Fact]
    public async Task AZipTakesTheEntrypointFromTheRequest()
    {
        var entry = await UnpackAsync(Zip(("run.py", "#!/usr/bin/env python3\n"), ("data/x.txt", "1")), CodeKind.Zip, "./run.py");

        Assert.Equal("run.py", entry);
    }

    public static TheoryData<string, string> HostileNames => new()
    {
        { "../evil.sh", "leaves its directory" },
        { "a/../../evil.sh", "leaves its directory" },
        { "/etc/evil.sh", "absolute path" },
        { "a\\..\\evil.sh", "backslash" },
        { "bad\u0001name", "control character" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task EntriesThatWouldLandOutsideAreRefused(string name, string message)
    {
        foreach (var (archive, kind) in new[] { (TarGz((name, "x"), ("run.sh", "#!/bin/sh\n")), CodeKind.TarGz), (Zip((name, "x"), ("run.sh", "#!/bin/sh\n")), CodeKind.Zip) })
        {
            var error = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(archive, kind, "run.sh"));
            Assert.Contains(message, error.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(_dir, "evil.sh")));
        Assert.False(File.Exists("/etc/evil.sh"));
    }

    [Fact]
    public async Task LinksAndDevicesAreRefused()
    {
        var path = Path.Combine(_dir, "link.tar.gz");
        await using (var file = File.Create(path))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var tar = new TarWriter(gzip))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "passwd") { LinkName = "/etc/passwd" });
        }

        var error = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(path, CodeKind.TarGz, "passwd"));
        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZipBombStopsAtTheUnpackedLimitAndTheDeclaredSizesAreNotTrusted()
    {
        var path = Path.Combine(_dir, "bomb.zip");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            await using var entry = await zip.CreateEntry("zeros", CompressionLevel.SmallestSize).OpenAsync();
            var block = new byte[1 << 20];
            for (var i = 0; i < (CodePackage.MaxUnpackedBytes >> 20) + 1; i++)
            {
                await entry.WriteAsync(block);
            }
        }

        Assert.True(new FileInfo(path).Length < 4 << 20);
        var error = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(path, CodeKind.Zip, "zeros"));
        Assert.Contains("unpacks to more than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheEntrypointMustBeNamedAndExist()
    {
        var archive = TarGz(("run.sh", "#!/bin/sh\n"));

        var none = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(archive, CodeKind.TarGz, null));
        Assert.Contains("entrypoint", none.Message, StringComparison.Ordinal);
        Directory.Delete(Path.Combine(_dir, "out"), recursive: true);
        var wrong = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(archive, CodeKind.TarGz, "rum.sh"));
        Assert.Contains("did you mean 'run.sh'", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadManifestSaysWhatIsWrong()
    {
        var error = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(TarGz(("koalja.yaml", "entrypont: run.sh\n"), ("run.sh", "x")), CodeKind.TarGz, null));

        Assert.Contains("unknown field 'entrypont'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryThatIsNoArchiveIsRefused()
    {
        var path = Path.Combine(_dir, "blob");
        await File.WriteAllBytesAsync(path, [0x7f, (byte)'E', (byte)'L', (byte)'F', 0, 0, 1]);

        var error = await Assert.ThrowsAsync<CodePackageException>(() => UnpackAsync(path, CodeKind.Script, null));
        Assert.Contains("binary", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheRebuildsAVersionFromTheStoreOnAnotherMachine()
    {
        var store = new LocalArtifactStore(Path.Combine(_dir, "blobs"));
        await using var content = File.OpenRead(TarGz(("koalja.yaml", "entrypoint: run.sh"), ("run.sh", "#!/bin/sh\n")));
        var stored = await store.PutAsync(content);
        var code = await new CodeCache(Path.Combine(_dir, "cache1"), store).InstallAsync("abc123", CodeKind.TarGz, stored.Sha256, null, CancellationToken.None);

        var directory = await new CodeCache(Path.Combine(_dir, "cache2"), store).DirectoryOfAsync(code, CancellationToken.None);

        Assert.Equal("run.sh", code.Entrypoint);
        Assert.True(File.Exists(Path.Combine(directory, "run.sh")));
        Assert.StartsWith(Path.Combine(_dir, "cache2"), directory, StringComparison.Ordinal);
    }

    private Task<string> UnpackAsync(string file, CodeKind kind, string? entrypoint) =>
        CodePackage.UnpackAsync(file, kind, Path.Combine(_dir, "out"), entrypoint, CancellationToken.None);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    private string TarGz(params (string Name, string Content)[] entries)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.tar.gz");
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip);
        foreach (var (name, content) in entries)
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
        }

        return path;
    }

    private string Zip(params (string Name, string Content)[] entries)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.zip");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, content) in entries)
        {
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(Encoding.UTF8.GetBytes(content));
        }

        return path;
    }
}
