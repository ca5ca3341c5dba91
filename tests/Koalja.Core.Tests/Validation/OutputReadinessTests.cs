using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;

namespace Koalja.Core.Tests.Validation;

/// <summary>
/// <c>ready: Auto</c> means the task pushes values while it runs, which only built-in task types do;
/// a command's outputs are published when it exits 0 (<c>ready: Succeeded</c>).
/// </summary>
public sealed class OutputReadinessTests
{
    [Theory]
    [InlineData(null, true, "Auto", true)]
    [InlineData("MyTaskExecutor", true, "Auto", true)]
    [InlineData(null, true, "Succeeded", false)]
    [InlineData(null, true, null, false)]
    [InlineData("FileDrop", false, "Auto", false)]
    [InlineData("JSONQuery", false, "Auto", false)]
    [InlineData("FileSplit", true, "Auto", false)]
    [InlineData("REST", false, "Succeeded", false)]
    public void ReadyAutoOnACommandIsAWarning(string? type, bool executor, string? ready, bool warns)
    {
        var result = PipelineLoader.LoadText(Pipeline(type, executor, ready), "ready.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var warnings = result.Diagnostics.Where(d => d.Code == DiagnosticCodes.AutoReadinessOnCommand).ToList();
        if (!warns)
        {
            Assert.Empty(warnings);
            return;
        }

        var warning = Assert.Single(warnings);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Equal("spec.tasks[0].outputs[0].ready", warning.Path);
        Assert.Equal(
            "Output 'out' of task 'work' has ready: Auto, but a command's outputs are published when it exits 0, as ready: Succeeded; write ready: Succeeded, or leave ready out",
            warning.Message);
    }

    private static string Pipeline(string? type, bool executor, string? ready) => $"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata:
          name: ready
        spec:
          tasks:
          - name: work
            {(type is null ? "" : $"type: {type}")}
            outputs:
            - name: out
              typeRef: text
              {(ready is null ? "" : $"ready: {ready}")}
            {(executor ? "executor:\n      image: alpine:latest\n      command: [\"/bin/true\"]" : "")}
          types:
          - name: text
            protocol: File
        """;
}
