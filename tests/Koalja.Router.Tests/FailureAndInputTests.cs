using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Runtime;
using Koalja.Tasks.Sandboxing;

namespace Koalja.Router.Tests;

/// <summary>
/// Retries, dead letters and hostile names, with commands that keep what they saw in files outside their working
/// directory: unsandboxed, since the sandbox lets no execution leave anything for the next (SandboxTests).
/// </summary>
public sealed class FailureAndInputTests : IDisposable
{
    private readonly string _scratch = Directory.CreateTempSubdirectory("koalja-fail-").FullName;

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    private static Core.Spec.Pipeline Pipeline(string script) => KoaljaTestServer.OneCommand("flaky", script);

    [Fact]
    public async Task AFailingCommandIsRetriedAndSucceeds()
    {
        var counter = Path.Combine(_scratch, "count");
        await using var server = await KoaljaTestServer.StartAsync(Pipeline(
            $"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; if [ $n -lt 3 ]; then echo \"attempt $n failed\" >&2; exit 1; fi; cp {{{{.inputs.in.path}}}} {{{{.outputs.out.path}}}}"), sandbox: SandboxMode.Off);

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
        await using var server = await KoaljaTestServer.StartAsync(Pipeline(
            "if grep -q bad {{.inputs.in.path}}; then echo \"cannot handle: $(cat {{.inputs.in.path}})\" >&2; exit 7; fi; cp {{.inputs.in.path}} {{.outputs.out.path}}"));

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
        // The command runs in its execution workspace (CommandRunner starts it there), where a name that reached its
        // shell would run `touch pwned`. The workspace is cleaned for the next execution, so the command itself lists
        // it, last, into a file outside.
        var listing = Path.Combine(_scratch, "workspace");
        await using var server = await KoaljaTestServer.StartAsync(Pipeline($"cat {{{{.inputs.in.path}}}} > {{{{.outputs.out.path}}}}; ls -A > {listing}"), sandbox: SandboxMode.Off);

        var drop = await server.DropAsync("flaky", "drop", "safe", fileName: name);
        await server.WaitIdleAsync("flaky");

        var value = Assert.Single(await server.ValuesAsync("flaky", "work"));
        Assert.Equal("safe", await server.ContentAsync(value.GetProperty("id").GetString()!));
        var kept = drop.GetProperty("sourceName").GetString()!;
        Assert.DoesNotContain('/', kept);
        Assert.Equal(Path.GetFileName(name.Replace("../", "", StringComparison.Ordinal)), kept);
        var workspace = File.ReadAllLines(listing);
        Assert.Contains("inputs", workspace); // it is the workspace
        Assert.DoesNotContain("pwned", workspace);
        var named = Directory.EnumerateFileSystemEntries(server.Data, "*", SearchOption.AllDirectories)
            .Where(e => Path.GetFileName(e) is var entry && (entry.Contains("pwned", StringComparison.Ordinal) || entry == kept));
        Assert.Empty(named); // values are stored by content hash, never under the name they came with
    }

    [Fact]
    public async Task MultipartFileNamesAreSanitisedToo()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}"));
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

    /// <summary>
    /// Issue 19, defect 9: a repeated multipart drop answered 201 (the API says 200 for a retry), and a raw drop with key
    /// <c>K#0</c> was taken for part 0 of a multipart drop with key <c>K</c>.
    /// </summary>
    [Fact]
    public async Task AMultipartRetryAnswers200AndItsPartsKeysCannotBeForged()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}"));
        async Task<(HttpStatusCode Status, List<string> Ids)> Multipart()
        {
            using var form = new MultipartFormDataContent { { new StringContent("one"), "file", "one.txt" }, { new StringContent("two"), "file", "two.txt" } };
            using var request = new HttpRequestMessage(HttpMethod.Post, "pipelines/flaky/drop") { Content = form };
            request.Headers.Add("Idempotency-Key", "K");
            using var response = await server.Http.SendAsync(request);
            var ids = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(v => v.GetProperty("id").GetString()!).ToList();
            return (response.StatusCode, ids);
        }

        var first = await Multipart();
        var retry = await Multipart();
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, retry.Status);
        Assert.Equal(first.Ids, retry.Ids);

        var raw = await server.DropAsync("flaky", "drop", "three", key: "K#0");
        Assert.DoesNotContain(raw.GetProperty("id").GetString(), first.Ids);
    }

    /// <summary>A multipart body as sent: <paramref name="body"/> with <c>boundary=b</c>.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Json, string? MediaType)> PostMultipartAsync(KoaljaTestServer server, string body)
    {
        using var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        using var response = await server.Http.PostAsync("pipelines/flaky/drop", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }

    private const string PartOne = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"one.txt\"\r\n\r\none\r\n";

    /// <summary>
    /// Issue 19, defect 8: a multipart body that ends before its closing boundary, or is no multipart at all, answered 500
    /// with an empty body; a two-part drop whose second part was cut off answered 500 yet recorded part 1, so a retry
    /// duplicated it. Now each is a 400 problem that records nothing, and the whole retry records each part once.
    /// </summary>
    [Theory]
    [InlineData("one part cut off", "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"one.txt\"\r\n\r\nhalf of it")]
    [InlineData("second part cut off", PartOne + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"two.txt\"\r\n\r\nhalf of it")]
    [InlineData("no closing boundary", PartOne)]
    [InlineData("garbage", "this is not multipart at all")]
    public async Task AMultipartBodyCutOffOrMalformedIsA400ProblemAndRecordsNothing(string name, string body)
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}"));

        var (status, problem, mediaType) = await PostMultipartAsync(server, body);

        Assert.True(status == HttpStatusCode.BadRequest, $"{name}: {(int)status} {problem}");
        Assert.Equal("application/problem+json", mediaType);
        Assert.Equal("Malformed multipart request", problem.GetProperty("title").GetString());
        Assert.Contains("closing boundary '--b--'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await server.ValuesAsync("flaky", "drop"));

        var (retried, values, _) = await PostMultipartAsync(server, PartOne + "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"two.txt\"\r\n\r\ntwo\r\n--b--\r\n");
        Assert.Equal(HttpStatusCode.Created, retried);
        Assert.Equal(2, values.GetArrayLength());
        Assert.Equal(["one.txt", "two.txt"], (await server.ValuesAsync("flaky", "drop")).Select(v => v.GetProperty("sourceName").GetString()!).ToArray());
    }

    /// <summary>
    /// Issue 19, defect 9: a part whose headers are over the multipart reader's limit was told "A drop is limited to
    /// 1 GiB"; it gets a 431 that says the part's headers are too large.
    /// </summary>
    [Fact]
    public async Task APartHeaderOverTheLimitGetsItsOwn431()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("true"));

        var (status, problem, mediaType) = await PostMultipartAsync(server,
            $"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"one.txt\"\r\nX-Padding: {new string('x', 100 * 1024)}\r\n\r\none\r\n--b--\r\n");

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, status);
        Assert.Equal("application/problem+json", mediaType);
        Assert.Equal("Part headers too large", problem.GetProperty("title").GetString());
        Assert.Contains("headers of a multipart part are limited to 16 KiB", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await server.ValuesAsync("flaky", "drop"));
    }

    [Fact]
    public async Task AnUploadOverTheLimitIsStreamedThenRefusedWith413AndLeavesNothing()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}"),
            new RuntimeOptions { MaxDropBytes = 64L << 20 });
        var temp = Path.Combine(server.Data, "blobs", "tmp");
        var upload = new ZeroStream(200L << 20, pauseAt: 32L << 20);

        using var request = new HttpRequestMessage(HttpMethod.Post, "pipelines/flaky/drop") { Content = new StreamContent(upload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var sending = SendAsync(server.Http, request);
        Assert.Same(upload.Paused, await Task.WhenAny(upload.Paused, sending));

        // The client has sent 32 MiB and waits. A server that streams has most of it in its temporary file by now; one
        // that buffered the upload (in memory, or anywhere before the store) has nothing there and waits for the rest.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Largest(temp) < 16L << 20)
        {
            Assert.True(DateTime.UtcNow < deadline, $"32 MiB were sent, but the server's temporary file has {Largest(temp):N0} bytes: it does not stream the upload to the store");
            await Task.Delay(20);
        }

        upload.Resume();
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await sending);
        Assert.Empty(Directory.GetFiles(temp));
        Assert.Empty(await server.ValuesAsync("flaky", "drop"));
    }

    private static long Largest(string directory) => new DirectoryInfo(directory).EnumerateFiles().Select(f => f.Length).DefaultIfEmpty(0).Max();

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        try
        {
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return HttpStatusCode.RequestEntityTooLarge; // the server may close the connection while we still send
        }
    }

    [Fact]
    public async Task ADeclaredLengthOverTheLimitIsRefusedAtOnce()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("true"), new RuntimeOptions { MaxDropBytes = 10 });

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
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("true"));

        using var response = await server.Http.PostAsync(path, new StringContent("x"));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheSameIdempotencyKeyRecordsOneValue()
    {
        await using var server = await KoaljaTestServer.StartAsync(Pipeline("cat {{.inputs.in.path}} > {{.outputs.out.path}}"));

        var first = await server.DropAsync("flaky", "drop", "once", key: "k1");
        var second = await server.DropAsync("flaky", "drop", "once", key: "k1");
        await server.WaitIdleAsync("flaky");

        Assert.Equal(first.GetProperty("id").GetString(), second.GetProperty("id").GetString());
        Assert.Single(await server.ValuesAsync("flaky", "drop"));
        Assert.Single(await server.ValuesAsync("flaky", "work"));
    }

    /// <summary>A stream of zeros of a given length, without holding them, that stops at <c>pauseAt</c> until resumed.</summary>
    private sealed class ZeroStream(long length, long pauseAt = long.MaxValue) : Stream
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resumed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _position;

        /// <summary>Completes when <c>pauseAt</c> bytes have been read.</summary>
        public Task Paused => _paused.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public void Resume() => _resumed.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= pauseAt)
            {
                _paused.TrySetResult();
                await _resumed.Task.WaitAsync(cancellationToken);
            }

            var n = (int)Math.Min(buffer.Length, (_position < pauseAt ? Math.Min(pauseAt, length) : length) - _position);
            buffer.Span[..n].Clear();
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
