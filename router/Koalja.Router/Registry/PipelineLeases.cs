using System.Diagnostics;

namespace Koalja.Router.Registry;

/// <summary>Who routes a pipeline: one Koalja process at a time (its router is the pipeline's only writer).</summary>
public sealed record PipelineLease(string Pipeline, string Owner, string Host, int Pid, DateTimeOffset AcquiredAt, DateTimeOffset ExpiresAt);

/// <summary>This process as a lease holder.</summary>
public sealed record LeaseHolder(string Id, string Host, int Pid)
{
    public static LeaseHolder ThisProcess() => new(Guid.NewGuid().ToString("N"), Environment.MachineName, Environment.ProcessId);
}

/// <summary>Another process routes the pipeline, and its lease has not expired.</summary>
public sealed class PipelineLeasedException(PipelineLease lease)
    : InvalidOperationException($"Pipeline '{lease.Pipeline}' is run by another Koalja process (pid {lease.Pid} on {lease.Host}, since {lease.AcquiredAt:u}) on this registry; "
        + $"stop it, or wait until its lease expires at {lease.ExpiresAt:u} if it has died")
{
    public PipelineLease Lease { get; } = lease;
}

/// <summary>
/// Pipeline leases in the registry, so that several Koalja processes can share one (PostgreSQL) registry without two
/// of them routing the same pipeline: a lease is taken in one atomic upsert that succeeds only when the pipeline is
/// free, its lease has expired, or its holder is a process of this machine that no longer exists (a crash, so a
/// restart need not wait); the holder renews it while it runs and gives it back when it stops.
/// </summary>
internal static class PipelineLeases
{
    public static void Acquire(RegistryWriter writer, string pipeline, LeaseHolder me, DateTimeOffset now, TimeSpan ttl)
    {
        var current = writer.Lease(pipeline);
        var stale = current is not null && current.Host == me.Host && current.Owner != me.Id && !IsAlive(current.Pid) ? current.Owner : "";
        if (!writer.TakeLease(new PipelineLease(pipeline, me.Id, me.Host, me.Pid, now, now + ttl), stale))
        {
            throw new PipelineLeasedException(writer.Lease(pipeline) ?? current!);
        }
    }

    /// <summary>Whether the process runs; a zombie (killed, not yet reaped by its parent: right after a kill -9) does not.</summary>
    internal static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return false;
            }
            catch (IOException)
            {
                return false; // gone while read
            }

            // "pid (comm) S ...": the state follows the command name, which may itself hold ')' and spaces
            var end = stat.LastIndexOf(')');
            return end < 0 || end + 2 >= stat.Length || stat[end + 2] is not ('Z' or 'X' or 'x');
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
