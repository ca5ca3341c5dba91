using Koalja.Functions.Host.Rpc;

namespace Koalja.Functions.Host;

/// <summary>
/// What a host tells a connected worker before it can invoke anything: WorkerInitRequest (no host capabilities are
/// needed), FunctionsMetadataRequest, then a FunctionLoadRequest per function, all sent at once and answered in any
/// order. <see cref="Step"/> says how far it got, for the error message of a start that failed.
/// </summary>
internal sealed class Handshake(WorkerApp app, string hostVersion)
{
    public string Step { get; private set; } = "waiting for the worker to connect (StartStream)";

    public string WorkerVersion { get; private set; } = "?";

    /// <summary>Runs the handshake; the worker's HTTP functions once all functions are loaded.</summary>
    /// <exception cref="InvalidOperationException">The worker refused a step; the message says which and why.</exception>
    public async Task<FunctionTable> RunAsync(WorkerConnection connection, CancellationToken cancellationToken)
    {
        Step = "WorkerInitRequest";
        var init = (await connection.RequestAsync("init", new StreamingMessage
        {
            RequestId = "init",
            WorkerInitRequest = new WorkerInitRequest { HostVersion = hostVersion, FunctionAppDirectory = app.Directory, WorkerDirectory = app.Directory },
        }, cancellationToken)).WorkerInitResponse;
        Check(init.Result, "WorkerInitResponse", required: true);
        WorkerVersion = init.WorkerVersion;

        Step = "FunctionsMetadataRequest";
        var metadata = (await connection.RequestAsync("metadata", new StreamingMessage
        {
            RequestId = "metadata",
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = app.Directory },
        }, cancellationToken)).FunctionMetadataResponse;
        Check(metadata.Result, "FunctionMetadataResponse", required: false);
        if (metadata.UseDefaultMetadataIndexing)
        {
            throw new InvalidOperationException("the worker asks the host to index functions.metadata itself, which this host does not do; build the app with Microsoft.Azure.Functions.Worker.Sdk 2 or later (worker indexing)");
        }

        var functions = metadata.FunctionMetadataResults.ToList();
        foreach (var function in functions.Where(f => f.FunctionId is not { Length: > 0 }))
        {
            function.FunctionId = Guid.NewGuid().ToString();
        }

        FunctionTable table;
        try
        {
            table = FunctionTable.From(functions);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }

        Step = $"FunctionLoadRequest ×{functions.Count}";
        var loads = await Task.WhenAll(functions.Select(f => connection.RequestAsync("load:" + f.FunctionId, new StreamingMessage
        {
            RequestId = "load-" + f.FunctionId,
            FunctionLoadRequest = new FunctionLoadRequest { FunctionId = f.FunctionId, Metadata = WithDirectory(f) },
        }, cancellationToken)));
        var failed = loads.Select(l => l.FunctionLoadResponse)
            .Where(l => l.Result is not { Status: StatusResult.Types.Status.Success })
            .Select(l => $"{functions.First(f => f.FunctionId == l.FunctionId).Name}: {Describe(l.Result)}")
            .ToList();
        if (failed.Count > 0)
        {
            throw new InvalidOperationException("functions failed to load: " + string.Join("; ", failed));
        }

        Step = "ready";
        return table;
    }

    private RpcFunctionMetadata WithDirectory(RpcFunctionMetadata function)
    {
        var load = function.Clone();
        if (load.Directory is not { Length: > 0 })
        {
            load.Directory = app.Directory;
        }

        return load;
    }

    private static void Check(StatusResult? result, string what, bool required)
    {
        if (result is null ? required : result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"{what} {Describe(result)}");
        }
    }

    private static string Describe(StatusResult? result) => result switch
    {
        null => "came without a result",
        { Exception: { } e } => $"{result.Status}: {e.Type} {e.Message}".Trim(),
        _ => $"{result.Status} {result.Result}".Trim(),
    };
}
