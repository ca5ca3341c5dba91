using System.CommandLine;
using Koalja.Router.Api;

namespace Koalja.Cli.Commands;

/// <summary><c>koalja retry</c> and <c>koalja discard</c>: what to do with dead letters once their cause is known.</summary>
internal static class DeadLetterCommands
{
    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) =>
    [
        Resolve("retry", "Run dead-lettered snapshots once more, with their task's current code (after fixing it)", "retried", stdout, stderr),
        Resolve("discard", "Give up on dead-lettered snapshots: they are no longer listed or counted as dead letters", "discarded", stdout, stderr),
    ];

    private static Command Resolve(string name, string description, string done, TextWriter stdout, TextWriter stderr)
    {
        var target = new Argument<string>("pipeline[/task]") { Description = "Whose dead letters: a pipeline's, or one task's" };
        var snapshots = new Option<string[]>("--snapshot") { Description = "Only this snapshot (repeat for several; koalja status lists them)", AllowMultipleArgumentsPerToken = false };
        var command = new Command(name, description) { target, snapshots, ClientCommands.Url, ClientCommands.Data, ClientCommands.Key };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            var text = parse.GetValue(target)!;
            var (pipeline, task) = text.Contains('/', StringComparison.Ordinal) ? ClientCommands.SplitTarget(text) : (text, null);
            var query = string.Join('&', (task is null ? [] : new[] { $"task={Uri.EscapeDataString(task)}" })
                .Concat((parse.GetValue(snapshots) ?? []).Select(s => $"snapshot={Uri.EscapeDataString(s)}")));
            await using var client = ClientCommands.Connect(parse, admin: true);
            var answer = await client.SendJsonAsync(HttpMethod.Post, $"api/pipelines/{Uri.EscapeDataString(pipeline)}/dead-letters/{name}" + (query.Length > 0 ? "?" + query : ""),
                null, ApiJsonContext.Default.DeadLetterResolutionDto, ct);
            foreach (var letter in answer.DeadLetters)
            {
                stdout.WriteLine($"{done}: {pipeline}/{letter.Task} snapshot {letter.SnapshotId} (was: {letter.Reason})");
            }

            stdout.WriteLine(answer.DeadLetters.Count == 0 ? $"no dead letters of {text} to {name}" : $"{answer.DeadLetters.Count} dead letter(s) {done}"
                + (name == "retry" ? $"; follow them with: {CliApp.Self} logs {(task is null ? $"{pipeline}/TASK" : text)} --follow" : ""));
            return 0;
        }));
        return command;
    }
}
