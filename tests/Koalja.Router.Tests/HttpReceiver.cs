using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Koalja.Router.Tests;

/// <summary>
/// A real HTTP server on a free loopback port: it records every request it gets (method, path, headers, body),
/// answers with <see cref="Status"/>, serves <see cref="Files"/> at <c>/files/{name}</c>, and answers <c>/raw/{name}</c>
/// with <see cref="Handlers"/> (a body that stalls, ends early, a redirect).
/// </summary>
internal sealed class HttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpReceiver(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public ConcurrentDictionary<string, (byte[] Content, string MediaType)> Files { get; } = new();

    /// <summary>What answers <c>/raw/{name}</c>, by name (404 for a name not here).</summary>
    public ConcurrentDictionary<string, RequestDelegate> Handlers { get; } = new();

    /// <summary>The status the receiver answers requests with (not file downloads).</summary>
    public int Status { get; set; } = StatusCodes.Status202Accepted;

    public static async Task<HttpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        HttpReceiver? self = null;
        app.MapGet("/files/{name}", (string name) => self!.Files.TryGetValue(name, out var file) ? Results.Bytes(file.Content, file.MediaType) : Results.NotFound());
        app.MapGet("/raw/{name}", (RequestDelegate)(http =>
        {
            if (self!.Handlers.TryGetValue((string)http.Request.RouteValues["name"]!, out var handler))
            {
                return handler(http);
            }

            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }));
        app.Map("/{**path}", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            self!.Requests.Enqueue(new ReceivedRequest(http.Request.Method, http.Request.Path.Value ?? "",
                http.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body.ToArray()));
            return Results.StatusCode(self.Status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new HttpReceiver(app, new Uri(address));
        return self;
    }

    public async Task<List<ReceivedRequest>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (Requests.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the receiver got {Requests.Count} request(s), not {count}");
            await Task.Delay(20);
        }

        return Requests.ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body);
