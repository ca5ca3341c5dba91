using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Koalja.Operator;
using Koalja.Operator.Controller;
using Koalja.Operator.Tests.Fake;
using Microsoft.Extensions.Logging.Abstractions;

namespace Koalja.Cli.Tests;

/// <summary>
/// <c>koalja apply</c> against an API server (the operator tests' in-process fake) with the operator's controller
/// running: it submits, waits for Ready printing each change, and prints the URL; it fails with the reason when the
/// pipeline does not get there.
/// </summary>
public sealed class ApplyCommandTests : IAsyncLifetime
{
    private FakeKubeApi? _api;
    private Kubernetes? _kube;
    private string _dir = "";

    private FakeKubeApi Api => _api!;

    private Kubernetes Kube => _kube!;

    public async Task InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync();
        _kube = _api.Client();
        _dir = Directory.CreateTempSubdirectory("koalja-apply-").FullName;
        await File.WriteAllTextAsync(Path.Combine(_dir, "kubeconfig"), $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: fake, cluster: {server: "{{{_api.BaseUri}}}"}}]
            users: [{name: fake, user: {token: t}}]
            contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: team-a}}]
            current-context: fake
            """);
    }

    public async Task DisposeAsync()
    {
        _kube?.Dispose();
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task ItSubmitsWaitsForReadyAndPrintsTheUrl()
    {
        using var stop = new CancellationTokenSource();
        var controller = new PipelineController(Kube, new OperatorOptions { Namespace = "team-a", WatchNamespace = "team-a" }, NullLogger.Instance);
        var running = controller.RunAsync(stop.Token);
        var apply = CliRunner.RunAsync("apply", Example("linecount"), "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--timeout", "30");

        // No kubelet here: the router becomes available when its Deployment's status says so.
        await Until(async () => (await Kube.AppsV1.ListNamespacedDeploymentAsync("team-a")).Items.Any(d => d.Name() == KubeNames.Router("linecount")));
        var status = new JsonObject { ["status"] = new JsonObject { ["replicas"] = 1, ["availableReplicas"] = 1 } };
        await Kube.AppsV1.PatchNamespacedDeploymentStatusAsync(new V1Patch(status.ToJsonString(), V1Patch.PatchType.MergePatch), KubeNames.Router("linecount"), "team-a");

        var (code, output, error) = await apply;
        await stop.CancelAsync();
        await running;
        Assert.True(code == 0, output + error);
        Assert.Contains("pipeline team-a/linecount applied (generation 1)", output, StringComparison.Ordinal);
        Assert.Contains("Valid=True Ready=True (RouterAvailable: the router is available", output, StringComparison.Ordinal);
        Assert.Contains("pipeline team-a/linecount is ready: http://linecount.team-a.example.com/", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAnOperatorItSaysWhatItWaitedFor()
    {
        var (code, output, error) = await CliRunner.RunAsync("apply", Example("linecount"), "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "-n", "team-b", "--timeout", "1");
        Assert.Equal(1, code);
        Assert.Contains("waiting for the operator to see generation 1", output, StringComparison.Ordinal);
        Assert.Contains("was not ready within 1 s; last: the operator did not report", error, StringComparison.Ordinal);
        Assert.NotNull(Api.Requests.FirstOrDefault(r => r.Method == "PATCH" && (r.ContentType ?? "").StartsWith("application/apply-patch+yaml", StringComparison.Ordinal)));

        var (noWait, _, _) = await CliRunner.RunAsync("apply", Example("linecount-slide"), "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--no-wait");
        Assert.Equal(0, noWait);
    }

    [Fact]
    public async Task AnInvalidFileIsNotSubmittedAndAMissingCrdIsNamed()
    {
        var bad = Path.Combine(_dir, "bad.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: koalja.aljabr.io/v1alpha1\nkind: Pipeline\nmetadata: {name: Bad}\nspec: {tasks: []}\n");
        var (code, _, error) = await CliRunner.RunAsync("apply", bad, "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--timeout", "5");
        Assert.Equal(1, code);
        Assert.Contains("error KJ", error, StringComparison.Ordinal);
        Assert.Empty(Api.Requests);

        Api.FailNext("PATCH", "pipelines", 404, reason: "NotFound");
        var (missing, _, missingError) = await CliRunner.RunAsync("apply", Example("linecount"), "--kubeconfig", Path.Combine(_dir, "kubeconfig"), "--no-wait");
        Assert.Equal(1, missing);
        Assert.Contains("is the Pipeline CRD installed?", missingError, StringComparison.Ordinal);
    }

    private static string Example(string name) => Path.Combine(Testing.Repository.Root, "examples", name + ".yaml");

    private static async Task Until(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 600 && !await condition(); i++)
        {
            await Task.Delay(50);
        }
    }
}
