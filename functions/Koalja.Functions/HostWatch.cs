using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions;

/// <summary>
/// Under a local protocol host (<c>KOALJA_HOST_PID</c>) the worker ends when that host is gone, even killed with
/// SIGKILL: the worker does not notice on its own (it keeps running, reparented). Under the Functions host it does nothing.
/// </summary>
internal sealed partial class HostWatch(WorkerSettings settings, IHostApplicationLifetime lifetime, ILogger<HostWatch> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.HostProcessId is not { } pid)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (!Alive(pid))
            {
                LogHostGone(log, pid);
                lifetime.StopApplication();
                return;
            }
        }
    }

    private static bool Alive(int pid)
    {
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The protocol host (process {Pid}) is gone; the worker stops")]
    private static partial void LogHostGone(ILogger log, int pid);
}
