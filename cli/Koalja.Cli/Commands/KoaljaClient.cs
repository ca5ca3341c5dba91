using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Koalja.Operator.Hosting;

namespace Koalja.Cli.Commands;

/// <summary>Talks to a running Koalja server: the one given by --url, KOALJA_URL, or the server.json of the data directory.</summary>
internal sealed class KoaljaClient : IDisposable
{
    private readonly HttpClient _http;

    private KoaljaClient(Uri baseUri) => _http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };

    public Uri BaseUri => _http.BaseAddress!;

    public static KoaljaClient Connect(string? url, string data)
    {
        url ??= Environment.GetEnvironmentVariable("KOALJA_URL");
        if (url is null)
        {
            url = DataDirectory.ReadServer(Path.GetFullPath(data))?.Url
                ?? throw new CliException($"No running Koalja server found for data directory '{data}'. Start one with ./koalja up FILE, or pass --url.");
        }

        return Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? new KoaljaClient(uri)
            : throw new CliException($"'{url}' is not an http(s) URL.");
    }

    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        return await ReadJsonAsync(response, cancellationToken);
    }

    public async Task<JsonElement> PostFileAsync(string path, string file, string idempotencyKey, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var stream = File.OpenRead(file);
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StreamContent(stream) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            request.Headers.Add("X-Koalja-Filename", Uri.EscapeDataString(Path.GetFileName(file)));
            try
            {
                using var response = await SendAsync(request, cancellationToken);
                return await ReadJsonAsync(response, cancellationToken);
            }
            catch (CliException) when (attempt < 5 && !cancellationToken.IsCancellationRequested)
            {
                // the same idempotency key makes a retry safe, even if the first request was recorded
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }

    public async Task<HttpResponseMessage> GetAsync(string path, CancellationToken cancellationToken, (long From, long To)? range = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (range is { } r)
        {
            request.Headers.Range = new RangeHeaderValue(r.From, r.To);
        }

        var response = await SendAsync(request, cancellationToken, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                await ReadJsonAsync(response, cancellationToken);
            }
        }

        return response;
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"Cannot reach the Koalja server at {BaseUri}: {e.Message}");
        }
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement json;
        try
        {
            json = JsonDocument.Parse(text.Length == 0 ? "null" : text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CliException($"The server answered {(int)response.StatusCode} with something that is not JSON.");
        }

        if (response.IsSuccessStatusCode)
        {
            return json;
        }

        var title = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("title", out var t) ? t.GetString() : response.ReasonPhrase;
        var detail = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("detail", out var d) ? d.GetString() : null;
        throw new CliException($"{(int)response.StatusCode} {title}{(detail is null ? "" : ": " + detail)}", response.StatusCode);
    }
}

/// <summary>A failure to show the user as one line, without a stack trace.</summary>
internal sealed class CliException(string message, HttpStatusCode? status = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
}
