using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Koalja.Router.Api;
using Koalja.Router.Runtime;

namespace Koalja.Cli.Commands;

/// <summary><c>code</c> (drop, list, activate a task's code) and <c>lineage</c> (where a value came from, or what came of it).</summary>
internal static class ProvenanceCommands
{
    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) => [Code(stdout, stderr), Lineage(stdout, stderr)];

    private static Command Code(TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("pipeline/task") { Description = "The task, e.g. linecount/countLines" };
        var file = new Argument<string?>("file") { Description = "A script (with a #! line, or run by /bin/sh) or a .zip/.tar.gz archive", Arity = ArgumentArity.ZeroOrOne };
        var list = new Option<bool>("--list") { Description = "List the task's code versions" };
        var activate = new Option<string?>("--activate") { Description = "Make this code version current again (a roll-back)" };
        var entrypoint = new Option<string?>("--entrypoint") { Description = "The file to run inside an archive (else koalja.yaml names it)" };
        var replay = new Option<bool>("--replay") { Description = "Re-run the new code on the task's recent snapshots and report which outputs change" };
        var replayLimit = new Option<int?>("--replay-limit") { Description = "Most snapshots to replay (default 20)" };
        var publish = new Option<bool>("--publish") { Description = "Send the outputs of the replay downstream (default: they stay shadow values)" };
        var inactive = new Option<bool>("--no-activate") { Description = "Store the code without making it current (try it with --replay first)" };
        var command = new Command("code", "Drop code into a task, list its code versions, or activate one")
        {
            target, file, list, activate, entrypoint, replay, replayLimit, publish, inactive, ClientCommands.Url, ClientCommands.Data, ClientCommands.Key,
        };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            var (pipeline, task) = ClientCommands.SplitTarget(parse.GetValue(target)!);
            var path = $"api/pipelines/{Uri.EscapeDataString(pipeline)}/tasks/{Uri.EscapeDataString(task)}/code";
            var source = parse.GetValue(file);
            var modes = (source is null ? 0 : 1) + (parse.GetValue(list) ? 1 : 0) + (parse.GetValue(activate) is null ? 0 : 1);
            if (modes != 1)
            {
                throw new CliException("Give exactly one of: a FILE to drop, --list, or --activate VERSION.");
            }

            await using var client = ClientCommands.Connect(parse, admin: true);
            if (parse.GetValue(list))
            {
                WriteVersions(stdout, await client.GetJsonAsync(path, ApiJsonContext.Default.CodeListDto, ct));
                return 0;
            }

            if (parse.GetValue(activate) is { } version)
            {
                var full = await ClientCommands.FullIdAsync(client, version, ct);
                var activated = await client.SendJsonAsync(HttpMethod.Post, $"{path}/{Uri.EscapeDataString(full)}/activate", null, ApiJsonContext.Default.CodeVersionDto, ct);
                stdout.WriteLine($"code version {activated.Id} ({activated.Kind}) is current for {pipeline}/{task}");
                return 0;
            }

            if (!File.Exists(source))
            {
                throw new CliException(Directory.Exists(source) ? $"'{source}' is a directory; pack it as .tar.gz or .zip" : $"No such file: '{source}'");
            }

            var query = new List<string> { $"name={Uri.EscapeDataString(Path.GetFileName(source!))}" };
            if (parse.GetValue(entrypoint) is { } e)
            {
                query.Add($"entrypoint={Uri.EscapeDataString(e)}");
            }

            if (parse.GetValue(replay))
            {
                query.Add("replay=true");
                query.Add($"publish={(parse.GetValue(publish) ? "true" : "false")}");
                if (parse.GetValue(replayLimit) is { } n)
                {
                    query.Add($"replayLimit={n}");
                }
            }

            if (parse.GetValue(inactive))
            {
                query.Add("activate=false");
            }

            if (parse.GetValue(replay))
            {
                stderr.WriteLine($"koalja: replaying {pipeline}/{task}'s recent snapshots with the new code...");
            }

            var answer = await client.SendJsonAsync(HttpMethod.Put, $"{path}?{string.Join('&', query)}", source, ApiJsonContext.Default.CodeDropDto, ct);
            var dropped = answer.Version;
            stdout.WriteLine($"code version {dropped.Id} ({dropped.Kind}, entrypoint {dropped.Entrypoint}) "
                + (answer.Current ? $"is current for {pipeline}/{task}" : $"is stored for {pipeline}/{task}, not current"));
            if (answer.Replay is { } report)
            {
                WriteReplay(stdout, report);
            }

            return 0;
        }));
        return command;
    }

    private static void WriteVersions(TextWriter stdout, CodeListDto list)
    {
        Table.Write(stdout, ["VERSION", "KIND", "CREATED", "VALUES", "CURRENT", "FILE"], list.Versions.Select(v => new[]
        {
            v.Id,
            v.Kind,
            v.Created.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            v.Values.ToString(CultureInfo.InvariantCulture),
            v.Current ? "*" : "",
            v.FileName is { } name ? $"{name} ({v.Entrypoint})" : v.Entrypoint ?? "(the pipeline file's executor)",
        }).ToList());
    }

    private static void WriteReplay(TextWriter stdout, ReplayDto report)
    {
        stdout.WriteLine($"replayed {report.Snapshots} snapshot(s): {report.Changed} changed, {report.Unchanged} unchanged, {report.Failed} failed"
            + (report.Published ? " (outputs published)" : " (outputs kept as shadow values)"));
        Table.Write(stdout, ["SNAPSHOT", "RESULT", "BEFORE", "AFTER"], report.Results.Select(r => new[]
        {
            r.SnapshotId,
            Word(r.Result),
            Hashes(r.Before),
            r.Result == ReplayVerdict.Failed ? (r.Error ?? "").Split('\n')[0] : Hashes(r.After),
        }).ToList());
    }

    private static string Hashes(IEnumerable<ReplayOutput> outputs) => string.Join(" ", outputs.Select(o => $"{o.Output}[{o.Index}]={o.Sha256[..12]}"));

    /// <summary>A replay verdict in the API's word for it (<c>changed</c>, <c>unchanged</c>, <c>failed</c>).</summary>
    private static string Word(ReplayVerdict verdict) => JsonSerializer.Serialize(verdict, ApiJsonContext.Default.ReplayVerdict).Trim('"');

    private static Command Lineage(TextWriter stdout, TextWriter stderr)
    {
        var id = new Argument<string>("value-id") { Description = "The value to trace" };
        var down = new Option<bool>("--down") { Description = "Show what was made from the value, instead of where it came from" };
        var depth = new Option<int?>("--depth") { Description = "Most hops to follow (default: all)" };
        var asOf = new Option<string?>("--as-of") { Description = "Only what existed at this time (ISO 8601)" };
        var format = new Option<string>("--format") { Description = "tree, json, prov (W3C PROV-JSON) or openlineage (run events)", DefaultValueFactory = _ => "tree" };
        format.AcceptOnlyFromAmong("tree", "json", "prov", "openlineage");
        var command = new Command("lineage", "Show where a value came from (inputs, tasks, code versions, times), or export it") { id, down, depth, asOf, format, ClientCommands.Url, ClientCommands.Data, ClientCommands.Key };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            var query = $"direction={(parse.GetValue(down) ? "down" : "up")}"
                + (parse.GetValue(depth) is { } d ? $"&depth={d}" : "")
                + (parse.GetValue(asOf) is { } t ? $"&asOf={Uri.EscapeDataString(t)}" : "");
            var value = Uri.EscapeDataString(await ClientCommands.FullIdAsync(client, parse.GetValue(id)!, ct));
            switch (parse.GetValue(format))
            {
                case "prov":
                    stdout.WriteLine(Pretty(await client.GetTextAsync($"api/values/{value}/prov?{query}", ct)));
                    break;
                case "openlineage":
                    stdout.WriteLine(Pretty(await client.GetTextAsync($"api/values/{value}/openlineage?{query}", ct)));
                    break;
                case "json":
                    stdout.WriteLine(Pretty(await client.GetTextAsync($"api/values/{value}/lineage?{query}", ct)));
                    break;
                default:
                    LineageTree.Write(stdout, await client.GetJsonAsync($"api/values/{value}/lineage?{query}", ApiJsonContext.Default.LineageDto, ct));
                    break;
            }

            return 0;
        }));
        return command;
    }

    private static string Pretty(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, PrettyOptions);

    private static readonly JsonSerializerOptions PrettyOptions = new() { WriteIndented = true };
}
