using System.Text;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;

namespace Koalja.Core.Tests.Spec;

/// <summary>Bad input never crashes the loader: each gets one clear error.</summary>
public sealed class RobustnessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-robust-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Case names only: xunit serializes theory rows into each test case, so large contents are built in the test.</summary>
    public static TheoryData<string, string> BadFiles() => new()
    {
        { "empty.yaml", DiagnosticCodes.EmptyFile },
        { "blank.yaml", DiagnosticCodes.EmptyFile },
        { "comments.yaml", DiagnosticCodes.NoPipeline },
        { "garbage.bin", DiagnosticCodes.NotText },
        { "nul.yaml", DiagnosticCodes.NotText },
        { "syntax.yaml", DiagnosticCodes.SyntaxError },
        { "syntax.json", DiagnosticCodes.SyntaxError },
        { "tab.yaml", DiagnosticCodes.SyntaxError },
        { "kind.yaml", DiagnosticCodes.UnknownKind },
        { "deployment.yaml", DiagnosticCodes.NoPipeline },
        { "scalar.yaml", DiagnosticCodes.DocumentNotMapping },
        { "huge.yaml", DiagnosticCodes.FileTooLarge },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadInputGetsOneClearError(string name, string code)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, ContentOf(name));

        var result = PipelineLoader.LoadFile(path);

        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Errors);
        Assert.Equal(code, error.Code);
        Assert.Equal(path, error.File);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    internal static byte[] ContentOf(string name) => name switch
    {
        "empty.yaml" => [],
        "blank.yaml" => "  \n\t\n"u8.ToArray(),
        "comments.yaml" => "# only a comment\n"u8.ToArray(),
        "garbage.bin" => Garbage(4096),
        "nul.yaml" => "apiVersion: v1\0kind: x"u8.ToArray(),
        "syntax.yaml" => "spec:\n  tasks: [\n    - a\n  b: c\n"u8.ToArray(),
        "syntax.json" => "{\"apiVersion\": \"koalja.aljabr.io/v1alpha1\",, }"u8.ToArray(),
        "tab.yaml" => "spec:\n\ttasks: []\n"u8.ToArray(),
        "kind.yaml" => "apiVersion: koalja.aljabr.io/v1alpha1\nkind: Task\nmetadata: {name: x}\n"u8.ToArray(),
        "deployment.yaml" => "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"u8.ToArray(),
        "scalar.yaml" => "just text\n"u8.ToArray(),
        "huge.yaml" => Huge(10 * 1024 * 1024),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Fact]
    public void AMissingFileIsAnError()
    {
        var result = PipelineLoader.LoadFile(Path.Combine(_dir, "nope.yaml"));

        Assert.Equal(DiagnosticCodes.FileUnreadable, Assert.Single(result.Errors).Code);
    }

    [Fact]
    public void ADirectoryIsAnError()
    {
        var result = PipelineLoader.LoadFile(_dir);

        Assert.Equal(DiagnosticCodes.FileUnreadable, Assert.Single(result.Errors).Code);
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(42);
        for (var i = 0; i < 300; i++)
        {
            var bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            // Mix in YAML punctuation so the parser gets past the first byte.
            var text = Encoding.Latin1.GetString(bytes).Replace('\0', ':');
            var result = PipelineLoader.LoadText(text, "random.yaml");
            Assert.NotEmpty(result.Diagnostics);
        }
    }

    private static byte[] Garbage(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        bytes[0] = 0xFF; // never valid UTF-8 at the start
        bytes[1] = 0x00;
        return bytes;
    }

    private static byte[] Huge(int length)
    {
        var line = "# padding padding padding padding padding padding padding padding\n"u8.ToArray();
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = line[i % line.Length];
        }

        return bytes;
    }
}
