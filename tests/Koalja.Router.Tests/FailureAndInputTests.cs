using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Runtime;

namespace Koalja.Router.Tests;

public sealed class FailureAndInputTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("koalja-fail-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static string Pipeline(string script) => $$"""
        apiVersion: koalja.aljabr.io/v1alpha1
        kind: Pipeline
        metadata: {name: flaky}
        spec:
          tasks:
          - name: drop
            type: FileDrop
            outputs: [{name: file, typeRef: text}]
          - name: work
            inputs: [{name: in, typeRef: text}]
            outputs: [{name: out, typeRef: text}]
            executor:
              image: alpine
              command: ["/bin/sh", "-c", {{JsonSerializer.Serialize(script)}}]
          links: [{name: l, sourceRef: drop/file, destinationRef: work/in}]
          types: [{name: text, protocol: File, format: Text}]
        """;

    [Fact]
    public async Task AFailingCommandIsRetriedAndSucceeds()
    {
        var counter = Path.Combine(_scratch, "count");
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline(
            $"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; if [ $n -lt 3 ]; then echo \"attempt $n failed\" >&2; exit 1; fi; cp {{{{.inputs.in.path}}}} {{{{.outputs.out.path}}}}")));

        await server.DropAsync("flaky", "drop", "payload");
        var status = await server.WaitIdleAsync("flaky");

        var value = Assert.Single(await server.ValuesAsync("flaky", "work"));
        Assert.Equal("payload", await server.ContentAsync(value.GetProperty("id").GetString()!));
        var work = status.GetProperty("tasks")[1];
        Assert.Equal((2L, 1L, 0L), (work.GetProperty("failedAttempts").GetInt64(), work.GetProperty("succeeded").GetInt64(), work.GetProperty("deadLettered").GetInt64()));
        Assert.Equal(3, (await server.ValueAsync(value.GetProperty("id").GetString()!)).GetProperty("execution").GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task ACommandThatAlwaysFailsEndsInADeadLetterWithItsStderrAndOtherValuesKeepFlowing()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline(
            "if grep -q bad {{.inputs.in.path}}; then echo \"cannot handle: $(cat {{.inputs.in.path}})\" >&2; exit 7; fi; cp {{.inputs.in.path}} {{.outputs.out.path}}")));

        await server.DropAsync("flaky", "drop", "bad input");
        await server.DropAsync("flaky", "drop", "good input");
        await server.WaitIdleAsync("flaky");

        var good = Assert.Single(await server.ValuesAsync("flaky", "work"));
        Assert.Equal("good input", await server.ContentAsync(good.GetProperty("id").GetString()!));
        var dead = Assert.Single((await server.Http.GetFromJsonAsync<JsonElement>("api/pipelines/flaky/dead-letters")).EnumerateArray());
        Assert.Equal(("work", "exit code 7", 3), (dead.GetProperty("task").GetString(), dead.GetProperty("reason").GetString(), dead.GetProperty("attempts").GetInt32()));
        Assert.Equal("cannot handle: bad input", dead.GetProperty("stderrTail").GetString());
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("my notes (final).txt")]
    [InlineData("it's \"quoted\".txt")]
    [InlineData("a; rm -rf ~; b.txt")]
    [InlineData("$(touch pwned).txt")]
    public async Task HostileFileNamesNeverReachAShellOrAPath(string name)
    {
        var before = Directory.GetFileSystemEntries(_scratch).Length;
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}")));

        var drop = await server.DropAsync("flaky", "drop", "safe", fileName: name);
        await server.WaitIdleAsync("flaky");

        var value = Assert.Single(await server.ValuesAsync("flaky", "work"));
        Assert.Equal("safe", await server.ContentAsync(value.GetProperty("id").GetString()!));
        var kept = drop.GetProperty("sourceName").GetString()!;
        Assert.DoesNotContain('/', kept);
        Assert.Equal(Path.GetFileName(name.Replace("../", "", StringComparison.Ordinal)), kept);
        Assert.False(File.Exists(Path.Combine(server.Data, "work", "pwned).txt")));
        Assert.Equal(before, Directory.GetFileSystemEntries(_scratch).Length);
    }

    [Fact]
    public async Task MultipartFileNamesAreSanitisedToo()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}")));
        using var form = new MultipartFormDataContent
        {
            { new StringContent("one"), "file", "../../../tmp/one.txt" },
            { new StringContent("two"), "file", "two;reboot.txt" },
        };

        using var response = await server.Http.PostAsync("pipelines/flaky/drop", form);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var values = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToList();
        Assert.Equal(["one.txt", "two;reboot.txt"], values.Select(v => v.GetProperty("sourceName").GetString()));
        await server.WaitIdleAsync("flaky");
        Assert.Equal(2, (await server.ValuesAsync("flaky", "work")).Count);
    }

    [Fact]
    public async Task AnUploadOverTheLimitIsStreamedThenRefusedWith413AndLeavesNothing()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}")),
            new RuntimeOptions { MaxDropBytes = 64L << 20 });
        var before = Process.GetCurrentProcess().WorkingSet64;

        using var request = new HttpRequestMessage(HttpMethod.Post, "pipelines/flaky/drop") { Content = new StreamContent(new ZeroStream(200L << 20)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        HttpStatusCode status;
        try
        {
            using var response = await server.Http.SendAsync(request);
            status = response.StatusCode;
        }
        catch (HttpRequestException)
        {
            status = HttpStatusCode.RequestEntityTooLarge; // the server may close the connection while we still send
        }

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.True(Process.GetCurrentProcess().WorkingSet64 - before < 150L << 20, "memory grew with the upload");
        Assert.Empty(Directory.GetFiles(Path.Combine(server.Data, "blobs", "tmp")));
        Assert.Empty(await server.ValuesAsync("flaky", "drop"));
    }

    [Fact]
    public async Task ADeclaredLengthOverTheLimitIsRefusedAtOnce()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("true")), new RuntimeOptions { MaxDropBytes = 10 });

        using var response = await server.Http.PostAsync("pipelines/flaky/drop", new ByteArrayContent(new byte[11]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("pipelines/nope/drop", HttpStatusCode.NotFound)]
    [InlineData("pipelines/flaky/nope", HttpStatusCode.NotFound)]
    [InlineData("pipelines/flaky/work", HttpStatusCode.MethodNotAllowed)]
    public async Task DropsToWhatIsNotAFileDropAreRefusedWithAProblem(string path, HttpStatusCode expected)
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("true")));

        using var response = await server.Http.PostAsync(path, new StringContent("x"));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheSameIdempotencyKeyRecordsOneValue()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Load(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}")));

        var first = await server.DropAsync("flaky", "drop", "once", key: "k1");
        var second = await server.DropAsync("flaky", "drop", "once", key: "k1");
        await server.WaitIdleAsync("flaky");

        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Single(await server.ValuesAsync("flaky", "drop"));
        Assert.Single(await server.ValuesAsync("flaky", "work"));
    }

    /// <summary>A stream of zeros of a given length, without holding them.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
