using System.Net;

namespace Koalja.Functions.Host;

/// <summary>How <see cref="LocalFunctionsHost"/> starts, supervises and stops its workers.</summary>
public sealed class FunctionsHostOptions
{
    /// <summary>How long a worker may take from its process start to all its functions loaded.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long stopping waits for invocations in flight before the workers are told to terminate.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before a worker that exited is started again; it doubles (up to 5 s) while restarts fail fast.</summary>
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The address both endpoints (the workers' gRPC stream and the HTTP front door) listen on, each on a free port.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>
    /// Where the HTTP front door listens; null: <see cref="ListenAddress"/> on a free port. A task function's container
    /// gives <c>0.0.0.0:8080</c> (the workers' gRPC stream stays on <see cref="ListenAddress"/>).
    /// </summary>
    public IPEndPoint? FrontDoorEndpoint { get; init; }

    /// <summary>
    /// The worker whose functions are also served at <c>/api/{route}</c>, as the Functions host serves its one app;
    /// null: only at <c>/{worker}/api/{route}</c>.
    /// </summary>
    public string? DefaultWorker { get; init; }

    /// <summary>A request body larger than this is refused with 413 before it reaches a worker.</summary>
    public long MaxRequestBodyBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>The clock of delays and timeouts.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>What is wrong with these options, each saying which option and what would do; empty when they are usable.</summary>
    internal IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (StartTimeout <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(StartTimeout)} is {StartTimeout}: give a positive time (the default is 60 s).");
        }

        if (DrainTimeout < TimeSpan.Zero)
        {
            problems.Add($"{nameof(DrainTimeout)} is {DrainTimeout}: give zero (no drain) or a positive time.");
        }

        if (RestartDelay < TimeSpan.Zero)
        {
            problems.Add($"{nameof(RestartDelay)} is {RestartDelay}: give zero or a positive time.");
        }

        if (MaxRequestBodyBytes is <= 0 or > int.MaxValue)
        {
            problems.Add($"{nameof(MaxRequestBodyBytes)} is {MaxRequestBodyBytes}: give a positive number of bytes below 2 GiB (a protobuf message is at most that).");
        }

        if (ListenAddress is null)
        {
            problems.Add($"{nameof(ListenAddress)} is not set: give an address such as IPAddress.Loopback.");
        }

        return problems;
    }
}
