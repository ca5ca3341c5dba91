using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Koalja.Router.Tests;

/// <summary>A value's content is served with the sender's media type; nothing in it may act on the server's origin.</summary>
public sealed class ContentSafetyTests
{
    [Theory]
    [InlineData("text/html", true)]
    [InlineData("image/svg+xml", true)]
    [InlineData("application/xhtml+xml", true)]
    [InlineData("text/javascript", true)]
    [InlineData("text/plain; charset=utf-8", false)]
    [InlineData("application/json", false)]
    [InlineData("image/png", false)]
    public async Task ContentIsNeverSniffedIsSandboxedAndActiveTypesAreDownloads(string mediaType, bool attachment)
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        using var drop = new HttpRequestMessage(HttpMethod.Post, "pipelines/linecount/fileDropInput") { Content = new StringContent("<script>alert(document.cookie)</script>", Encoding.UTF8) };
        drop.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        using var dropped = await server.Http.SendAsync(drop);
        var id = JsonDocument.Parse(await dropped.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;

        using var content = await server.Http.GetAsync($"api/values/{id}/content");

        Assert.Equal(("nosniff", "default-src 'none'; sandbox"),
            (string.Join(",", content.Headers.GetValues("X-Content-Type-Options")), string.Join(",", content.Headers.GetValues("Content-Security-Policy"))));
        Assert.Equal(attachment ? "attachment" : null, content.Content.Headers.ContentDisposition?.DispositionType);
    }

    /// <summary>Issue 19, defect 9: a 4,000-character id was echoed in full in the 404's title.</summary>
    [Fact]
    public async Task ALongIdIsNamedNotEchoedWhole()
    {
        await using var server = await KoaljaTestServer.StartAsync(KoaljaTestServer.Example("linecount"));
        var id = new string('a', 4000);

        using var answer = await server.Http.GetAsync($"api/values/{id}");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, answer.StatusCode);
        var title = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement.GetProperty("title").GetString()!;
        Assert.Equal($"No value '{new string('a', 80)}…'", title);
    }
}
