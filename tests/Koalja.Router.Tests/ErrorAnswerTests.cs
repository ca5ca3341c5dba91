using System.Net;
using System.Text;
using System.Text.Json;
using Koalja.Router.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Tests;

/// <summary>
/// Issue 19, defect 8: the framework's own error answers (a query parameter it cannot bind, no such route, a method not
/// taken, an unhandled exception) had an empty body, though docs/api.md promises problem+json for every error.
/// </summary>
public sealed class ErrorAnswerTests
{
    private static async Task<(HttpStatusCode Status, JsonElement Problem)> ProblemAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{(int)response.StatusCode} {response.Content.Headers.ContentType}: '{text}'");
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        return (response.StatusCode, problem);
    }

    [Fact]
    public async Task FrameworkErrorsAnswerProblemJsonThatSaysWhatWasWrong()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.OneCommand("flaky", "true"));

        using var unbound = await server.Http.GetAsync("api/pipelines/flaky/values?limit=many");
        var (status, problem) = await ProblemAsync(unbound);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Matches("^Failed to bind parameter \".* limit\" from \"many\"", problem.GetProperty("detail").GetString());

        using var nowhere = await server.Http.GetAsync("api/no/such/thing");
        (status, problem) = await ProblemAsync(nowhere);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("GET /api/no/such/thing", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var method = await server.Http.DeleteAsync("api/pipelines/flaky");
        (status, problem) = await ProblemAsync(method);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, status);
        Assert.Equal("Method not allowed", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AnUnhandledExceptionIsA500ProblemThatShowsNothingOfIt()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var code = Path.Combine(server.Data, "code");
        Directory.Delete(code, recursive: true);
        await File.WriteAllTextAsync(Path.Combine(server.Data, "code"), "a file where the code cache's directory was"); // unpacking code now fails

        var (status, problem) = await server.PutCodeAsync("linecount", "countLines", Encoding.UTF8.GetBytes("#!/bin/sh\ntrue\n"));

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal(("Internal server error", 500), (problem.GetProperty("title").GetString(), problem.GetProperty("status").GetInt32()));
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain(server.Data, detail, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", detail, StringComparison.Ordinal);
        Assert.Equal(2, problem.EnumerateObject().Count(p => p.Name is "title" or "detail"));
    }

    /// <summary>Found by HttpFuzzTests: a JSON body whose Content-Type names a charset .NET does not know answered 500.</summary>
    [Fact]
    public async Task AJsonBodyInACharsetTheServerDoesNotKnowIsA415ThatNamesIt()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.OneCommand("flaky", "true"));
        using var content = new StringContent("{\"values\": [\"0123\"]}");
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=nope");

        using var response = await server.Http.PostAsync("api/pipelines/flaky/derived", content);

        var (status, problem) = await ProblemAsync(response);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("'nope'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheMiddlewareAnswersProblemJsonForEveryErrorWithoutABody()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.UseKoaljaErrorAnswers();
        app.MapGet("/throws", string () => throw new InvalidOperationException("secret: /var/lib/koalja"));
        app.MapGet("/bad", string () => throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge));
        app.MapGet("/empty", (HttpResponse response) => { response.StatusCode = StatusCodes.Status409Conflict; });
        app.MapGet("/fine", () => Results.NoContent());
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        using var throws = await http.GetAsync("throws");
        var (status, problem) = await ProblemAsync(throws);
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.DoesNotContain("secret", problem.ToString(), StringComparison.Ordinal);

        using var bad = await http.GetAsync("bad");
        (status, problem) = await ProblemAsync(bad);
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "Request body too large."), (status, problem.GetProperty("detail").GetString()));

        using var empty = await http.GetAsync("empty");
        (status, problem) = await ProblemAsync(empty);
        Assert.Equal((HttpStatusCode.Conflict, "Conflict"), (status, problem.GetProperty("title").GetString()));

        using var fine = await http.GetAsync("fine");
        Assert.Equal(HttpStatusCode.NoContent, fine.StatusCode);
        await app.StopAsync();
    }
}
