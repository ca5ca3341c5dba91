using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Koalja.Cli.Commands;

/// <summary><c>drop</c>, <c>values</c>, <c>cat</c> and <c>status</c>: the HTTP API from the command line.</summary>
internal static class ClientCommands
{
    internal static readonly Option<string?> Url = new("--url") { Description = "URL of the Koalja server (default: the one running on --data)" };
    internal static readonly Option<string> Data = new("--data") { Description = "Data directory of the server to talk to", DefaultValueFactory = _ => ".koalja" };

    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) =>
        [Drop(stdout, stderr), Values(stdout), Cat(), Status(stdout)];

    private static Command Drop(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("pipeline/task") { Description = "Where to drop, e.g. linecount/fileDropInput" };
        var files = new Argument<string[]>("files") { Description = "Files to drop", Arity = ArgumentArity.OneOrMore };
        var wait = new Option<bool>("--wait") { Description = "Wait until every snapshot the drops lead to has finished" };
        var command = new Command("drop", "Drop files into a FileDrop task") { target, files, wait, Url, Data };
        command.SetAction((parse, ct) => Guard(stderr, async () =>
        {
            var (pipeline, task) = SplitTarget(parse.GetValue(target)!);
            var paths = parse.GetValue(files)!;
            foreach (var missing in paths.Where(p => !File.Exists(p)))
            {
                throw new CliException(Directory.Exists(missing) ? $"'{missing}' is a directory; drop the files in it" : $"No such file: '{missing}'");
            }

            using var client = KoaljaClient.Connect(parse.GetValue(Url), parse.GetValue(Data)!);
            var progress = new Progress(stderr);
            var run = Guid.NewGuid().ToString("N");
            for (var i = 0; i < paths.Length; i++)
            {
                var value = await client.PostFileAsync($"pipelines/{Uri.EscapeDataString(pipeline)}/{Uri.EscapeDataString(task)}", paths[i], $"{run}-{i}", ct);
                progress.Show("dropping", i + 1, paths.Length);
                if (!parse.GetValue(wait))
                {
                    stdout.WriteLine($"{value.GetProperty("id").GetString()}  {paths[i]}");
                }
            }

            progress.Done($"dropped {paths.Length} file(s) into {pipeline}/{task}");
            return parse.GetValue(wait) ? await WaitAsync(client, pipeline, progress, stdout, ct) : 0;
        }));
        return command;
    }

    /// <summary>Polls the pipeline until no snapshot is pending or running; fails when new dead letters appeared.</summary>
    private static async Task<int> WaitAsync(KoaljaClient client, string pipeline, Progress progress, TextWriter stdout, CancellationToken ct)
    {
        var path = $"api/pipelines/{Uri.EscapeDataString(pipeline)}";
        var before = (await client.GetJsonAsync(path, ct)).GetProperty("deadLetters").GetInt64();
        var idleChecks = 0;
        while (true)
        {
            var json = await client.GetJsonAsync(path, ct);
            long pending = 0, running = 0, done = 0;
            foreach (var task in json.GetProperty("tasks").EnumerateArray())
            {
                pending += task.GetProperty("pending").GetInt64();
                running += task.GetProperty("running").GetInt64();
                done += task.GetProperty("succeeded").GetInt64() + task.GetProperty("deadLettered").GetInt64();
            }

            progress.Show("running", done, done + pending);
            // Idle twice in a row: a value just recorded may not have reached its next task's snapshot yet.
            idleChecks = pending == 0 && running == 0 ? idleChecks + 1 : 0;
            if (idleChecks >= 2)
            {
                var dead = json.GetProperty("deadLetters").GetInt64() - before;
                progress.Done(dead > 0 ? $"finished, but {dead} snapshot(s) were dead-lettered: see ./koalja status" : $"finished: {done} snapshot(s) done");
                stdout.Flush();
                return dead > 0 ? 1 : 0;
            }

            await Task.Delay(100, ct);
        }
    }

    private static Command Values(TextWriter stdout)
    {
        var target = new Argument<string>("pipeline/task") { Description = "Whose values, e.g. linecount/countLines (or just a pipeline)" };
        var output = new Option<string?>("--output") { Description = "Only this output" };
        var limit = new Option<int>("--limit") { Description = "Most values to list", DefaultValueFactory = _ => 100 };
        var command = new Command("values", "List the values a task produced") { target, output, limit, Url, Data };
        command.SetAction((parse, ct) => Guard(Console.Error, async () =>
        {
            var text = parse.GetValue(target)!;
            var (pipeline, task) = text.Contains('/', StringComparison.Ordinal) ? SplitTarget(text) : (text, null);
            using var client = KoaljaClient.Connect(parse.GetValue(Url), parse.GetValue(Data)!);
            var query = $"api/pipelines/{Uri.EscapeDataString(pipeline)}/values?limit={parse.GetValue(limit)}"
                + (task is null ? "" : $"&task={Uri.EscapeDataString(task)}")
                + (parse.GetValue(output) is { } o ? $"&output={Uri.EscapeDataString(o)}" : "");
            var page = await client.GetJsonAsync(query, ct);
            var rows = new List<string[]>();
            foreach (var value in page.GetProperty("values").EnumerateArray())
            {
                var id = value.GetProperty("id").GetString()!;
                rows.Add([id, value.GetProperty("task").GetString() + "/" + value.GetProperty("output").GetString(),
                    value.GetProperty("created").GetDateTimeOffset().ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    value.GetProperty("size").GetInt64().ToString(CultureInfo.InvariantCulture), await PreviewAsync(client, id, ct)]);
            }

            Table.Write(stdout, ["ID", "OUTPUT", "CREATED", "SIZE", "PREVIEW"], rows);
            return 0;
        }));
        return command;
    }

    private static Command Cat()
    {
        var id = new Argument<string>("value-id") { Description = "The value whose bytes to print" };
        var command = new Command("cat", "Print the content of a value") { id, Url, Data };
        command.SetAction((parse, ct) => Guard(Console.Error, async () =>
        {
            using var client = KoaljaClient.Connect(parse.GetValue(Url), parse.GetValue(Data)!);
            using var response = await client.GetAsync($"api/values/{Uri.EscapeDataString(parse.GetValue(id)!)}/content", ct);
            await using var stdout = Console.OpenStandardOutput();
            await response.Content.CopyToAsync(stdout, ct);
            return 0;
        }));
        return command;
    }

    private static Command Status(TextWriter stdout)
    {
        var pipeline = new Argument<string?>("pipeline") { Description = "One pipeline (default: all)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Show tasks, links and dead letters with their counts") { pipeline, Url, Data };
        command.SetAction((parse, ct) => Guard(Console.Error, async () =>
        {
            using var client = KoaljaClient.Connect(parse.GetValue(Url), parse.GetValue(Data)!);
            var names = parse.GetValue(pipeline) is { } one ? [one]
                : (await client.GetJsonAsync("api/pipelines", ct)).EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
            foreach (var name in names)
            {
                var json = await client.GetJsonAsync($"api/pipelines/{Uri.EscapeDataString(name)}", ct);
                stdout.WriteLine($"pipeline {name} (revision {json.GetProperty("revision").GetString()}) at {client.BaseUri}");
                Table.Write(stdout, ["TASK", "KIND", "POLICY", "QUEUED", "PENDING", "RUNNING", "DONE", "FAILED", "DEAD", "VALUES"],
                    json.GetProperty("tasks").EnumerateArray().Select(t => new[]
                    {
                        t.GetProperty("name").GetString()!, t.GetProperty("kind").GetString()!, t.GetProperty("policy").GetString()!,
                        N(t, "queued"), N(t, "pending"), N(t, "running"), N(t, "succeeded"), N(t, "failedAttempts"), N(t, "deadLettered"), N(t, "values"),
                    }).ToList());
                stdout.WriteLine();
                Table.Write(stdout, ["LINK", "FROM", "TO", "WAITING", "IN USE", "CONSUMED"],
                    json.GetProperty("links").EnumerateArray().Select(l => new[]
                    {
                        l.GetProperty("name").GetString()!, l.GetProperty("source").GetString()!, l.GetProperty("destination").GetString()!,
                        N(l, "queued"), N(l, "taken"), N(l, "consumed"),
                    }).ToList());
                var dead = await client.GetJsonAsync($"api/pipelines/{Uri.EscapeDataString(name)}/dead-letters", ct);
                foreach (var letter in dead.EnumerateArray())
                {
                    stdout.WriteLine();
                    stdout.WriteLine($"dead letter: {letter.GetProperty("task").GetString()} snapshot {letter.GetProperty("snapshotId").GetString()} after {letter.GetProperty("attempts").GetInt32()} attempts: {letter.GetProperty("reason").GetString()}");
                    if (letter.TryGetProperty("stderrTail", out var tail) && tail.GetString() is { Length: > 0 } text)
                    {
                        stdout.WriteLine("  stderr: " + text.Replace("\n", "\n          ", StringComparison.Ordinal));
                    }
                }

                stdout.WriteLine();
            }

            return 0;
        }));
        return command;
    }

    private static string N(JsonElement e, string name) => e.GetProperty(name).GetInt64().ToString(CultureInfo.InvariantCulture);

    private static async Task<string> PreviewAsync(KoaljaClient client, string id, CancellationToken ct)
    {
        using var response = await client.GetAsync($"api/values/{id}/content", ct, (0, 47));
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var text = Encoding.UTF8.GetString(bytes);
        return text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? $"({bytes.Length} bytes of binary)"
            : text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
    }

    internal static (string Pipeline, string Task) SplitTarget(string text) =>
        text.Split('/') is [{ Length: > 0 } p, { Length: > 0 } t] ? (p, t) : throw new CliException($"Expected PIPELINE/TASK, got '{text}'");

    internal static async Task<int> Guard(TextWriter stderr, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (CliException e)
        {
            stderr.WriteLine($"koalja: {e.Message}");
            return 1;
        }
    }
}
