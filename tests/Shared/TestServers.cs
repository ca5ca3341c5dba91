using System.Diagnostics;
using System.Globalization;

namespace Koalja.Testing;

/// <summary>
/// The real servers the tests use (PostgreSQL, an S3 server, Azurite, a Kubernetes control plane). <c>./run-tests</c> starts them once
/// (tests/servers/up) and passes their addresses in <c>KOALJA_TEST_*</c> environment variables; a test run without
/// them (plain <c>dotnet test</c>) starts its own with the same scripts, on free ports, in a temporary directory,
/// with <c>tests/servers/NAME start DIR PID</c>, PID being this test process. A server that cannot be started fails
/// the test with the script's message.
/// <para>
/// They never outlive the test process, however it ends. The fast path is a ProcessExit handler that runs
/// <c>NAME stop DIR</c> (by PID) and removes DIR; but vstest kills its test host about 100 ms after the run, often
/// before that is done, and ProcessExit does not run at all when the process is killed or crashes. So the start
/// script also leaves a watchdog (tests/servers/watchdog), a small shell process in a session of its own that polls
/// this process's PID and, once it is gone, runs the same <c>stop DIR</c> and removes DIR: about a second after a
/// SIGKILL (rgw: ~3 s). It ends by itself as soon as DIR is removed; after a failed start (DIR kept for its logs) it
/// stays until the test process is gone, then removes DIR. Neither the servers nor the watchdog keep open a file
/// descriptor of this process: the scripts close every inherited fd above 2, so none of them holds a lock taken by
/// <c>flock LOCKFILE dotnet test</c>. <c>tests/servers/check-watchdog</c> checks all that.
/// </para>
/// </summary>
internal static class TestServers
{
    private static readonly Dictionary<string, Lazy<Dictionary<string, string>>> Started = new(StringComparer.Ordinal);

    /// <summary><c>postgres://postgres@127.0.0.1:PORT/postgres</c> (trust authentication).</summary>
    public static string Postgres => Setting("postgres", "KOALJA_TEST_POSTGRES");

    /// <summary>A setting of the S3 server (Ceph RADOS Gateway): KOALJA_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY.</summary>
    public static string S3(string name) => Setting("rgw", "KOALJA_TEST_S3_" + name);

    /// <summary>The kubeconfig of a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager; KOALJA_TEST_KUBECONFIG).</summary>
    public static string Kubeconfig => Setting("kubernetes", "KOALJA_TEST_KUBECONFIG");

    /// <summary>The Azurite connection string (KOALJA_TEST_AZURE).</summary>
    public static string Azure => Setting("azurite", "KOALJA_TEST_AZURE");

    private static string Setting(string server, string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
        {
            return value;
        }

        Lazy<Dictionary<string, string>> lazy;
        lock (Started)
        {
            if (!Started.TryGetValue(server, out lazy!))
            {
                Started[server] = lazy = new Lazy<Dictionary<string, string>>(() => Start(server));
            }
        }

        return lazy.Value.TryGetValue(variable, out var started) ? started
            : throw new InvalidOperationException($"tests/servers/{server} started but did not give {variable}.");
    }

    private static Dictionary<string, string> Start(string server)
    {
        var dir = Directory.CreateTempSubdirectory($"koalja-{server}-").FullName;
        var script = Path.Combine(Repository.Root, "tests", "servers", server);
        var (code, output) = Run(script, "start", dir, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (code != 0)
        {
            Run(script, "stop", dir); // what did start (a monitor without its gateway) must not outlive the test process
            throw new InvalidOperationException($"Could not start the test server {server} ({script} start {dir}, exit {code}):\n{output}\n"
                + "Start the servers with tests/servers/up, or run the tests with ./run-tests, which does.");
        }

        // The fast path; the watchdog started with the server does the same if this does not run or is cut short.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Run(script, "stop", dir);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return File.ReadAllLines(Path.Combine(dir, "env")).Where(l => l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => Unquote(l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]), StringComparer.Ordinal);
    }

    /// <summary>A value as a shell would read it from the env file: single quotes around it removed.</summary>
    private static string Unquote(string value) => value.Length >= 2 && value[0] == '\'' && value[^1] == '\'' ? value[1..^1] : value;

    private static (int Code, string Output) Run(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 10 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
