using System.CommandLine;
using System.Globalization;
using System.Text;
using Koalja.Router.Api;

namespace Koalja.Cli.Commands;

/// <summary><c>drop</c>, <c>values</c>, <c>cat</c> and <c>status</c>: the HTTP API from the command line.</summary>
internal static class ClientCommands
{
    internal static readonly Option<string?> Url = new("--url") { Description = "URL of the Koalja server (default: the one running on --data)" };
    internal static readonly Option<string> Data = new("--data") { Description = "Data directory of the server to talk to", DefaultValueFactory = _ => ".koalja" };
    internal static readonly Option<string?> Key = new("--key") { Description = "The key to send (x-functions-key), for a server named by --url (default: KOALJA_KEY, else the data directory's own server's keys)" };

    /// <summary>The server the command's --url, --data and --key name.</summary>
    internal static KoaljaClient Connect(ParseResult parse, bool admin = false) =>
        KoaljaClient.Connect(parse.GetValue(Url), parse.GetValue(Data)!, admin, parse.GetValue(Key));

    /// <summary>
    /// For reading commands: the server the options name, or a read-only view of the data directory when no server runs
    /// on it (then <paramref name="stderr"/> is told so).
    /// </summary>
    internal static async Task<KoaljaClient> ConnectToReadAsync(ParseResult parse, TextWriter stderr, CancellationToken cancellationToken)
    {
        var client = await KoaljaClient.ConnectToReadAsync(parse.GetValue(Url), parse.GetValue(Data)!, parse.GetValue(Key), cancellationToken);
        if (client.Offline)
        {
            stderr.WriteLine($"koalja: no server runs on {parse.GetValue(Data)}: showing what it recorded");
        }

        return client;
    }

    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) =>
        [Drop(stdout, stderr), Values(stdout, stderr), Cat(stdout, stderr), Status(stdout, stderr)];

    private static Command Drop(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("pipeline/task") { Description = "Where to drop, e.g. linecount/fileDropInput" };
        var files = new Argument<string[]>("files") { Description = "Files to drop", Arity = ArgumentArity.OneOrMore };
        var wait = new Option<bool>("--wait") { Description = "Wait until every snapshot the drops lead to has finished" };
        var command = new Command("drop", "Drop files into a FileDrop task") { target, files, wait, Url, Data, Key };
        command.SetAction((parse, ct) => Guard(stderr, async () =>
        {
            var (pipeline, task) = SplitTarget(parse.GetValue(target)!);
            var paths = parse.GetValue(files)!;
            foreach (var missing in paths.Where(p => !File.Exists(p)))
            {
                throw new CliException(Directory.Exists(missing) ? $"'{missing}' is a directory; drop the files in it" : $"No such file: '{missing}'");
            }

            await using var client = ClientCommands.Connect(parse);
            var progress = new Progress(stderr);
            var run = Guid.NewGuid().ToString("N");
            var dropped = new List<string>();
            for (var i = 0; i < paths.Length; i++)
            {
                var value = await client.PostFileAsync($"pipelines/{Uri.EscapeDataString(pipeline)}/{Uri.EscapeDataString(task)}", paths[i], $"{run}-{i}", ct);
                dropped.Add(value.Id);
                progress.Show("dropping", i + 1, paths.Length);
                if (!parse.GetValue(wait))
                {
                    stdout.WriteLine($"{value.Id}  {paths[i]}");
                }
            }

            progress.Done($"dropped {paths.Length} file(s) into {pipeline}/{task}");
            return parse.GetValue(wait) ? await WaitAsync(client, pipeline, dropped, progress, stdout, ct) : 0;
        }));
        return command;
    }

    /// <summary>
    /// Polls the work that follows from these drops (not the pipeline's: other drops may be running) until none of it is
    /// pending; says which values wait for other inputs, and fails when some of it was dead-lettered.
    /// </summary>
    private static async Task<int> WaitAsync(KoaljaClient client, string pipeline, List<string> dropped, Progress progress, TextWriter stdout, CancellationToken ct)
    {
        var path = $"api/pipelines/{Uri.EscapeDataString(pipeline)}/derived";
        var request = new DerivedRequestDto(dropped);
        while (true)
        {
            var work = await client.PostJsonAsync(path, request, ApiJsonContext.Default.DerivedRequestDto, ApiJsonContext.Default.DerivedWorkDto, ct);
            var done = work.Succeeded + work.DeadLettered + work.Discarded;
            progress.Show("running", done, done + work.Pending);
            if (work.Pending > 0 && work.PausedSince is not null)
            {
                progress.Done($"{pipeline} is paused: {work.Pending} snapshot(s) of these drops wait; {CliApp.Self} resume {pipeline} runs them");
                return 1;
            }

            if (work.Pending == 0)
            {
                progress.Done(work.DeadLettered > 0
                    ? $"finished, but {work.DeadLettered} snapshot(s) were dead-lettered: see {CliApp.Self} status {pipeline}"
                    : $"finished: {done} snapshot(s) done");
                foreach (var group in work.Waiting.GroupBy(w => (w.Task, w.Input)))
                {
                    stdout.WriteLine($"waiting: {group.Count()} value(s) in {pipeline}/{group.Key.Task} input {group.Key.Input} wait for other values before it runs ({string.Join(", ", group.Take(3).Select(w => w.Value))}{(group.Count() > 3 ? ", …" : "")})");
                }

                stdout.Flush();
                return work.DeadLettered > 0 ? 1 : 0;
            }

            await Task.Delay(100, ct);
        }
    }

    private static Command Values(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("pipeline/task") { Description = "Whose values, e.g. linecount/countLines (or just a pipeline)" };
        var output = new Option<string?>("--output") { Description = "Only this output" };
        var limit = new Option<int>("--limit") { Description = "Most values to list, newest first (1 to 1000)", DefaultValueFactory = _ => 100 };
        var command = new Command("values", "List the values a task produced, newest first") { target, output, limit, Url, Data, Key };
        command.SetAction((parse, ct) => Guard(stderr, async () =>
        {
            var text = parse.GetValue(target)!;
            if (parse.GetValue(limit) is < 1 or > 1000)
            {
                throw new CliException($"--limit {parse.GetValue(limit)} is not 1 to 1000");
            }

            var (pipeline, task) = text.Contains('/', StringComparison.Ordinal) ? SplitTarget(text) : (text, null);
            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            var query = $"api/pipelines/{Uri.EscapeDataString(pipeline)}/values?order=newest&limit={parse.GetValue(limit)}"
                + (task is null ? "" : $"&task={Uri.EscapeDataString(task)}")
                + (parse.GetValue(output) is { } o ? $"&output={Uri.EscapeDataString(o)}" : "");
            var page = await client.GetJsonAsync(query, ApiJsonContext.Default.ValuePageDto, ct);
            var rows = new List<string[]>();
            foreach (var value in page.Values)
            {
                rows.Add([value.Id, value.Task + "/" + value.Output,
                    value.Created.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                    value.Size.ToString(CultureInfo.InvariantCulture), await PreviewAsync(client, value.Id, ct)]);
            }

            Table.Write(stdout, ["ID", "OUTPUT", "CREATED", "SIZE", "PREVIEW"], rows);
            if (page.Next is not null)
            {
                stderr.WriteLine($"(the newest {rows.Count}; there are more: --limit up to 1000, or page through GET /{query.Replace("&limit=", "&before=" + page.Next + "&limit=", StringComparison.Ordinal)})");
            }

            return 0;
        }));
        return command;
    }

    private static Command Cat(TextWriter stdout, TextWriter stderr)
    {
        var id = new Argument<string>("value-id") { Description = "The value whose bytes to print" };
        var command = new Command("cat", "Print the content of a value") { id, Url, Data, Key };
        command.SetAction((parse, ct) => Guard(stderr, async () =>
        {
            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            var full = await FullIdAsync(client, parse.GetValue(id)!, ct);
            using var response = await client.GetAsync($"api/values/{Uri.EscapeDataString(full)}/content", ct);
            if (ReferenceEquals(stdout, Console.Out))
            {
                await using var raw = Console.OpenStandardOutput(); // the bytes as they are, binary too
                await response.Content.CopyToAsync(raw, ct);
            }
            else
            {
                await stdout.WriteAsync(await response.Content.ReadAsStringAsync(ct)); // a caller's writer (in-process use) gets text
            }

            return 0;
        }));
        return command;
    }

    /// <summary>A task's worker slots as "alive/allowed", and the scaling decision's wish when it differs ("2/8 want 4"); "-" for a task that runs no snapshots.</summary>
    private static string Slots(TaskStatsDto task) =>
        task.Slots == 0 ? "-"
        : task.DesiredSlots == task.ActiveSlots ? $"{task.ActiveSlots}/{task.Slots}"
        : $"{task.ActiveSlots}/{task.Slots} want {task.DesiredSlots}";

    private static Command Status(TextWriter stdout, TextWriter stderr)
    {
        var pipeline = new Argument<string?>("pipeline") { Description = "One pipeline (default: all)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Show tasks, links and dead letters with their counts") { pipeline, Url, Data, Key };
        command.SetAction((parse, ct) => Guard(stderr, async () =>
        {
            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            var names = parse.GetValue(pipeline) is { } one ? [one]
                : (await client.GetJsonAsync("api/pipelines", ApiJsonContext.Default.ListPipelineSummaryDto, ct)).Select(p => p.Name).ToList();
            foreach (var name in names)
            {
                var detail = await client.GetJsonAsync($"api/pipelines/{Uri.EscapeDataString(name)}", ApiJsonContext.Default.PipelineDto, ct);
                stdout.WriteLine($"pipeline {name} (revision {detail.Revision}) " + (client.Offline ? $"in {parse.GetValue(Data)}, stopped" : $"at {client.BaseUri}")
                    + (detail.PausedSince is { } paused ? $" — paused since {paused.ToLocalTime():yyyy-MM-dd HH:mm:ss} ({CliApp.Self} resume {name})" : ""));
                Table.Write(stdout, ["TASK", "KIND", "POLICY", "QUEUED", "PENDING", "RUNNING", "SLOTS", "DONE", "FAILED", "DEAD", "VALUES", "TIME p50/max"],
                    detail.Tasks.Select(t => new[]
                    {
                        t.Name, t.Kind, t.Policy, N(t.Queued), N(t.Pending), N(t.Running), Slots(t), N(t.Succeeded), N(t.FailedAttempts), N(t.DeadLettered), N(t.Values),
                        t.MedianMs is { } median ? $"{Duration(median)}/{Duration(t.MaxMs ?? median)}" : "-",
                    }).ToList());
                stdout.WriteLine();
                Table.Write(stdout, ["LINK", "FROM", "TO", "WAITING", "IN USE", "CONSUMED"],
                    detail.Links.Select(l => new[] { l.Name, l.Source, l.Destination, N(l.Queued), N(l.Taken), N(l.Consumed) }).ToList());
                var dead = await client.GetJsonAsync($"api/pipelines/{Uri.EscapeDataString(name)}/dead-letters", ApiJsonContext.Default.ListDeadLetterDto, ct);
                foreach (var letter in dead)
                {
                    stdout.WriteLine();
                    stdout.WriteLine($"dead letter: {letter.Task} snapshot {letter.SnapshotId} after {letter.Attempts} attempt(s): {letter.Reason}");
                    if (letter.StderrTail is { Length: > 0 } text)
                    {
                        stdout.WriteLine("  stderr: " + text.Replace("\n", "\n          ", StringComparison.Ordinal));
                    }
                }

                if (dead.Count > 0)
                {
                    stdout.WriteLine();
                    stdout.WriteLine($"once fixed: koalja retry {name}[/TASK] [--snapshot ID]; to give up: koalja discard {name}[/TASK]");
                }

                stdout.WriteLine();
            }

            return 0;
        }));
        return command;
    }

    private static string N(long count) => count.ToString(CultureInfo.InvariantCulture);

    /// <summary>12ms, 3.4s, 2m05s.</summary>
    private static string Duration(double ms) => ms switch
    {
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{ms:F0}ms"),
        < 60_000 => string.Create(CultureInfo.InvariantCulture, $"{ms / 1000:F1}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)(ms / 60_000)}m{(int)(ms / 1000 % 60):D2}s"),
    };

    private static async Task<string> PreviewAsync(KoaljaClient client, string id, CancellationToken ct)
    {
        using var response = await client.GetAsync($"api/values/{id}/content", ct, (0, 47));
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var text = Encoding.UTF8.GetString(bytes);
        return text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? $"({bytes.Length} bytes of binary)"
            : text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal);
    }

    /// <summary>
    /// A full id as given, or the one id a shorter prefix names (as printed by lineage, e.g. 12 characters); an ambiguous
    /// or unknown prefix fails with the server's reason.
    /// </summary>
    internal static async Task<string> FullIdAsync(KoaljaClient client, string id, CancellationToken ct) =>
        id.Length is >= 4 and < 32 && id.All(char.IsAsciiHexDigit)
            ? (await client.GetJsonAsync($"api/ids/{Uri.EscapeDataString(id)}", ApiJsonContext.Default.IdDto, ct)).Id
            : id;

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
