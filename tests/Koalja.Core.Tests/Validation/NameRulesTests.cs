using Koalja.Core.Diagnostics;
using Koalja.Core.Loading;

namespace Koalja.Core.Tests.Validation;

/// <summary>
/// Names become Kubernetes label values, DNS labels, environment variable names, file names and
/// CloudEvent sources; port names become Kubernetes port names. These rules keep them usable there.
/// </summary>
public sealed class NameRulesTests
{
    [Theory]
    [InlineData("task", 63, true)]
    [InlineData("task", 64, false)]
    [InlineData("task", 20_000, false)]
    [InlineData("input", 63, true)]
    [InlineData("input", 64, false)]
    [InlineData("output", 63, true)]
    [InlineData("output", 64, false)]
    [InlineData("link", 63, true)]
    [InlineData("link", 64, false)]
    [InlineData("type", 63, true)]
    [InlineData("type", 20_000, false)]
    public void ANameIsAtMost63Characters(string slot, int length, bool valid)
    {
        var name = new string('a', length);

        var result = PipelineLoader.LoadText(Pipeline(slot, name), "names.yaml");

        if (valid)
        {
            Assert.Empty(result.Diagnostics);
            return;
        }

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticCodes.NameTooLong, Severity.Error), (error.Code, error.Severity));
        Assert.Equal($"Name '{name[..32]}…' is {length} characters; a name is at most 63 (it becomes a Kubernetes label value)", error.Message);
        Assert.EndsWith(".name", error.Path, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http", null)]
    [InlineData("grpc-web", null)]
    [InlineData("h2c", null)]
    [InlineData("8080-http", null)]
    [InlineData("a23456789012345", null)]
    [InlineData("a234567890123456", "Invalid port name 'a234567890123456': it is 16 characters; a port name is at most 15")]
    [InlineData("HTTP", "Invalid port name 'HTTP': a port name has only lower-case letters, digits and '-'")]
    [InlineData("http_api", "Invalid port name 'http_api': a port name has only lower-case letters, digits and '-'")]
    [InlineData("http.api", "Invalid port name 'http.api': a port name has only lower-case letters, digits and '-'")]
    [InlineData("8080", "Invalid port name '8080': a port name has at least one letter")]
    [InlineData("-http", "Invalid port name '-http': a port name does not start or end with '-'")]
    [InlineData("http-", "Invalid port name 'http-': a port name does not start or end with '-'")]
    [InlineData("http--api", "Invalid port name 'http--api': a port name does not contain '--'")]
    public void APortNameIsAnIanaServiceName(string name, string? message)
    {
        var result = PipelineLoader.LoadText(PipelineWithPort(name), "ports.yaml");

        if (message is null)
        {
            Assert.Empty(result.Diagnostics);
            return;
        }

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((DiagnosticCodes.InvalidPortName, Severity.Error, message), (error.Code, error.Severity, error.Message));
        Assert.Equal("spec.tasks[0].service.ports[0].name", error.Path);
    }

    [Theory]
    [InlineData("HTTP_API", "http-api")]
    [InlineData("Metrics.Endpoint", "metrics-endpoin")]
    [InlineData("web--ui-", "web-ui")]
    public void AnInvalidPortNameGetsAValidOneSuggested(string name, string suggestion)
    {
        var result = PipelineLoader.LoadText(PipelineWithPort(name), "ports.yaml");

        var error = Assert.Single(result.Diagnostics);
        Assert.EndsWith($"e.g. '{suggestion}'", error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyPortNameIsStillANameExpected()
    {
        var result = PipelineLoader.LoadText(PipelineWithPort(""), "ports.yaml");

        Assert.Equal(DiagnosticCodes.NameExpected, Assert.Single(result.Diagnostics).Code);
    }

    /// <summary>A valid pipeline with <paramref name="name"/> as the name in <paramref name="slot"/>, and every reference to it.</summary>
    private static string Pipeline(string slot, string name)
    {
        string N(string s, string fallback) => s == slot ? name : fallback;
        var (task, input, output, link, type) = (N("task", "count"), N("input", "lines"), N("output", "total"), N("link", "dropToCount"), N("type", "text"));
        return $"""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata:
              name: names
            spec:
              tasks:
              - name: drop
                type: FileDrop
                outputs:
                - name: file
                  typeRef: {type}
              - name: {task}
                inputs:
                - name: {input}
                  typeRef: {type}
                outputs:
                - name: {output}
                  typeRef: {type}
                executor:
                  image: alpine:latest
                  command: ["/bin/true"]
              links:
              - name: {link}
                sourceRef: drop/file
                destinationRef: {task}/{input}
              types:
              - name: {type}
                protocol: File
            """;
    }

    private static string PipelineWithPort(string name) => $"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata:
          name: ports
        spec:
          tasks:
          - name: serve
            outputs:
            - name: model
              typeRef: text
            service:
              ports:
              - name: "{name}"
                port: 8080
            executor:
              image: alpine:latest
              command: ["/bin/true"]
          types:
          - name: text
            protocol: File
        """;
}
