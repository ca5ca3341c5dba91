using System.Net.Http.Json;
using System.Text.Json;
using Koalja.Router.Hosting;

namespace Koalja.Router.Tests;

public sealed class RegistryAndHostingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("koalja-registry-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task SeveralPipelinesAreServedAtOnce()
    {
        await using var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = _dir },
            [KoaljaTestServer.Example("linecount"), KoaljaTestServer.Example("linecount-mergeinto")]);
        using var http = new HttpClient { BaseAddress = server.Url };

        (await http.PostAsync("pipelines/linecount/fileDropInput", new StringContent("a\n"))).EnsureSuccessStatusCode();
        (await http.PostAsync("pipelines/linecount-mergeinto/fileDropInput2", new StringContent("b\n"))).EnsureSuccessStatusCode();

        var pipelines = await http.GetFromJsonAsync<JsonElement>("api/pipelines");
        Assert.Equal(["linecount", "linecount-mergeinto"], pipelines.EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
    }

    /// <summary>Issue 19, defect 9: the registry and blobs were readable by every local user (0644 files in a 0755 directory).</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheDataDirectoryIsItsOwnersOnly()
    {
        var fresh = Path.Combine(_dir, "fresh");
        await using (var server = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = fresh }, [KoaljaTestServer.Example("linecount")]))
        {
            Assert.Equal(DataDirectory.Mode, File.GetUnixFileMode(fresh));
            Assert.True(File.Exists(Path.Combine(fresh, "registry.db")));
        }

        var older = Directory.CreateDirectory(Path.Combine(_dir, "older")).FullName;
        File.SetUnixFileMode(older, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        using (new DataDirectory(older))
        {
            Assert.Equal(DataDirectory.Mode, File.GetUnixFileMode(older));
        }
    }

    [Fact]
    public async Task ASecondServerOnTheSameDataDirectoryIsRefused()
    {
        await using var first = await LocalServer.StartAsync(new LocalServerOptions { DataDirectory = _dir }, [KoaljaTestServer.Example("linecount")]);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            LocalServer.StartAsync(new LocalServerOptions { DataDirectory = _dir }, [KoaljaTestServer.Example("linecount")]));

        Assert.Contains("Another Koalja server is using", error.Message, StringComparison.Ordinal);
        Assert.Contains(first.Url.ToString().TrimEnd('/'), error.Message, StringComparison.Ordinal);
    }
}
