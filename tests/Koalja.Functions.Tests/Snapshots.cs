using System.Net.Http.Headers;
using System.Text;
using Koalja.Core.Contract;
using Koalja.Core.Loading;
using Koalja.Storage;

namespace Koalja.Functions.Tests;

/// <summary>io.koalja.snapshot events for the task function: a task whose command is given, one input value put in the worker's store.</summary>
internal static class Snapshots
{
    /// <summary>The event of a snapshot of a task running <c>/bin/sh -c <paramref name="script"/></c>, as an HTTP body (structured mode).</summary>
    public static async Task<HttpContent> EventAsync(string storeRoot, string script, string snapshotId)
    {
        var spec = PipelineLoader.LoadText($$"""
            apiVersion: koalja.aljabr.io/v1alpha1
            kind: Pipeline
            metadata: {name: fn}
            spec:
              tasks:
              - {name: drop, type: FileDrop, outputs: [{name: file, typeRef: text}]}
              - name: run
                inputs: [{name: in, typeRef: text}]
                outputs: [{name: out, typeRef: text}]
                executor: {command: ["/bin/sh", "-c", "{{script}}"]}
              links: [{name: a, sourceRef: drop/file, destinationRef: run/in}]
              types: [{name: text, protocol: File, format: Text}]
            """, "fn.yaml").Pipelines[0].Pipeline!.Spec;
        var content = Encoding.UTF8.GetBytes("three\nlines\nhere\n");
        using var stream = new MemoryStream(content);
        var stored = await new LocalArtifactStore(storeRoot).PutAsync(stream);
        var invocation = new TaskInvocation("fn", spec, "run", "code-1", snapshotId, 1,
            [new InvocationInput("in", [new InvocationValue("value-1", stored.Sha256, stored.Size, "text/plain")])]) { Revision = "rev-1" };
        var message = SnapshotEvents.Encode(invocation);
        var body = new ByteArrayContent(message.Body.ToArray());
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(message.ContentType);
        return body;
    }
}
