namespace Koalja.Router.Runtime;

/// <summary>Settings of the local runtime (<c>koalja up</c>).</summary>
public sealed record RuntimeOptions
{
    /// <summary>Executions of one snapshot before it is dead-lettered.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Wait before the first retry; it doubles with each retry, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Parallel executions of an AllNew task; order-sensitive tasks (SlidingWindow, SwapNew4Old, Restart) always get one.</summary>
    public int SlotsPerTask { get; init; } = Environment.ProcessorCount;

    /// <summary>A task's worker slot without work for this long retires (its slots scale to zero, as its pods do in the cluster).</summary>
    public TimeSpan SlotCooldown { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest upload a FileDrop accepts (bigger ones get 413).</summary>
    public long MaxDropBytes { get; init; } = 1L << 30;

    /// <summary>Largest structured-mode or batch CloudEvents request (held in memory to be parsed); binary mode streams up to <see cref="MaxDropBytes"/>.</summary>
    public long MaxEventBytes { get; init; } = 1L << 20;

    /// <summary>Most events in one batch request.</summary>
    public int MaxBatchEvents { get; init; } = 1000;

    /// <summary>Fetching an event's <c>dataref</c> (connecting, the answer and its whole body into storage) taking longer fails the event.</summary>
    public TimeSpan DataRefTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Where a <c>dataref</c> may be fetched from besides public addresses (<c>koalja up --dataref-allow</c>): CIDR ranges
    /// (<c>10.0.0.0/8</c>, <c>fd00::/8</c>), single addresses, and host names, whose every address may then be fetched from.
    /// Loopback, private, CGNAT, unique-local, link-local and cloud metadata addresses are refused unless listed here.
    /// </summary>
    public IReadOnlyList<string> DataRefAllow { get; init; } = [];

    /// <summary>Largest code drop (a script or an archive, before unpacking).</summary>
    public long MaxCodeBytes { get; init; } = 256L << 20;

    /// <summary>An execution running longer is killed and counts as a failed attempt.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a pipeline's lease lasts without renewal (the router renews it every third of that).</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most commands written in one registry transaction.</summary>
    public int MaxBatch { get; init; } = 256;

    public TimeSpan RetryDelayFor(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, RetryDelay.Ticks * (1L << Math.Min(20, Math.Max(0, attempt - 1)))));

    /// <summary>What is wrong with these settings, each naming the setting (and its <c>koalja up</c> flag), its bounds and its value.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void AtLeast(long value, long least, string setting)
        {
            if (value < least)
            {
                problems.Add($"{setting} must be at least {least:N0}; it is {value:N0}");
            }
        }

        void Positive(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero)
            {
                problems.Add($"{setting} must be more than zero; it is {value}");
            }
        }

        AtLeast(MaxAttempts, 1, "MaxAttempts (--max-attempts)");
        if (RetryDelay < TimeSpan.Zero)
        {
            problems.Add($"RetryDelay (--retry-delay) must not be negative; it is {RetryDelay}");
        }

        if (MaxRetryDelay < RetryDelay)
        {
            problems.Add($"MaxRetryDelay must be at least RetryDelay (--retry-delay, {RetryDelay}); it is {MaxRetryDelay}");
        }

        AtLeast(SlotsPerTask, 1, "SlotsPerTask (--slots)");
        if (SlotCooldown < TimeSpan.Zero)
        {
            problems.Add($"SlotCooldown must not be negative; it is {SlotCooldown}");
        }
        AtLeast(MaxDropBytes, 1, "MaxDropBytes (--max-drop)");
        AtLeast(MaxEventBytes, 1, "MaxEventBytes (--max-event)");
        AtLeast(MaxBatchEvents, 1, "MaxBatchEvents");
        AtLeast(MaxCodeBytes, 1, "MaxCodeBytes");
        AtLeast(MaxBatch, 1, "MaxBatch");
        Positive(DataRefTimeout, "DataRefTimeout");
        foreach (var entry in DataRefAllow)
        {
            if (Events.DataRefAllowList.Problem(entry) is { } problem)
            {
                problems.Add($"DataRefAllow (--dataref-allow) {problem}");
            }
        }

        Positive(CommandTimeout, "CommandTimeout (--timeout)");
        if (LeaseTtl < TimeSpan.FromSeconds(3))
        {
            problems.Add($"LeaseTtl must be at least 3 seconds (it is renewed every third of it); it is {LeaseTtl}");
        }

        return problems;
    }
}
