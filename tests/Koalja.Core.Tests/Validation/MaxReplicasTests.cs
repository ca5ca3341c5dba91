using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;
using Koalja.Core.Spec;

namespace Koalja.Core.Tests.Validation;

/// <summary>A task's <c>maxReplicas</c>: bound as an integer, 1 to 10000, and only meaningful on a task with inputs.</summary>
public sealed class MaxReplicasTests
{
    [Theory]
    [InlineData("1", 1L)]
    [InlineData("3", 3L)]
    [InlineData("10000", 10_000L)]
    public void AValueInRangeIsBoundAndKept(string value, long expected)
    {
        var result = PipelineLoader.LoadText(Pipeline(value), "max.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        var task = result.Pipelines[0].Pipeline.Spec.TaskByName("count")!;
        Assert.Equal(expected, task.MaxReplicas);
        Assert.Contains($"\"maxReplicas\":{expected}", PipelineSpecJson.SerializeTask(task), StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutTheFieldThereIsNoValueAndTheJsonHasNone()
    {
        var result = PipelineLoader.LoadText(Pipeline(null), "max.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var task = result.Pipelines[0].Pipeline.Spec.TaskByName("count")!;
        Assert.Null(task.MaxReplicas);
        Assert.DoesNotContain("maxReplicas", PipelineSpecJson.SerializeTask(task), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("10001")]
    public void AValueOutOfRangeIsAnErrorAtTheField(string value)
    {
        var result = PipelineLoader.LoadText(Pipeline(value), "max.yaml");

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticCodes.MaxReplicasOutOfRange, Severity.Error), (error.Code, error.Severity));
        Assert.Equal("spec.tasks[1].maxReplicas", error.Path);
        Assert.Equal($"MaxReplicas out of range: {value}", error.Message);
        Assert.Contains("1 to 10000", error.Hint, StringComparison.Ordinal);
        Assert.Equal(14, error.Position.Line);
    }

    [Fact]
    public void AStringIsNotAnInteger()
    {
        var result = PipelineLoader.LoadText(Pipeline("\"3\""), "max.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal(DiagnosticCodes.NotAnInteger, error.Code);
        Assert.Equal("spec.tasks[1].maxReplicas", error.Path);
        Assert.Equal("remove the quotes", error.Hint);
    }

    [Fact]
    public void OnATaskWithoutInputsItIsAWarningThatItHasNoEffect()
    {
        var text = Pipeline(null).Replace("    type: FileDrop\n", "    type: FileDrop\n    maxReplicas: 4\n", StringComparison.Ordinal);

        var result = PipelineLoader.LoadText(text, "max.yaml");

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticCodes.MaxReplicasWithoutInputs, Severity.Warning), (warning.Code, warning.Severity));
        Assert.Equal("spec.tasks[0].maxReplicas", warning.Path);
        Assert.Contains("has no effect", warning.Message, StringComparison.Ordinal);
    }

    private static string Pipeline(string? maxReplicas) => $"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata:
          name: max
        spec:
          tasks:
          - name: drop
            type: FileDrop
            outputs:
            - name: file
              typeRef: text
              ready: Auto
          - name: count
            {(maxReplicas is null ? "" : $"maxReplicas: {maxReplicas}")}
            inputs:
            - name: lines
              typeRef: text
            outputs:
            - name: total
              typeRef: text
            executor:
              image: alpine:latest
              command: ["/bin/sh", "-c", "true"]
          links:
          - name: dropToCount
            sourceRef: drop/file
            destinationRef: count/lines
          types:
          - name: text
            protocol: File
        """;
}
