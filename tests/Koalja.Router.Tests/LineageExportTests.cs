using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;

namespace Koalja.Router.Tests;

/// <summary>Lineage queries and the PROV-JSON and OpenLineage exports, checked against schemas written from their specifications.</summary>
public sealed class LineageExportTests
{
    private static readonly Lazy<JsonSchema> ProvSchema = new(() => Schema("prov-json.schema.json"));
    private static readonly Lazy<JsonSchema> OpenLineageSchema = new(() => Schema("openlineage-runevent.schema.json"));

    [Fact]
    public async Task ProvJsonOfAnOutputIsValidAndNamesRolesPlansAndDerivations()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var (_, output) = await RunLinecountAsync(server);

        var text = await server.Http.GetStringAsync($"api/values/{output}/prov");

        Assert.Empty(ProvSchema.Value.Validate(text));
        var prov = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(3, prov["entity"]!.AsObject().Count(e => e.Value!["prov:type"]!.GetValue<string>() == "koalja:Value"));
        Assert.Equal(2, prov["entity"]!.AsObject().Count(e => e.Value!["prov:type"]!.GetValue<string>() == "prov:Plan"));
        Assert.Equal(2, prov["activity"]!.AsObject().Count);
        Assert.All(prov["used"]!.AsObject(), u => Assert.Equal("inputFile", u.Value!["prov:role"]!.GetValue<string>()));
        Assert.All(prov["wasGeneratedBy"]!.AsObject(), g => Assert.Equal("outputFile", g.Value!["prov:role"]!.GetValue<string>()));
        Assert.Equal(2, prov["wasDerivedFrom"]!.AsObject().Count);
        Assert.All(prov["wasAssociatedWith"]!.AsObject(), a => Assert.StartsWith("koalja:code/", a.Value!["prov:plan"]!.GetValue<string>(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenLineageEventsOfAValueAndOfThePipelineAreValidRunEvents()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var (drop, output) = await RunLinecountAsync(server);

        var ofValue = JsonNode.Parse(await server.Http.GetStringAsync($"api/values/{output}/openlineage"))!.AsArray();
        var ofPipeline = JsonNode.Parse(await server.Http.GetStringAsync("api/pipelines/linecount/openlineage"))!.AsArray();

        Assert.Equal(4, ofValue.Count);
        Assert.Equal(ofValue.ToJsonString(), ofPipeline.ToJsonString());
        foreach (var e in ofValue)
        {
            Assert.Empty(OpenLineageSchema.Value.Validate(e!.ToJsonString()));
        }

        Assert.Equal(["START", "COMPLETE", "START", "COMPLETE"], ofValue.Select(e => e!["eventType"]!.GetValue<string>()).ToArray());
        Assert.Equal(["removeDuplicates", "removeDuplicates", "countLines", "countLines"], ofValue.Select(e => e!["job"]!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal($"values/{drop}", ofValue[0]!["inputs"]![0]!["name"]!.GetValue<string>());
        Assert.Equal($"values/{output}", ofValue[3]!["outputs"]![0]!["name"]!.GetValue<string>());
        var page = JsonNode.Parse(await server.Http.GetStringAsync("api/pipelines/linecount/openlineage?limit=1"))!.AsArray();
        Assert.Equal(2, page.Count);
    }

    [Fact]
    public async Task AFailedExecutionIsAFailEventWithItsErrorMessage()
    {
        var pipeline = KoaljaTestServer.Load(File.ReadAllText(Path.Combine(KoaljaTestServer.RepositoryRoot, "examples", "linecount.yaml"))
            .Replace("cat {{.inputs.inputFile.path}} | uniq", "echo broken >&2; exit 3; uniq", StringComparison.Ordinal));
        await using var server = await KoaljaTestServer.StartAsync(pipeline, new Runtime.RuntimeOptions { MaxAttempts = 1, RetryDelay = TimeSpan.FromMilliseconds(10) });
        await server.DropAsync("linecount", "fileDropInput", "a\n");
        await server.WaitIdleAsync("linecount");

        var events = JsonNode.Parse(await server.Http.GetStringAsync("api/pipelines/linecount/openlineage"))!.AsArray();

        var fail = events.Single(e => e!["eventType"]!.GetValue<string>() == "FAIL")!;
        Assert.Empty(OpenLineageSchema.Value.Validate(fail.ToJsonString()));
        Assert.Equal("exit code 3", fail["run"]!["facets"]!["errorMessage"]!["message"]!.GetValue<string>());
        Assert.Contains("broken", fail["run"]!["facets"]!["errorMessage"]!["stackTrace"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheSchemasRejectDocumentsThatBreakTheSpecifications()
    {
        Assert.NotEmpty(ProvSchema.Value.Validate("""{"used": {"_:u1": {"prov:entity": "koalja:value/1"}}}"""));
        Assert.NotEmpty(ProvSchema.Value.Validate("""{"activity": {"koalja:execution/1": {"prov:startTime": "yesterday"}}}"""));
        Assert.NotEmpty(ProvSchema.Value.Validate("""{"entities": {}}"""));
        const string Event = """{"eventType": "COMPLETE", "eventTime": "2026-11-25T10:00:00Z", "producer": "https://example.org/p", "schemaURL": "https://example.org/s", "run": {"runId": "RUN"}, "job": {"namespace": "n", "name": "j"}}""";
        Assert.Empty(OpenLineageSchema.Value.Validate(Event.Replace("RUN", "0199a2c3-1111-7222-8333-444455556666", StringComparison.Ordinal)));
        Assert.NotEmpty(OpenLineageSchema.Value.Validate(Event));
        Assert.NotEmpty(OpenLineageSchema.Value.Validate(Event.Replace("COMPLETE", "DONE", StringComparison.Ordinal)));
        Assert.NotEmpty(OpenLineageSchema.Value.Validate("""{"eventType": "START", "eventTime": "2026-11-25T10:00:00Z", "producer": "https://example.org/p", "schemaURL": "https://example.org/s", "run": {"runId": "0199a2c3-1111-7222-8333-444455556666", "facets": {"x": {"a": 1}}}, "job": {"namespace": "n", "name": "j"}}"""));
    }

    [Fact]
    public async Task DepthDirectionAndAsOfShapeTheGraph()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var (drop, output) = await RunLinecountAsync(server);

        var one = await server.Http.GetFromJsonAsync<JsonElement>($"api/values/{output}/lineage?depth=1");
        var down = await server.Http.GetFromJsonAsync<JsonElement>($"api/values/{drop}/lineage?direction=down");
        using var early = await server.Http.GetAsync($"api/values/{output}/lineage?asOf={Uri.EscapeDataString(before.ToString("O"))}");
        using var badDirection = await server.Http.GetAsync($"api/values/{output}/lineage?direction=sideways");
        using var badTime = await server.Http.GetAsync($"api/values/{output}/lineage?asOf=soon");
        using var missing = await server.Http.GetAsync("api/values/nothing/lineage");

        Assert.Equal(2, one.GetProperty("values").GetArrayLength());
        Assert.Equal(3, down.GetProperty("values").GetArrayLength());
        Assert.Equal(output, down.GetProperty("values").EnumerateArray().Single(v => v.GetProperty("depth").GetInt32() == 2).GetProperty("value").GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, early.StatusCode);
        Assert.Contains("did not exist yet", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.NotFound), (badDirection.StatusCode, badTime.StatusCode, missing.StatusCode));
    }

    private static async Task<(string Drop, string Output)> RunLinecountAsync(KoaljaTestServer server)
    {
        var drop = (await server.DropAsync("linecount", "fileDropInput", "a\na\nb\n")).GetProperty("id").GetString()!;
        await server.WaitIdleAsync("linecount");
        return (drop, Assert.Single(await server.ValuesAsync("linecount", "countLines")).GetProperty("id").GetString()!);
    }

    private static JsonSchema Schema(string name) =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "testdata", "schemas", name))).GetAwaiter().GetResult();
}
