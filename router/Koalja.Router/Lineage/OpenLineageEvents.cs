using Koalja.Core.Contract;
using System.Text.Json.Nodes;
using Koalja.Router.Registry;

namespace Koalja.Router.Lineage;

/// <summary>
/// Executions as OpenLineage run events (spec 2-0-2): a job is a task (namespace <c>koalja://{pipeline}</c>),
/// a run is an execution (a START and a COMPLETE or FAIL event), datasets are values
/// (<c>values/{id}</c>, with a <c>koalja_value</c> facet holding the content hash). Custom facets carry
/// <c>_producer</c> and <c>_schemaURL</c> as the spec requires.
/// </summary>
public static class OpenLineageEvents
{
    public const string SchemaUrl = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
    public const string Producer = "https://github.com/koalja/koalja/tree/v0.1.0";
    private const string FacetSchema = "https://github.com/koalja/koalja/blob/main/docs/api.md#openlineage";
    private const string ErrorFacetSchema = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";

    public static JsonArray Build(IEnumerable<LineageRun> runs)
    {
        var events = new JsonArray();
        foreach (var run in runs)
        {
            events.Add(Event(run, "START", run.Execution.StartedAt, outputs: false));
            events.Add(Event(run, run.Execution.Status == ExecutionStatus.Succeeded ? "COMPLETE" : "FAIL", run.Execution.FinishedAt, outputs: true));
        }

        return events;
    }

    /// <summary>An OpenLineage run id is a UUID: our 32-hex-digit ids in its 8-4-4-4-12 form.</summary>
    public static string RunId(string executionId) => Guid.ParseExact(executionId, "N").ToString("D");

    private static JsonObject Event(LineageRun run, string type, DateTimeOffset time, bool outputs)
    {
        var e = run.Execution;
        var runFacets = new JsonObject
        {
            ["koalja_execution"] = Facet(new JsonObject
            {
                ["snapshotId"] = e.SnapshotId,
                ["attempt"] = e.Attempt,
                ["worker"] = e.Worker,
                ["codeVersion"] = run.CodeVersion,
                ["exitCode"] = e.ExitCode,
                ["log"] = e.LogSha256 is { } log ? ArtifactUri.For(log) : null,
            }),
        };
        if (type == "FAIL")
        {
            runFacets["errorMessage"] = new JsonObject
            {
                ["_producer"] = Producer,
                ["_schemaURL"] = ErrorFacetSchema,
                ["message"] = e.Error ?? "failed",
                ["programmingLanguage"] = "shell",
                ["stackTrace"] = e.StderrTail,
            };
        }

        var ns = $"koalja://{run.Pipeline}";
        var inputs = new JsonArray();
        foreach (var (input, position, value) in run.Inputs)
        {
            inputs.Add(Dataset(value, ns, "input", input, position));
        }

        var produced = new JsonArray();
        if (outputs)
        {
            foreach (var value in run.Outputs)
            {
                produced.Add(Dataset(value, ns, "output", value.Output, value.OutputIndex));
            }
        }

        return new JsonObject
        {
            ["eventType"] = type,
            ["eventTime"] = ProvJson.Time(time),
            ["producer"] = Producer,
            ["schemaURL"] = SchemaUrl,
            ["run"] = new JsonObject { ["runId"] = RunId(e.Id), ["facets"] = runFacets },
            ["job"] = new JsonObject { ["namespace"] = ns, ["name"] = run.Task },
            ["inputs"] = inputs,
            ["outputs"] = produced,
        };
    }

    private static JsonObject Dataset(ValueRecord value, string ns, string role, string name, int position) => new()
    {
        ["namespace"] = ns,
        ["name"] = $"values/{value.Id}",
        ["facets"] = new JsonObject
        {
            ["koalja_value"] = Facet(new JsonObject
            {
                ["task"] = value.Task,
                ["output"] = value.Output,
                ["sha256"] = value.Sha256,
                ["size"] = value.Size,
                ["mediaType"] = value.MediaType,
                ["data"] = ArtifactUri.For(value.Sha256),
                [role] = name,
                ["position"] = position,
            }),
        },
    };

    private static JsonObject Facet(JsonObject fields)
    {
        var facet = new JsonObject { ["_producer"] = Producer, ["_schemaURL"] = FacetSchema };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            if (value is not null)
            {
                facet[key] = value;
            }
        }

        return facet;
    }
}
