using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Koalja.Router.Api;
using Koalja.Router.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace Koalja.Cli.Commands;

/// <summary>
/// Talks to a running Koalja server: the one given by --url, KOALJA_URL, or the server.json of the data
/// directory. It sends a key (x-functions-key): KOALJA_KEY if set, else the data directory's keys.json,
/// but only to that directory's own server, so local keys never travel to a server named by --url. Reading commands on a
/// directory no server runs on read it through a view of their own (<see cref="ConnectToReadAsync"/>).
/// </summary>
internal sealed class KoaljaClient : IAsyncDisposable
{
    private readonly HttpClient _http;

    private readonly bool _sendsKey;

    private readonly LocalServer? _view;

    private KoaljaClient(Uri baseUri, string? key, LocalServer? view = null)
    {
        _view = view;
        _http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        if (key is not null)
        {
            _http.DefaultRequestHeaders.Add(ApiSecurity.KeyHeader, key);
            _sendsKey = true;
        }
    }

    public Uri BaseUri => _http.BaseAddress!;

    /// <summary>Whether no server runs on the data directory, so this reads what its registry and store hold (nothing changes while it reads).</summary>
    public bool Offline => _view is not null;

    /// <summary>
    /// As <see cref="Connect"/>, but a data directory no server runs on (none started, or it stopped or was killed) is
    /// read through a read-only view of it served in this process, so what a run left can be read after it ended.
    /// </summary>
    public static async Task<KoaljaClient> ConnectToReadAsync(string? url, string data, string? key, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(data);
        if (url is not null || Environment.GetEnvironmentVariable("KOALJA_URL") is not null || DataDirectory.IsServed(root)
            || (!File.Exists(Path.Combine(root, "registry.db")) && Environment.GetEnvironmentVariable("KOALJA_REGISTRY") is null))
        {
            return Connect(url, data, key: key);
        }

        LocalServer view;
        try
        {
            view = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = root, InspectOnly = true }, [], cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is BackendException or IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new CliException($"No server runs on '{data}', and its data cannot be read: {e.Message}");
        }

        return new KoaljaClient(view.Url, view.Keys.Function, view);
    }

    /// <param name="admin">Send the admin key (dropping or activating code) instead of the function key.</param>
    /// <param name="key">A key given on the command line (--key): sent to whichever server is named.</param>
    public static KoaljaClient Connect(string? url, string data, bool admin = false, string? key = null)
    {
        var root = Path.GetFullPath(data);
        var own = DataDirectory.ReadServer(root)?.Url;
        url ??= Environment.GetEnvironmentVariable("KOALJA_URL");
        url ??= own ?? throw new CliException($"No running Koalja server found for data directory '{data}'{(File.Exists(Path.Combine(root, "registry.db")) ? "" : ", and it holds no data")}. Start one with {CliApp.Self} up FILE{(Path.GetFullPath(data) == Path.GetFullPath(".koalja") ? "" : $" --data {data}")}, or pass --url.");
        if (!Uri.TryCreate(url.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{url}' is not an http(s) URL.");
        }

        key ??= Environment.GetEnvironmentVariable("KOALJA_KEY");
        if (key is null && own is not null && Uri.TryCreate(own.TrimEnd('/') + "/", UriKind.Absolute, out var ownUri) && ownUri == uri
            && DataDirectory.ReadKeys(root) is { } keys)
        {
            key = admin ? keys.Admin : keys.Function;
        }

        return new KoaljaClient(uri, key);
    }

    /// <summary>Sends a request with an optional file body and reads the JSON answer as <typeparamref name="T"/>; a 4xx/5xx becomes a <see cref="CliException"/>.</summary>
    public async Task<T> SendJsonAsync<T>(HttpMethod method, string path, string? file, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await using var stream = file is null ? null : File.OpenRead(file);
        using var request = new HttpRequestMessage(method, path);
        if (stream is not null)
        {
            request.Content = new StreamContent(stream);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        }

        using var response = await SendAsync(request, cancellationToken);
        return await ReadJsonAsync(response, type, cancellationToken);
    }

    /// <summary>POSTs <paramref name="body"/> as JSON and reads the JSON answer.</summary>
    public async Task<TAnswer> PostJsonAsync<TBody, TAnswer>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TAnswer> answerType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(body, bodyType) };
        using var response = await SendAsync(request, cancellationToken);
        return await ReadJsonAsync(response, answerType, cancellationToken);
    }

    /// <summary>GETs a JSON document as text, unchanged (for exports printed as they are).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        await ThrowIfFailedAsync(response, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    public async Task<T> GetJsonAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);
        return await ReadJsonAsync(response, type, cancellationToken);
    }

    /// <summary>Drops a file into a FileDrop task and returns the value it became.</summary>
    public async Task<ValueDto> PostFileAsync(string path, string file, string idempotencyKey, CancellationToken cancellationToken)
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
                return await ReadJsonAsync(response, ApiJsonContext.Default.ValueDto, cancellationToken);
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
                await ThrowIfFailedAsync(response, cancellationToken);
            }
        }

        return response;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_view is not null)
        {
            await _view.DisposeAsync();
        }
    }

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

    /// <summary>Reads a successful answer as <typeparamref name="T"/>, the API's own type for it.</summary>
    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        await ThrowIfFailedAsync(response, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            return JsonSerializer.Deserialize(text, type) ?? throw new JsonException("The answer is empty.");
        }
        catch (JsonException e)
        {
            throw NotUnderstood(response, text, e);
        }
    }

    /// <summary>A 4xx/5xx answer becomes a <see cref="CliException"/> with the title and detail of its problem+json.</summary>
    private async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        ProblemDetails? problem;
        try
        {
            problem = text.Length == 0 ? null : JsonSerializer.Deserialize(text, CliJsonContext.Default.ProblemDetails);
        }
        catch (JsonException e)
        {
            // JSON that is not a problem (an array, say): the status line says it all
            problem = IsJson(text) ? null : throw NotUnderstood(response, text, e);
        }

        var detail = problem?.Detail;
        if (response.StatusCode == HttpStatusCode.Unauthorized && !_sendsKey)
        {
            detail = (detail is null ? "" : detail + " ") + "(koalja sent no key: it sends the keys of its data directory's own server only; for another address pass --key KEY or set KOALJA_KEY; the server's keys.json holds them)";
        }

        throw new CliException($"{(int)response.StatusCode} {problem?.Title ?? response.ReasonPhrase}{(detail is null ? "" : ": " + detail)}", response.StatusCode);
    }

    private static CliException NotUnderstood(HttpResponseMessage response, string text, JsonException e) => IsJson(text)
        ? new CliException($"The server answered {(int)response.StatusCode} with JSON that koalja does not understand: {e.Message}")
        : new CliException($"The server answered {(int)response.StatusCode} with something that is not JSON.");

    private static bool IsJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>A failure to show the user as one line, without a stack trace.</summary>
internal sealed class CliException(string message, HttpStatusCode? status = null) : Exception(message)
{
    public HttpStatusCode? Status { get; } = status;
}
