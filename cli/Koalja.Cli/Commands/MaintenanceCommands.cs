using System.CommandLine;
using System.Globalization;
using Koalja.Router.Hosting;
using Koalja.Router.Registry;
using Koalja.Storage;

namespace Koalja.Cli.Commands;

/// <summary>
/// <c>koalja prune</c> and <c>koalja remove</c>: delete what is no longer wanted from a data directory no server runs on
/// (it is locked meanwhile, so none can start), keeping the lineage of everything kept whole.
/// </summary>
internal static class MaintenanceCommands
{
    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Only say what would be deleted" };
    private static readonly Option<string?> Registry = new("--registry") { Description = "The registry, as koalja up was given it (default: KOALJA_REGISTRY, else SQLite in the data directory)" };
    private static readonly Option<string?> Storage = new("--storage") { Description = "Where values are stored, as koalja up was given it (default: STORAGETYPE, else the data directory)" };

    public static IEnumerable<Command> Create(TextWriter stdout, TextWriter stderr) => [Prune(stdout, stderr), Remove(stdout, stderr)];

    private static Command Prune(TextWriter stdout, TextWriter stderr)
    {
        var newer = new Option<string?>("--keep-newer-than") { Description = "Keep values made within this long (e.g. 90m, 12h, 7d, 2w)" };
        var last = new Option<int?>("--keep-last") { Description = "Keep the newest N values of each task output" };
        var pipeline = new Option<string?>("--pipeline") { Description = "Prune only this pipeline (default: all)" };
        var command = new Command("prune", "Delete old values, and the runs that made them, keeping whatever a kept value's lineage needs and what pending work needs")
        {
            newer, last, pipeline, DryRun, ClientCommands.Data, Registry, Storage,
        };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            if (parse.GetValue(newer) is null && parse.GetValue(last) is null)
            {
                throw new CliException("Say what to keep: --keep-newer-than DURATION and/or --keep-last N (add --dry-run to see what would go)");
            }

            if (parse.GetValue(last) is < 0)
            {
                throw new CliException($"--keep-last {parse.GetValue(last)}: 0 or more values per task output");
            }

            var since = parse.GetValue(newer) is { } text ? DateTimeOffset.UtcNow - Duration(text) : (DateTimeOffset?)null;
            var rule = new RetentionRule(since, parse.GetValue(last), parse.GetValue(pipeline));
            return await WithRetentionAsync(parse, stdout, async (retention, dry) =>
            {
                if (rule.Pipeline is { } name && !retention.Knows(name))
                {
                    throw new CliException($"No pipeline '{name}' in {parse.GetValue(ClientCommands.Data)}");
                }

                return await retention.PruneAsync(rule, dry, ct);
            }, ct);
        }));
        return command;
    }

    private static Command Remove(TextWriter stdout, TextWriter stderr)
    {
        var pipeline = new Argument<string>("pipeline") { Description = "The pipeline to delete, with all its values, runs and code versions" };
        var command = new Command("remove", "Delete a pipeline and everything it recorded (a later koalja up with its file starts it afresh)") { pipeline, DryRun, ClientCommands.Data, Registry, Storage };
        command.SetAction((parse, ct) => ClientCommands.Guard(stderr, async () =>
        {
            var name = parse.GetValue(pipeline)!;
            return await WithRetentionAsync(parse, stdout, async (retention, dry) => retention.Knows(name)
                ? await retention.RemovePipelineAsync(name, dry, ct)
                : throw new CliException($"No pipeline '{name}' in {parse.GetValue(ClientCommands.Data)}"), ct);
        }));
        return command;
    }

    /// <summary>Locks the data directory (refusing while a server runs on it), opens its registry and store, and reports what <paramref name="act"/> deleted.</summary>
    private static async Task<int> WithRetentionAsync(ParseResult parse, TextWriter stdout, Func<Retention, bool, Task<RetentionReport>> act, CancellationToken ct)
    {
        var data = parse.GetValue(ClientCommands.Data)!;
        var root = Path.GetFullPath(data);
        var setting = parse.GetValue(Registry);
        if (!Directory.Exists(root) || (setting is null && Environment.GetEnvironmentVariable("KOALJA_REGISTRY") is null && !File.Exists(Path.Combine(root, "registry.db"))))
        {
            throw new CliException($"'{data}' holds no Koalja data");
        }

        using var directory = new DataDirectory(root);
        try
        {
            directory.Lock();
        }
        catch (InvalidOperationException e)
        {
            throw new CliException($"{e.Message} Data is deleted only where no server runs: stop it first (Ctrl+C in its terminal).");
        }

        var local = setting is null && Environment.GetEnvironmentVariable("KOALJA_REGISTRY") is null;
        Koalja.Router.Registry.Registry registry;
        IArtifactStore store;
        try
        {
            registry = RegistrySettings.Open(setting, Environment.GetEnvironmentVariable, directory.RegistryPath);
            store = await StorageSettings.OpenAsync(parse.GetValue(Storage), Environment.GetEnvironmentVariable, directory.BlobsPath, ct);
        }
        catch (BackendException e)
        {
            throw new CliException(e.Message);
        }

        try
        {
            var dry = parse.GetValue(DryRun);
            RetentionReport report;
            try
            {
                report = await act(new Retention(registry, store, respectLeases: !local), dry);
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message);
            }

            stdout.WriteLine($"{(dry ? "would delete" : "deleted")} {report.Values} value(s) ({LineageTree.Size(report.ValueBytes)} of content), "
                + $"{report.Snapshots} snapshot(s) with {report.Executions} execution(s), {report.Blobs} stored file(s); {report.KeptValues} value(s) kept");
            return 0;
        }
        finally
        {
            (registry as IDisposable)?.Dispose();
            (store as IDisposable)?.Dispose();
        }
    }

    /// <summary>A duration as people write it: a number and s, m, h, d or w.</summary>
    internal static TimeSpan Duration(string text)
    {
        var unit = text.Length > 0 ? text[^1] : ' ';
        if (!double.TryParse(text[..^Math.Min(1, text.Length)], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsInfinity(n)
            || unit is not ('s' or 'm' or 'h' or 'd' or 'w'))
        {
            throw new CliException($"'{text}' is not a duration: a number and s, m, h, d or w (e.g. 90m, 12h, 7d)");
        }

        var seconds = n * unit switch { 's' => 1, 'm' => 60, 'h' => 3600, 'd' => 86_400, _ => 7 * 86_400 };
        return seconds <= 100 * 366 * 86_400.0
            ? TimeSpan.FromSeconds(seconds)
            : throw new CliException($"'{text}' is more than a hundred years");
    }
}
