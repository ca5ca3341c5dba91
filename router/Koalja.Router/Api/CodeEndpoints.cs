using Koalja.Core.Contract;
using Koalja.Core.Spec;
using Koalja.Storage;
using Koalja.Router.Registry;
using Koalja.Router.Runtime;
using Koalja.Tasks;
using Microsoft.AspNetCore.Http;

namespace Koalja.Router.Api;

/// <summary>
/// Dropped code: <c>PUT /api/pipelines/{p}/tasks/{t}/code</c> stores a script or an archive by content
/// hash, checks and unpacks it, and makes it the task's current code (every later snapshot runs it);
/// <c>GET</c> lists the task's versions and <c>POST .../code/{version}/activate</c> rolls back. These
/// endpoints run code, so they always need the admin key (see <see cref="ApiSecurity"/>).
/// </summary>
internal static class CodeEndpoints
{
    private const int MaxReplayLimit = 1000;
    private const int MaxEntrypointLength = 1024;

    public static async Task<IResult> PutAsync(HttpContext http, string p, string t, string? entrypoint, bool? replay, int? replayLimit, bool? activate, bool? publish,
        string? name, PipelineRouter router, CodeCache cache, ITaskRunner runner, RuntimeOptions options)
    {
        if (Find(router, p, t, out var runtime) is { } missing)
        {
            return missing;
        }

        var task = runtime.Task(t);
        if (task.Type == BuiltInTaskTypes.FileDrop || !task.SnapshotInputs.Any())
        {
            return Problems.Status(StatusCodes.Status409Conflict, $"Task '{t}' runs no code",
                task.Type == BuiltInTaskTypes.FileDrop ? "A FileDrop task takes data in; drop code into a task with inputs." : "A task without inputs never runs.");
        }

        if (replayLimit is < 1 or > MaxReplayLimit)
        {
            return Problems.BadRequest("Invalid replayLimit", $"replayLimit is 1 to {MaxReplayLimit}.");
        }

        if (entrypoint is { Length: 0 or > MaxEntrypointLength })
        {
            return Problems.BadRequest("Invalid entrypoint", $"entrypoint is a path inside the archive, 1 to {MaxEntrypointLength} characters.");
        }

        if (http.Request.ContentLength > options.MaxCodeBytes)
        {
            return TooLarge(options);
        }

        // Received beside the code cache, not into the store: code is stored only once it unpacked and checked, so a
        // refused drop (not code, over a limit, a broken or conflicting archive) leaves nothing behind.
        StagedCode staged;
        try
        {
            staged = await cache.StageAsync(http.Request.Body, options.MaxCodeBytes, http.RequestAborted);
        }
        catch (ArtifactTooLargeException)
        {
            return TooLarge(options);
        }

        using var received = staged;
        if (staged.Size == 0)
        {
            return Problems.BadRequest("No code in the request", "Send the script or the .zip/.tar.gz archive as the request body.");
        }

        var kind = CodePackage.Detect(staged.Head.Span);
        var fileName = DropEndpoint.SafeName(name ?? Uri.UnescapeDataString(http.Request.Headers["X-Koalja-Filename"].ToString()));
        if (kind == CodeKind.Script && entrypoint is null)
        {
            entrypoint = CodePackage.ScriptEntrypoint(fileName); // a dropped main.py without #! runs with python3
        }

        var specVersion = runtime.SpecCodeVersions[t];
        var version = Ids.DroppedCode(specVersion, CodeKinds.Name(kind), staged.Sha256, entrypoint);
        TaskCode code;
        try
        {
            code = await cache.InstallAsync(staged, version, kind, entrypoint, http.RequestAborted);
        }
        catch (CodePackageException e)
        {
            return Problems.BadRequest("Unusable code", e.Message);
        }

        using (var connection = router.Registry.Open())
        {
            var known = new RegistryReader(connection).CodeVersion(version) is not null;
            var record = new CodeVersionRecord(version, p, t, CodeKinds.Name(kind), router.Time.GetUtcNow(), specVersion, staged.Sha256, staged.Size, code.Entrypoint,
                fileName);
            await router.SetCodeAsync(runtime, t, record, code, activate ?? true);
            ReplayReport? report = null;
            if (replay == true)
            {
                report = await new CodeReplayer(router, runner).RunAsync(runtime, t, code, replayLimit ?? 20, publish ?? false, http.RequestAborted);
            }

            var reader = new RegistryReader(connection);
            var dto = new CodeDropDto(Version(reader, runtime, t, version)!, runtime.Code(t).Version == version, report is null ? null : ReplayDto.From(report));
            return Results.Json(dto, ApiJsonContext.Default.CodeDropDto, statusCode: known ? StatusCodes.Status200OK : StatusCodes.Status201Created);
        }
    }

    public static IResult List(string p, string t, PipelineRouter router)
    {
        if (Find(router, p, t, out var runtime) is { } missing)
        {
            return missing;
        }

        var current = runtime.Code(t).Version;
        using var connection = router.Registry.Open();
        var versions = new RegistryReader(connection).CodeVersions(p, t).Select(v => CodeVersionDto.From(v.Code, v.Values, current)).ToList();
        return Results.Json(new CodeListDto(p, t, current, versions), ApiJsonContext.Default.CodeListDto);
    }

    public static IResult Get(string p, string t, string version, PipelineRouter router)
    {
        if (Find(router, p, t, out var runtime) is { } missing)
        {
            return missing;
        }

        using var connection = router.Registry.Open();
        return Version(new RegistryReader(connection), runtime, t, version) is { } dto
            ? Results.Json(dto, ApiJsonContext.Default.CodeVersionDto)
            : Problems.NotFound($"Task '{p}/{t}' has no code version '{version}'");
    }

    public static async Task<IResult> ActivateAsync(string p, string t, string version, PipelineRouter router)
    {
        if (Find(router, p, t, out var runtime) is { } missing)
        {
            return missing;
        }

        var activation = await router.ActivateCodeAsync(runtime, t, version);
        switch (activation.Problem)
        {
            case CodeActivationProblem.UnknownVersion:
                return Problems.NotFound(activation.Message!, "GET the task's code to list its versions.");
            case CodeActivationProblem.DroppedOntoEarlierSpec:
                return Problems.Status(StatusCodes.Status409Conflict, "Cannot activate this version", activation.Message);
        }

        using var connection = router.Registry.Open();
        return Results.Json(Version(new RegistryReader(connection), runtime, t, version)!, ApiJsonContext.Default.CodeVersionDto);
    }

    private static CodeVersionDto? Version(RegistryReader reader, PipelineRuntime runtime, string task, string version) =>
        reader.CodeVersions(runtime.Name, task).Where(v => v.Code.Id == version).Select(v => CodeVersionDto.From(v.Code, v.Values, runtime.Code(task).Version)).FirstOrDefault();

    private static IResult? Find(PipelineRouter router, string p, string t, out PipelineRuntime runtime)
    {
        if (!router.Pipelines.TryGetValue(p, out runtime!))
        {
            return Problems.NoPipeline(p, router);
        }

        return runtime.Spec.TaskByName(t) is null
            ? Problems.NotFound($"No task '{t}' in pipeline '{p}'", Core.Diagnostics.Suggestions.DidYouMean(t, runtime.Spec.Tasks.Select(x => x.Name)))
            : null;
    }

    private static IResult TooLarge(RuntimeOptions options) =>
        Problems.Status(StatusCodes.Status413PayloadTooLarge, "Code too large", $"A code drop is limited to {options.MaxCodeBytes:N0} bytes.");
}
