using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Koalja.Testing;

/// <summary>
/// A real single-node Kubernetes (infra/dev-cluster/node) with Koalja installed on it (infra/dev-cluster/install-koalja:
/// PostgreSQL and Ceph RGW on the node's bridge, the images imported, the operator running in the cluster), for the
/// end-to-end test and the cluster benchmark. <see cref="DisposeAsync"/> stops it all by PID (infra/dev-cluster/down);
/// the scripts' watchdogs do the same should this process die first.
/// </summary>
internal sealed class DevCluster : IAsyncDisposable
{
    private static readonly Lazy<string?> Check = new(() =>
    {
        var (code, output) = Run(Script("node"), ["check"], TimeSpan.FromSeconds(30));
        return code == 0 ? null : output.Trim();
    });

    private DevCluster(string directory) => Directory = directory;

    /// <summary>Why this machine cannot run a node (not root, no overlay filesystem, no cgroups), or null.</summary>
    public static string? CannotRun => Check.Value;

    public string Directory { get; }

    public string Kubeconfig => Path.Combine(Directory, "kubeconfig");

    public IKubernetes Kube { get; private set; } = null!;

    /// <summary>What starting took, per step.</summary>
    public StringBuilder Timings { get; } = new();

    /// <summary>
    /// Builds what is missing, starts a node of this process (stopped when it ends) and installs Koalja with its
    /// Secrets in each namespace. The images are made from this checkout's <paramref name="configuration"/> build.
    /// </summary>
    public static async Task<DevCluster> StartAsync(string[] namespaces, string configuration = "Debug")
    {
        var cluster = new DevCluster(Path.Combine(Path.GetTempPath(), $"koalja-node-{Environment.ProcessId}"));
        var owner = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            await cluster.StepAsync("node build", Script("node"), ["build"], TimeSpan.FromMinutes(20));
            await cluster.StepAsync("node start", Script("node"), ["start", cluster.Directory, owner], TimeSpan.FromMinutes(5));
            await cluster.StepAsync("install Koalja", Script("install-koalja"), [cluster.Directory, owner, .. namespaces], TimeSpan.FromMinutes(10),
                ("KOALJA_IMAGES_CONFIGURATION", configuration));
            cluster.Kube = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.Kubeconfig));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        (Kube as IDisposable)?.Dispose();
        await Task.Run(() => Run(Script("down"), [Directory], TimeSpan.FromMinutes(3)));
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // the watchdogs remove it too
        }
    }

    /// <summary>kubectl with this node's kubeconfig, <paramref name="stdin"/> as its input; throws with its output when it fails.</summary>
    public string Kubectl(string? stdin, params string[] args)
    {
        var (code, output) = Run("kubectl", ["--kubeconfig", Kubeconfig, .. args], TimeSpan.FromMinutes(3), stdin);
        return code == 0 ? output : throw new InvalidOperationException($"kubectl {string.Join(' ', args)} exited with {code}: {output}");
    }

    /// <summary>The Pipeline's status once <paramref name="until"/> holds for it.</summary>
    public async Task<JsonNode> StatusAsync(string ns, string name, Func<JsonNode, bool> until, TimeSpan within)
    {
        JsonNode? status = null;
        await UntilAsync(async () =>
        {
            var resource = await Kube.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>("koalja.aljabr.io", "v1alpha1", ns, "pipelines", name);
            status = resource["status"];
            return status is not null && until(status);
        }, $"the status of Pipeline {name}", within);
        return status!;
    }

    public static JsonNode? Condition(JsonNode status, string type) =>
        status["conditions"]?.AsArray().FirstOrDefault(c => c?["type"]?.GetValue<string>() == type);

    /// <summary>The running pods of a pipeline's component (<c>router</c>, <c>task</c>), not being deleted.</summary>
    public async Task<List<V1Pod>> PodsAsync(string ns, string pipeline, string component, string? task = null)
    {
        var selector = $"koalja.aljabr.io/pipeline={pipeline},app.kubernetes.io/component={component}" + (task is null ? "" : $",koalja.aljabr.io/task={task}");
        var pods = await Kube.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector);
        return [.. pods.Items.Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.Phase == "Running")];
    }

    /// <summary>The IP of the pipeline's router pod that is running and ready.</summary>
    public async Task<string> RouterAsync(string ns, string pipeline, TimeSpan within)
    {
        var ip = "";
        await UntilAsync(async () =>
        {
            var ready = (await PodsAsync(ns, pipeline, "router")).FirstOrDefault(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
            ip = ready?.Status.PodIP ?? "";
            return ip.Length > 0;
        }, "a ready router pod", within);
        return ip;
    }

    /// <summary>The router's admin key (it makes its keys on its volume).</summary>
    public string AdminKey(string ns, string pipeline) =>
        JsonDocument.Parse(Kubectl(null, "-n", ns, "exec", $"deploy/{pipeline}-router", "--", "cat", "/var/lib/koalja/router/keys.json"))
            .RootElement.GetProperty("admin").GetString()!;

    /// <summary>Polls until the condition holds; HTTP and API errors on the way count as not yet.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan within, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + within;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or k8s.Autorest.HttpOperationException or TaskCanceledException)
            {
                last = e;
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(250));
        }

        throw new TimeoutException($"Not true within {within.TotalSeconds} s: {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    private async Task StepAsync(string name, string file, string[] args, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var clock = Stopwatch.StartNew();
        var (code, output) = await Task.Run(() => Run(file, args, timeout, null, environment));
        Timings.AppendLine(CultureInfo.InvariantCulture, $"{name}: {clock.Elapsed.TotalSeconds:F1} s");
        if (code != 0)
        {
            throw new InvalidOperationException($"{name} failed (exit {code}):\n{output}");
        }
    }

    private static string Script(string name) => Path.Combine(Repository.Root, "infra", "dev-cluster", name);

    /// <summary>Runs a program, stdout and stderr together; kills it (and its children) after the timeout.</summary>
    private static (int Code, string Output) Run(string file, string[] args, TimeSpan timeout, string? stdin = null, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"{file} did not finish within {timeout.TotalSeconds} s:\n{output}");
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }
}
