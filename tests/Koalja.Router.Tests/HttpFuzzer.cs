using System.Text;
using System.Text.Json;

namespace Koalja.Router.Tests;

/// <summary>What the fuzzer aims at: the server's keys, and the pipeline, tasks and ids that exist on it.</summary>
internal sealed record FuzzTargets(string Pipeline, string DropTask, string CommandTask, string SinkTask, string AdminKey, string FunctionKey,
    IReadOnlyList<string> Values, IReadOnlyList<string> Executions, IReadOnlyList<string> Snapshots, IReadOnlyList<string> CodeVersions);

/// <summary>
/// Builds requests for an endpoint from a seeded <see cref="Random"/>: about a third are valid requests, the rest valid
/// requests with their path, method, query, headers or body mutated, or replaced by garbage. Bodies of code drops are
/// only mutated scripts and archives, or binary garbage (refused as no code): random text would run as a shell script.
/// </summary>
internal sealed class HttpFuzzer(Random random, FuzzTargets targets)
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    private static readonly string[] GarbageSegments =
    [
        "", ".", "..", "%2e%2e", "%2E", "a%2Fb", "%2F", "%5C..%5C", "%00", "%ff%fe", "%", "%zz", "%E2%82", "%C0%AF", "..%2F..%2Fetc%2Fpasswd",
        "пайплайн", "🐨", "%F0%9F%90%A8", "\u202eevil", "x y", "a;b", "a?b", "con", "NUL", "-1", "0", "00000000", "ffffffff", "FFFFFFFFFFFFFFFF",
        new string('a', 300), new string('f', 64), new string('0', 65), new string('x', 5000), "null", "undefined", "{p}", "*", "~", "'", "\"", "<script>",
    ];

    private static readonly string[] QueryNames =
    [
        "limit", "after", "before", "order", "task", "output", "codeVersion", "shadow", "direction", "depth", "asOf", "snapshot", "replay",
        "replayLimit", "activate", "publish", "entrypoint", "name", "code", "", "x", "limit[]", "LIMIT",
    ];

    private static readonly string[] QueryValues =
    [
        "", "-1", "0", "1", "2", "1000", "1001", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "99999999999999999999999", "1e3", "0x10", "1.5", "NaN", "many", "true", "false", "TRUE", "yes", "newest", "oldest", "NEWEST", "up", "down", "sideways",
        "2024-01-01T00:00:00Z", "2024-13-45T99:99:99", "9999-12-31T23:59:59Z", "0001-01-01", "-", "%00", "%ff", "%", "%zz", "a%26b%3Dc", "../../x",
        "work", "drop", "deliver", "nope", "main.sh", "/etc/passwd", "..%2F..%2Fx", new string('9', 400), new string('z', 3000), "\u0000", "🐨",
    ];

    /// <summary>A request to <paramref name="route"/> (a route pattern such as <c>/api/values/{id}</c>) taking <paramref name="methods"/>.</summary>
    public FuzzRequest Next(int index, string route, IReadOnlyList<string> methods)
    {
        var valid = random.NextDouble() < 0.3;
        var method = valid || random.NextDouble() < 0.8 ? Pick(methods) : Pick(Methods);
        var headers = new List<(string, string)>();
        var query = new List<string>();
        var path = Path(route, valid);
        var onRoute = true;
        var (contentType, body) = ValidBody(route, method, headers, query);
        if (!valid)
        {
            if (random.NextDouble() < 0.5)
            {
                (contentType, body) = FuzzedBody(route, contentType, body);
            }

            if (random.NextDouble() < 0.4)
            {
                contentType = ContentType(contentType);
            }

            for (var n = random.Next(0, 4); n > 0; n--)
            {
                headers.Add(OddHeader());
            }

            for (var n = random.Next(0, 4); n > 0; n--)
            {
                query.Add($"{Pick(QueryNames)}={Pick(QueryValues)}");
            }

            if (random.NextDouble() < 0.03)
            {
                onRoute = false;
                path = Pick(["/api", "/api/", "//", "/pipelines", "/pipelines/", "/api/pipelines//events", $"{path}/extra", $"{path}/", "/api/values",
                    $"/{Pick(GarbageSegments)}", $"/api/{Pick(GarbageSegments)}/{Pick(GarbageSegments)}"]);
            }
        }

        Authorize(valid, headers, query);
        var pathAndQuery = query.Count == 0 ? path : $"{path}?{string.Join('&', query)}";
        return new FuzzRequest(index, route, onRoute, method, pathAndQuery, headers, contentType, body);
    }

    private void Authorize(bool valid, List<(string, string)> headers, List<string> query)
    {
        var roll = valid ? 0 : random.NextDouble();
        switch (roll)
        {
            case < 0.80:
                headers.Add(("x-functions-key", targets.AdminKey));
                break;
            case < 0.85:
                break; // no key
            case < 0.90:
                headers.Add(("x-functions-key", Pick([targets.AdminKey + "x", targets.AdminKey[..^1], "", " ", "\u0001", new string('k', 5000), targets.AdminKey.ToUpperInvariant()])));
                break;
            case < 0.95:
                headers.Add(("x-functions-key", targets.FunctionKey));
                break;
            case < 0.97:
                query.Add($"code={Uri.EscapeDataString(targets.AdminKey)}");
                break;
            case < 0.985:
                headers.Add(("x-functions-key", targets.AdminKey));
                headers.Add(("Origin", Pick(["http://evil.example", "null", "file://", "http://localhost:1", "garbage"])));
                break;
            default:
                headers.Add(("x-functions-key", targets.AdminKey));
                headers.Add(("Host", Pick(["evil.example", "localhost:1", "[::1]", "127.0.0.1.nip.io", "a..b"])));
                break;
        }
    }

    private string Path(string route, bool valid)
    {
        var segments = route.Trim('/').Split('/').Select(segment =>
        {
            if (!segment.StartsWith('{'))
            {
                return segment;
            }

            var name = segment.Trim('{', '}');
            return valid || random.NextDouble() < 0.75 ? Uri.EscapeDataString(Known(route, name)) : Garbage(route, name);
        });
        return "/" + string.Join('/', segments);
    }

    /// <summary>A value for a route parameter that exists on the server.</summary>
    private string Known(string route, string name) => name switch
    {
        "p" => targets.Pipeline,
        "task" => targets.DropTask,
        "t" => targets.CommandTask,
        "id" when route.StartsWith("/api/executions/", StringComparison.Ordinal) => Pick(targets.Executions),
        "id" => Pick(targets.Values),
        "version" => Pick(targets.CodeVersions),
        "prefix" => Pick(targets.Values)[..Pick([4, 8, 12])],
        _ => throw new InvalidOperationException($"The fuzzer knows no value for the route parameter '{{{name}}}' of {route}: teach HttpFuzzer.Known what exists for it."),
    };

    private string Garbage(string route, string name)
    {
        var known = Known(route, name);
        return random.Next(6) switch
        {
            0 => Uri.EscapeDataString(Flip(known)),
            1 => Uri.EscapeDataString(known.ToUpperInvariant()),
            2 => Uri.EscapeDataString(known + known),
            3 => Pick([targets.CommandTask, targets.SinkTask, targets.DropTask, targets.Pipeline, Pick(targets.Snapshots), Pick(targets.Executions), Pick(targets.Values)]),
            _ => Pick(GarbageSegments),
        };
    }

    private string Flip(string text)
    {
        var chars = text.ToCharArray();
        var at = random.Next(chars.Length);
        chars[at] = (char)(chars[at] ^ (1 << random.Next(7)));
        return new string(chars);
    }

    /// <summary>The body (and headers, query) of a valid request of this endpoint and method.</summary>
    private (string? ContentType, byte[]? Body) ValidBody(string route, string method, List<(string, string)> headers, List<string> query)
    {
        if (route == "/pipelines/{p}/{task}" && method == "POST")
        {
            return random.Next(4) switch
            {
                0 => Drop(headers),
                1 => Multipart(wellFormed: true),
                2 => BinaryEvent(headers),
                _ => ("application/cloudevents+json", Json(StructuredEvent())),
            };
        }

        if (route == "/api/pipelines/{p}/events" && method is "POST" or "PUT")
        {
            return random.Next(3) switch
            {
                0 => BinaryEvent(headers),
                1 => ("application/cloudevents+json", Json(StructuredEvent())),
                _ => ("application/cloudevents-batch+json", Json(Enumerable.Range(0, random.Next(1, 4)).Select(_ => StructuredEvent()).ToList())),
            };
        }

        if (route == "/api/pipelines/{p}/derived")
        {
            return ("application/json", Json(new Dictionary<string, object> { ["values"] = targets.Values.Take(random.Next(1, 4)).ToList() }));
        }

        if (route.EndsWith("/code", StringComparison.Ordinal) && method == "PUT")
        {
            query.Add(Pick(["activate=false", "activate=false&replay=true&replayLimit=2", "activate=false&entrypoint=run.sh", "name=main.sh", "replay=true&replayLimit=1"]));
            return (null, Pick(CodeSamples));
        }

        if (route.Contains("/dead-letters/", StringComparison.Ordinal) && method == "POST")
        {
            query.Add(Pick([$"task={targets.CommandTask}", $"snapshot={Pick(targets.Snapshots)}", ""]));
        }

        if ((route.EndsWith("/content", StringComparison.Ordinal) || route.EndsWith("/log", StringComparison.Ordinal)) && random.NextDouble() < 0.6)
        {
            headers.Add(("Range", Pick(["bytes=0-0", "bytes=-1", "bytes=999999-", "bytes=5-2", "bytes=abc", "items=0-1", "bytes=-0", "bytes=18446744073709551616-",
                "bytes=" + string.Join(',', Enumerable.Range(0, 200).Select(i => $"{i}-{i}")), "bytes=0-", "bytes=1-1, 0-0"])));
            if (random.NextDouble() < 0.3)
            {
                headers.Add((Pick(["If-None-Match", "If-Range", "If-Match", "If-Modified-Since"]), Pick(["\"x\"", "*", "garbage", "W/\"", "Mon, 99 Foo 2024", ""])));
            }
        }

        if (route == "/api/pipelines/{p}/events" && method == "GET")
        {
            headers.Add(("Last-Event-ID", Pick(["0", "-1", "1", "abc", "99999999999999999999", "9223372036854775807", ""])));
        }

        return (null, null);
    }

    private (string?, byte[]?) Drop(List<(string, string)> headers)
    {
        if (random.NextDouble() < 0.5)
        {
            headers.Add(("Idempotency-Key", Pick(["k1", "k2", "a\u001f0", new string('k', 200), new string('k', 201), "é", "\u0007", " ", "k1 ", "%00"])));
        }

        if (random.NextDouble() < 0.5)
        {
            headers.Add(("X-Koalja-Filename", Pick(["a.txt", "../../etc/passwd", "%", "%00", "%2e%2e%2f", "%C0%AF", "%E2%82", new string('n', 5000), "\u0001x", "\\\\server\\share\\x",
                "%F0%9F%90%A8.txt", "CON", "..", "a%2F..%2F..%2Fb", "%ZZ%"])));
        }

        return (Pick(["text/plain", "application/json", "text/csv", "application/octet-stream", "application/x-www-form-urlencoded"]), Encoding.UTF8.GetBytes($"line {random.Next()}\n"));
    }

    private (string?, byte[]?) BinaryEvent(List<(string, string)> headers)
    {
        headers.Add(("ce-specversion", "1.0"));
        headers.Add(("ce-id", $"id-{random.Next(50)}"));
        headers.Add(("ce-source", "/fuzz"));
        headers.Add(("ce-type", "io.koalja.fuzz"));
        if (random.NextDouble() < 0.3)
        {
            headers.Add(("ce-koaljatask", targets.DropTask));
        }

        return ("text/plain", Encoding.UTF8.GetBytes($"event {random.Next()}"));
    }

    private Dictionary<string, object?> StructuredEvent()
    {
        var e = new Dictionary<string, object?>
        {
            ["specversion"] = "1.0", ["id"] = $"sid-{random.Next(50)}", ["source"] = "/fuzz", ["type"] = "io.koalja.fuzz",
        };
        switch (random.Next(4))
        {
            case 0:
                e["data"] = new Dictionary<string, object> { ["n"] = random.Next() };
                break;
            case 1:
                e["data"] = $"text {random.Next()}";
                e["datacontenttype"] = "text/plain";
                break;
            case 2:
                e["data_base64"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"b64 {random.Next()}"));
                break;
            default:
                e["dataref"] = Pick(["http://127.0.0.1:9/nothing", "http://[::1]:9/x", "http://10.255.255.1/x", "ftp://127.0.0.1/x", "file:///etc/passwd", "http://localhost:9/", "relative/x"]);
                break;
        }

        return e;
    }

    private (string?, byte[]?) Multipart(bool wellFormed)
    {
        var boundary = wellFormed ? $"fuzz{random.Next()}" : Pick(["", "\"\"", new string('b', 71), new string('b', 70), "a b", "\"quoted\"", "--", "é", "x;y", "\u0001", new string('b', 5000)]);
        var body = new StringBuilder();
        for (var part = random.Next(1, 4); part > 0; part--)
        {
            body.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"{Pick(["a.txt", "../x", "", "é.txt", "%00"])}\"\r\n");
            body.Append($"Content-Type: {Pick(["text/plain", "application/octet-stream", "", "garbage"])}\r\n\r\npart {random.Next()}\r\n");
        }

        body.Append($"--{boundary}--\r\n");
        var contentType = wellFormed || random.NextDouble() < 0.5 ? $"multipart/form-data; boundary={boundary}" : Pick(["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=\"unclosed", "multipart/mixed; boundary=x"]);
        return (contentType, Encoding.UTF8.GetBytes(body.ToString()));
    }

    private (string?, byte[]?) FuzzedBody(string route, string? contentType, byte[]? body)
    {
        var isCode = route.EndsWith("/code", StringComparison.Ordinal);
        var roll = random.Next(isCode ? 3 : 12);
        return roll switch
        {
            0 => (contentType, Mutate(body ?? (isCode ? Pick(CodeSamples) : Json(StructuredEvent())))),
            1 when isCode => (contentType, Mutate(Pick(CodeSamples))),
            _ when isCode => (contentType, BinaryGarbage()),
            1 => (contentType, BinaryGarbage()),
            2 => (contentType, Encoding.UTF8.GetBytes(new string(Enumerable.Range(0, random.Next(0, 400)).Select(_ => (char)random.Next(32, 127)).ToArray()))),
            3 => (contentType, Pick(InvalidUtf8)),
            4 => (contentType, Encoding.UTF8.GetBytes(Nested(random.Next(2) == 0 ? 100 : 5000))),
            5 => (contentType, Encoding.UTF8.GetBytes(Pick(OddJson))),
            6 => Multipart(wellFormed: false),
            7 => (contentType, Mutate(Multipart(wellFormed: true).Item2!)),
            8 => ("application/cloudevents+json", Json(OddEvent())),
            9 => ("application/cloudevents-batch+json", Encoding.UTF8.GetBytes(Pick(OddBatches))),
            10 => (contentType, Mutate(body ?? [])),
            _ => (contentType, []),
        };
    }

    private byte[] BinaryGarbage()
    {
        var bytes = new byte[random.Next(1, 2048)];
        random.NextBytes(bytes);
        bytes[0] = (byte)random.Next(0x80, 0x100); // never mistaken for a script
        return bytes;
    }

    /// <summary>Bit flips, truncation, a part duplicated or removed, random bytes inserted.</summary>
    private byte[] Mutate(byte[] input)
    {
        var bytes = input.ToList();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    for (var flips = random.Next(1, 9); flips > 0; flips--)
                    {
                        var at = random.Next(bytes.Count);
                        bytes[at] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1 when bytes.Count > 0:
                    bytes = bytes.Take(random.Next(bytes.Count)).ToList();
                    break;
                case 2 when bytes.Count > 0:
                    var start = random.Next(bytes.Count);
                    var slice = bytes.Skip(start).Take(random.Next(1, 64)).ToList();
                    bytes.InsertRange(random.Next(bytes.Count), slice);
                    break;
                case 3 when bytes.Count > 0:
                    var from = random.Next(bytes.Count);
                    bytes.RemoveRange(from, Math.Min(random.Next(1, 64), bytes.Count - from));
                    break;
                default:
                    var extra = new byte[random.Next(1, 16)];
                    random.NextBytes(extra);
                    bytes.InsertRange(random.Next(bytes.Count + 1), extra);
                    break;
            }
        }

        return [.. bytes];
    }

    private string ContentType(string? current) => Pick(
    [
        "", "garbage", ";;;", "text/plain; charset=\"", "application/json; charset=utf-16", "application/json; charset=nope", "*/*", "application/*",
        "application/cloudevents+json", "application/cloudevents+json; charset=latin1", "application/cloudevents-batch+json", "application/cloudevents+xml",
        "multipart/form-data; boundary=" + new string('b', 71), "multipart/form-data; boundary=", "multipart/form-data", "multipart/form-data; boundary=\"\"",
        "application/x-www-form-urlencoded", "application/octet-stream", "text/html", "image/svg+xml", "application/problem+json", current ?? "text/plain",
        "text/plain; " + string.Join("; ", Enumerable.Range(0, 100).Select(i => $"p{i}=v")), "application/json+json", "\u0001/\u0002",
    ]);

    private (string, string) OddHeader() => random.Next(8) switch
    {
        0 => (Pick(["ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "ce-subject", "ce-dataschema", "ce-koaljatask", "ce-koaljaoutput", "ce-dataref", "ce-my_ext", "ce-ID", "ce-"]),
            Pick(["1.0", "0.3", "", "\u0001", "a\u0007b", "%", "%zz", "%E2%82", "%00", "\"quoted", "\"\"", "\"a\"", "2024-13-45", "not a uri", "/ok", "http://127.0.0.1:9/x", new string('c', 5000), "drop", "work", "nope", "é", "\t"])),
        1 => ("Idempotency-Key", Pick(["", "k1", new string('k', 200), new string('k', 201), "\u0001", "é", "k\u001f0", "\t", "%00"])),
        2 => ("X-Koalja-Filename", Pick(["%", "%00", "../x", "%2e%2e%2f%2e%2e", new string('n', 5000), "\u0002", "%C0%AF", "é", "%F0%9F"])),
        3 => ("Range", Pick(["bytes=0-0", "bytes=abc", "bytes=-0", "bytes=99999999999999999999-", "items=1-2", ""])),
        4 => ("Last-Event-ID", Pick(["-1", "abc", "99999999999999999999", "\u0001"])),
        5 => ("Accept", Pick(["*/*", "text/event-stream", "application/xml", "garbage;;", ""])),
        6 => ("Content-Encoding", Pick(["gzip", "br", "identity", "garbage"])),
        _ => (Pick(["If-None-Match", "If-Modified-Since", "Expect", "Cookie", "Authorization", "Sec-Fetch-Site", "X-Forwarded-For", "X-Forwarded-Host"]),
            Pick(["*", "garbage", "100-continue", "a=b", "Bearer x", "cross-site", "same-origin", "127.0.0.1", "evil.example"])),
    };

    private Dictionary<string, object?> OddEvent()
    {
        var e = StructuredEvent();
        var attribute = Pick(["specversion", "id", "source", "type", "time", "datacontenttype", "dataschema", "subject", "data", "data_base64", "koaljatask", "koaljaoutput", "ID", "my_ext", "dataref"]);
        e[attribute] = random.Next(9) switch
        {
            0 => null,
            1 => random.Next(),
            2 => 1e300,
            3 => new Dictionary<string, object> { ["x"] = 1 },
            4 => new[] { 1, 2 },
            5 => "\u0001\u0002",
            6 => "",
            7 => "%%%garbage",
            _ => new string('e', 3000),
        };
        if (random.NextDouble() < 0.2)
        {
            e.Remove(Pick(["specversion", "id", "source", "type"]));
        }

        return e;
    }

    private static readonly string[] OddJson =
    [
        "null", "[]", "{}", "\"\"", "1e999999", "-0", "{\"values\": 5}", "{\"values\": [null]}", "{\"values\": [\"\"]}", "{\"values\": [1e999]}", "{\"values\": []}",
        "{\"values\": [\"a\", \"a\"], \"values\": 3}", "{\"values\": [" + string.Join(',', Enumerable.Range(0, 2000).Select(i => $"\"{i:x8}\"")) + "]}",
        "{\"specversion\": 1e400, \"id\": 99999999999999999999999999}", "\uFEFF{}", "{\"a\":", "[1,2,", "{\"values\": [\"" + new string('v', 129) + "\"]}",
        "{\"values\": {\"$ref\": \"#\"}}", "{\"__proto__\": {}}", "{\"values\": [\"\\ud800\"]}",
    ];

    private static readonly string[] OddBatches =
    [
        "[]", "{}", "[null]", "[1,2,3]", "[[]]", "[{}]", "[{\"specversion\":\"1.0\"}]", "[" + string.Join(',', Enumerable.Range(0, 11).Select(i => $"{{\"specversion\":\"1.0\",\"id\":\"b{i}\",\"source\":\"/f\",\"type\":\"t\"}}")) + "]",
        "[{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/f\",\"type\":\"t\"},{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/f\",\"type\":\"t\"}]", "\"batch\"",
    ];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xC0, 0xAF], [0xFF, 0xFE, 0x00], [0xED, 0xA0, 0x80], [0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D], [0xF8, 0x88, 0x80, 0x80, 0x80],
        [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], [0xFE, 0xFF, 0x00, 0x7B, 0x00, 0x7D],
    ];

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    private static readonly byte[][] CodeSamples =
    [
        Encoding.UTF8.GetBytes("#!/bin/sh\ncat \"$KOALJA_INPUT_IN\" > \"$KOALJA_OUTPUT_OUT\"\n"),
        Encoding.UTF8.GetBytes("cat \"$KOALJA_INPUT_IN\" > \"$KOALJA_OUTPUT_OUT\"\n"),
        Archives.Zip(("koalja.yaml", "entrypoint: run.sh\n"), ("run.sh", "#!/bin/sh\ncat \"$KOALJA_INPUT_IN\" > \"$KOALJA_OUTPUT_OUT\"\n")),
        Archives.TarGz(("koalja.yaml", "entrypoint: run.sh\n"), ("run.sh", "#!/bin/sh\ncp \"$KOALJA_INPUT_IN\" \"$KOALJA_OUTPUT_OUT\"\n")),
        Archives.Zip(("top/koalja.yaml", "entrypoint: bin/run.sh\n"), ("top/bin/run.sh", "#!/bin/sh\ncat \"$KOALJA_INPUT_IN\" > \"$KOALJA_OUTPUT_OUT\"\n")),
    ];

    private static byte[] Json<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value);

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
