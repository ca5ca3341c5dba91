using System.CommandLine;
using System.Globalization;
using Koalja.Router.Api;

namespace Koalja.Cli.Commands;

/// <summary><c>koalja pipelines</c> (the served pipelines, a line each), <c>pause</c> and <c>resume</c>.</summary>
internal static class PipelineCommands
{
    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) =>
        [List(stdout, stderr), Pause("pause", "Pause a pipeline: drops and events are still taken, no new snapshot runs (running ones finish) until resume", true, stdout, stderr),
         Pause("resume", "Resume a paused pipeline: the snapshots that waited run", false, stdout, stderr)];

    private static Command List(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("pipelines", "List the pipelines the server runs (with no server: those its data directory holds), with their counts") { ClientCommands.Url, ClientCommands.Data, ClientCommands.Key };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            await using var client = await ClientCommands.ConnectToReadAsync(parse, stderr, ct);
            var list = await client.GetJsonAsync("api/pipelines", ApiJsonContext.Default.ListPipelineSummaryDto, ct);
            static string N(long n) => n.ToString(CultureInfo.InvariantCulture);
            Table.Write(stdout, ["PIPELINE", "REVISION", "TASKS", "LINKS", "VALUES", "PENDING", "RUNNING", "DEAD", "STATE"],
                list.Select(p => new[]
                {
                    p.Name, p.Revision[..Math.Min(12, p.Revision.Length)], N(p.Tasks), N(p.Links), N(p.Values), N(p.Pending), N(p.Running), N(p.DeadLettered),
                    p.PausedSince is { } since ? $"paused since {since.ToLocalTime():yyyy-MM-dd HH:mm:ss}" : client.Offline ? "stopped" : "running",
                }).ToList());
            return 0;
        }));
        return command;
    }

    private static Command Pause(string name, string description, bool pause, TextWriter stdout, TextWriter stderr)
    {
        var pipeline = new Argument<string>("pipeline") { Description = pause ? "The pipeline to pause" : "The pipeline to resume" };
        var command = new Command(name, description) { pipeline, ClientCommands.Url, ClientCommands.Data, ClientCommands.Key };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            await using var client = ClientCommands.Connect(parse, admin: true);
            var answer = await client.SendJsonAsync(HttpMethod.Post, $"api/pipelines/{Uri.EscapeDataString(parse.GetValue(pipeline)!)}/{name}", null, ApiJsonContext.Default.PauseDto, ct);
            stdout.WriteLine(answer.PausedSince is { } since
                ? $"{answer.Pipeline} is paused (since {since.ToLocalTime():yyyy-MM-dd HH:mm:ss}): drops are taken, nothing new runs until {CliApp.Self} resume {answer.Pipeline}"
                : $"{answer.Pipeline} runs");
            return 0;
        }));
        return command;
    }
}
