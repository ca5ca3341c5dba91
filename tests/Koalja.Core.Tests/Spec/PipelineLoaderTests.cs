using System.Text;
using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Source;

namespace Koalja.Core.Tests.Spec;

public sealed class PipelineLoaderTests
{
    private const string Minimal = """
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata:
          name: minimal
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

    [Fact]
    public void AFileWithFiveDifferentMistakesReportsAllFive()
    {
        var result = PipelineLoader.LoadFile(TestData.Dir("loading", "five-mistakes.yaml"));

        var errors = result.Errors.Select(e => $"{e.Code} {e.Position}").ToList();
        Assert.Equal(
        [
            "KJ0221 12:14", // ready: Automatic
            "KJ0215 17:16", // typeRef: singleTxtFile
            "KJ0214 19:14", // slide 3 > required 2
            "KJ0100 25:7",  // comand
            "KJ0304 29:21", // countLine
        ], errors);
    }

    [Fact]
    public void JsonIsReadWithLineAndColumnOfEveryField()
    {
        var result = PipelineLoader.LoadFile(TestData.Dir("loading", "linecount.json"));

        var error = Assert.Single(result.Errors);
        Assert.Equal(DiagnosticCodes.TypeRefNotFound, error.Code);
        Assert.Equal(new SourcePosition(10, 51), error.Position);
        Assert.Equal("spec.tasks[1].inputs[0].typeRef", error.Path);
        Assert.Equal("did you mean 'text'?", error.Hint);
        Assert.Equal(2, result.Pipelines[0].Pipeline.Spec.Tasks[1].Inputs[0].MinLength);
    }

    [Fact]
    public void SeveralYamlDocumentsGiveSeveralPipelinesAndSkipOtherKinds()
    {
        var text = $"{Minimal}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n---\n{Minimal.Replace("name: minimal", "name: second", StringComparison.Ordinal)}\n---\n";

        var result = PipelineLoader.LoadText(text, "multi.yaml");

        Assert.True(result.Succeeded);
        Assert.Equal(["minimal", "second"], result.Pipelines.Select(p => p.Pipeline.Name));
        Assert.Equal([0, 2], result.Pipelines.Select(p => p.DocumentIndex));
        var note = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticCodes.OtherDocumentSkipped, Severity.Note), (note.Code, note.Severity));
    }

    [Fact]
    public void AKubernetesListAndAJsonArrayAreReadItemByItem()
    {
        var json = """[{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"koalja.aljabr.io/v1alpha1","kind":"Pipeline","metadata":{"name":"a"},"spec":{"tasks":[{"name":"t","type":"FileDrop","outputs":[{"name":"o","typeRef":"x"}]}],"types":[{"name":"x","protocol":"File"}]}}]}]""";

        var result = PipelineLoader.LoadText(json, "list.json");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal("a", Assert.Single(result.Pipelines).Pipeline.Name);
    }

    [Fact]
    public void ConcatenatedJsonObjectsAreSeveralDocuments()
    {
        var one = """{"apiVersion":"koalja.aljabr.io/v1alpha1","kind":"Pipeline","metadata":{"name":"NAME"},"spec":{"tasks":[{"name":"t","type":"FileDrop","outputs":[{"name":"o","typeRef":"x"}]}],"types":[{"name":"x","protocol":"File"}]}}""";

        var result = PipelineLoader.LoadText(one.Replace("NAME", "a", StringComparison.Ordinal) + "\n" + one.Replace("NAME", "b", StringComparison.Ordinal), "two.json");

        Assert.Equal(["a", "b"], result.Pipelines.Select(p => p.Pipeline.Name));
    }

    [Fact]
    public void Utf16WithByteOrderMarkIsRead()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(Minimal)).ToArray();

        var source = SourceFileReader.ReadBytes(bytes, "windows.yaml");

        Assert.Empty(source.Diagnostics);
        Assert.Single(source.Documents);
    }

    [Fact]
    public void NestingDeeperThanTheLimitIsRefused()
    {
        var deep = new string('[', 500) + new string(']', 500);

        var yaml = PipelineLoader.LoadText("a: " + deep, "deep.yaml");
        var json = PipelineLoader.LoadText(deep, "deep.json");

        Assert.Contains(yaml.Errors, e => e.Code == DiagnosticCodes.DocumentTooComplex);
        Assert.Contains(json.Errors, e => e.Code == DiagnosticCodes.SyntaxError);
    }

    [Fact]
    public void NullAndEmptyListsMeanNoItems()
    {
        var result = PipelineLoader.LoadText(Minimal + "\n  links:\n", "nulls.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Pipelines[0].Pipeline.Spec.Links);
    }

    [Fact]
    public void ContainerFieldsKoaljaDoesNotUseAreKeptForTheCluster()
    {
        var text = Minimal.Replace("    type: FileDrop\n", "    type: FileDrop\n    executor:\n      image: busybox\n      resources:\n        limits: {cpu: 500m}\n      env:\n      - name: MODE\n        value: fast\n", StringComparison.Ordinal);

        var result = PipelineLoader.LoadText(text, "container.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var executor = result.Pipelines[0].Pipeline.Spec.Tasks[0].Executor!;
        Assert.Equal("500m", executor.OtherFields["resources"].GetProperty("limits").GetProperty("cpu").GetString());
        Assert.Equal(("MODE", "fast"), (executor.Env[0].Name, executor.Env[0].Value));
    }

    [Fact]
    public void ATyposInApiVersionIsCaughtForKindPipeline()
    {
        var result = PipelineLoader.LoadText(Minimal.Replace("koalja.aljabr.io", "koalja.aljbar.io", StringComparison.Ordinal), "typo.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal(DiagnosticCodes.UnsupportedApiVersion, error.Code);
        Assert.Equal("did you mean 'koalja.aljabr.io/v1alpha1'?", error.Hint);
    }
}
