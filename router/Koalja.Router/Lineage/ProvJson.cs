using Koalja.Core.Contract;
using System.Globalization;
using System.Text.Json.Nodes;
using Koalja.Router.Registry;

namespace Koalja.Router.Lineage;

/// <summary>
/// A lineage graph as a W3C PROV-JSON document (https://www.w3.org/submissions/prov-json/): values are
/// entities, executions are activities, each task is a software agent and each code version a plan
/// (<c>prov:Plan</c>) it followed; <c>used</c> and <c>wasGeneratedBy</c> carry the input and output
/// names as <c>prov:role</c>, and <c>wasDerivedFrom</c> links each output to each input of its execution.
/// </summary>
public static class ProvJson
{
    public const string Namespace = "urn:koalja:";

    public static JsonObject Build(LineageGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var entities = new JsonObject();
        var activities = new JsonObject();
        var agents = new JsonObject();
        var used = new JsonObject();
        var generated = new JsonObject();
        var derived = new JsonObject();
        var associated = new JsonObject();
        var values = graph.Values.ToDictionary(v => v.Value.Id, v => v.Value, StringComparer.Ordinal);
        foreach (var value in graph.Values.Select(v => v.Value))
        {
            entities[Value(value.Id)] = Entity(value);
        }

        foreach (var run in LineageRun.From(graph))
        {
            var e = run.Execution;
            var activity = Execution(e.Id);
            activities[activity] = new JsonObject
            {
                ["prov:type"] = "koalja:Execution",
                ["prov:label"] = $"{run.Task} attempt {e.Attempt}",
                ["prov:startTime"] = Time(e.StartedAt),
                ["prov:endTime"] = Time(e.FinishedAt),
                ["koalja:snapshot"] = e.SnapshotId,
                ["koalja:attempt"] = e.Attempt,
                ["koalja:worker"] = e.Worker,
                ["koalja:status"] = e.Status.Text(),
            };
            if (e.ExitCode is { } exit)
            {
                activities[activity]!["koalja:exitCode"] = exit;
            }

            if (e.LogSha256 is { } log)
            {
                activities[activity]!["koalja:log"] = ArtifactUri.For(log);
            }

            var agent = $"koalja:task/{run.Pipeline}/{run.Task}";
            agents[agent] = new JsonObject { ["prov:type"] = "prov:SoftwareAgent", ["prov:label"] = $"{run.Pipeline}/{run.Task}" };
            var plan = $"koalja:code/{run.CodeVersion}";
            entities[plan] = new JsonObject { ["prov:type"] = "prov:Plan", ["prov:label"] = $"code version {run.CodeVersion} of {run.Task}" };
            associated[$"_:assoc-{e.Id}"] = new JsonObject { ["prov:activity"] = activity, ["prov:agent"] = agent, ["prov:plan"] = plan };

            var usages = new List<(string Id, string Entity)>();
            foreach (var (input, position, value) in run.Inputs)
            {
                var id = $"_:used-{e.Id}-{input}-{position}";
                used[id] = new JsonObject
                {
                    ["prov:activity"] = activity,
                    ["prov:entity"] = Value(value.Id),
                    ["prov:time"] = Time(e.StartedAt),
                    ["prov:role"] = input,
                    ["koalja:position"] = position,
                };
                usages.Add((id, Value(value.Id)));
            }

            foreach (var output in run.Outputs)
            {
                var id = $"_:gen-{output.Id}";
                generated[id] = new JsonObject
                {
                    ["prov:entity"] = Value(output.Id),
                    ["prov:activity"] = activity,
                    ["prov:time"] = Time(output.CreatedAt),
                    ["prov:role"] = output.Output,
                    ["koalja:index"] = output.OutputIndex,
                };
                foreach (var (usage, entity) in usages)
                {
                    derived[$"_:der-{output.Id}-{usage[2..]}"] = new JsonObject
                    {
                        ["prov:generatedEntity"] = Value(output.Id),
                        ["prov:usedEntity"] = entity,
                        ["prov:activity"] = activity,
                        ["prov:generation"] = id,
                        ["prov:usage"] = usage,
                    };
                }
            }
        }

        var document = new JsonObject
        {
            ["prefix"] = new JsonObject { ["koalja"] = Namespace, ["xsd"] = "http://www.w3.org/2001/XMLSchema#" },
            ["entity"] = entities,
            ["activity"] = activities,
            ["agent"] = agents,
            ["used"] = used,
            ["wasGeneratedBy"] = generated,
            ["wasDerivedFrom"] = derived,
            ["wasAssociatedWith"] = associated,
        };
        foreach (var key in document.Where(p => p.Value is JsonObject { Count: 0 }).Select(p => p.Key).ToList())
        {
            document.Remove(key);
        }

        return document;
    }

    private static JsonObject Entity(ValueRecord v)
    {
        var entity = new JsonObject
        {
            ["prov:type"] = "koalja:Value",
            ["prov:label"] = $"{v.Task}.{v.Output}[{v.OutputIndex}]",
            ["koalja:pipeline"] = v.Pipeline,
            ["koalja:task"] = v.Task,
            ["koalja:output"] = v.Output,
            ["koalja:sha256"] = v.Sha256,
            ["koalja:size"] = v.Size,
            ["koalja:mediaType"] = v.MediaType,
            ["koalja:data"] = ArtifactUri.For(v.Sha256),
            ["koalja:revision"] = v.Revision,
            ["koalja:created"] = new JsonObject { ["$"] = Time(v.CreatedAt), ["type"] = "xsd:dateTime" },
        };
        if (v.CodeVersion is { } code)
        {
            entity["koalja:codeVersion"] = code;
        }

        if (v.SourceName is { } name)
        {
            entity["koalja:sourceName"] = name;
        }

        if (v.Shadow)
        {
            entity["koalja:shadow"] = true;
        }

        return entity;
    }

    private static string Value(string id) => $"koalja:value/{id}";

    private static string Execution(string id) => $"koalja:execution/{id}";

    /// <summary>UTC, ISO 8601 with a Z (xsd:dateTime and JSON-schema date-time both accept it).</summary>
    internal static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
