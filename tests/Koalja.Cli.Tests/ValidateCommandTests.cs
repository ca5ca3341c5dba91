using System.Text.Json;

namespace Koalja.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    private const string Valid = """
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata:
          name: tiny
        spec:
          tasks:
          - name: drop
            type: FileDrop
            outputs:
            - name: file
              typeRef: text
          types:
          - name: text
            protocol: File
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AValidFilePrintsOkAndExitsZero()
    {
        var file = Write("tiny.yaml", Valid);

        var (exitCode, output, _) = await CliRunner.RunAsync("validate", file);

        Assert.Equal(0, exitCode);
        Assert.Equal($"{file}: ok", output.Trim());
    }

    [Fact]
    public async Task ErrorsArePrintedLikeACompilerWithTheSourceLineAndAHint()
    {
        var file = Write("bad.yaml", Valid.Replace("typeRef: text", "typeRef: txet", StringComparison.Ordinal));

        var (exitCode, output, _) = await CliRunner.RunAsync("validate", file);

        Assert.Equal(1, exitCode);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Equal($"{file}:11:16: error KJ0215: TypeRef 'txet' not found (spec.tasks[0].outputs[0].typeRef)", lines[0]);
        Assert.Equal("11 |       typeRef: txet", lines[1]);
        Assert.Equal("|                ^", lines[2]);
        Assert.Equal("hint: did you mean 'text'?", lines[3]);
        Assert.Equal($"{file}: 1 error", lines[4]);
    }

    [Fact]
    public async Task SeveralFilesAreAllCheckedAndSummarised()
    {
        var good = Write("good.yaml", Valid);
        var bad = Write("bad.yaml", Valid.Replace("name: drop", "name: 9drop", StringComparison.Ordinal));

        var (exitCode, output, _) = await CliRunner.RunAsync("validate", good, bad);

        Assert.Equal(1, exitCode);
        Assert.Contains($"{good}: ok", output, StringComparison.Ordinal);
        Assert.Contains($"{bad}: 1 error", output, StringComparison.Ordinal);
        Assert.EndsWith("2 files: 1 ok, 1 with errors", output.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonFormatGivesMachineReadableFindings()
    {
        var file = Write("bad.yaml", Valid.Replace("protocol: File", "protocol: Http", StringComparison.Ordinal));

        var (exitCode, output, _) = await CliRunner.RunAsync("validate", "--format", "json", file);

        Assert.Equal(1, exitCode);
        using var json = JsonDocument.Parse(output);
        var report = json.RootElement[0];
        Assert.False(report.GetProperty("ok").GetBoolean());
        var diagnostic = report.GetProperty("diagnostics")[0];
        Assert.Equal("KJ0310", diagnostic.GetProperty("code").GetString());
        Assert.Equal(14, diagnostic.GetProperty("line").GetInt32());
        Assert.Equal("spec.types[0].protocol", diagnostic.GetProperty("path").GetString());
    }

    /// <summary>Case names only: xunit serializes theory rows into each test case, so large contents are built in the test.</summary>
    public static TheoryData<string, string> BadFiles() => new()
    {
        { "empty.yaml", "KJ0003" },
        { "garbage.yaml", "KJ0004" },
        { "syntax.yaml", "KJ0002" },
        { "kind.yaml", "KJ0014" },
        { "huge.yaml", "KJ0005" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task BadFilesGetAClearErrorAndExitOne(string name, string code)
    {
        var file = Path.Combine(_dir, name);
        byte[] content = name switch
        {
            "empty.yaml" => [],
            "garbage.yaml" => [0xFF, 0xFE, 0x00, 0x81, 0x00, 0x12, 0xC3],
            "syntax.yaml" => "a: [b\n"u8.ToArray(),
            "kind.yaml" => "apiVersion: koalja.aljabr.io/v1alpha1\nkind: Pipelines\n"u8.ToArray(),
            _ => new byte[10 * 1024 * 1024],
        };
        File.WriteAllBytes(file, content);

        var (exitCode, output, error) = await CliRunner.RunAsync("validate", file);

        Assert.Equal(1, exitCode);
        Assert.Empty(error);
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(file)}:\\d+:\\d+: error {code}: .+", output);
        Assert.Contains($"{file}: 1 error", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoFileIsAUsageError()
    {
        var (exitCode, _, error) = await CliRunner.RunAsync("validate");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Required argument missing", error, StringComparison.OrdinalIgnoreCase);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}
