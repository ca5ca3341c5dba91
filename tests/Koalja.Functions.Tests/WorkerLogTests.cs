using Koalja.Functions.Host;
using Koalja.Functions.Host.Rpc;
using Microsoft.Extensions.Logging;

namespace Koalja.Functions.Tests;

/// <summary>An RpcLog from a worker, as a line of the host's logger of that worker.</summary>
public sealed class WorkerLogTests
{
    [Theory]
    [InlineData(RpcLog.Types.Level.Trace, LogLevel.Trace)]
    [InlineData(RpcLog.Types.Level.Debug, LogLevel.Debug)]
    [InlineData(RpcLog.Types.Level.Information, LogLevel.Information)]
    [InlineData(RpcLog.Types.Level.Warning, LogLevel.Warning)]
    [InlineData(RpcLog.Types.Level.Error, LogLevel.Error)]
    [InlineData(RpcLog.Types.Level.Critical, LogLevel.Critical)]
    public void ALineKeepsItsLevel(RpcLog.Types.Level level, LogLevel expected)
    {
        var entry = Write(new RpcLog { Level = level, Category = "Fns", Message = "hello" });

        Assert.Equal((expected, "Fns: hello"), (entry!.Level, entry.Message));
    }

    [Fact]
    public void ALineOfAnInvocationNamesItAndCarriesTheWorkersException()
    {
        var entry = Write(new RpcLog
        {
            Level = RpcLog.Types.Level.Error,
            Category = "Koalja.Functions",
            InvocationId = "inv-1",
            Message = "Function snapshot failed",
            Exception = new RpcException { Type = "System.InvalidOperationException", Message = "broken store", StackTrace = "   at Koalja.Tasks.X()" },
        });

        Assert.Equal("Koalja.Functions (invocation inv-1): Function snapshot failed", entry!.Message);
        Assert.Equal(("inv-1", "Koalja.Functions"), (entry.Values["InvocationId"], entry.Values["WorkerCategory"]));
        Assert.Equal("broken store", entry.Exception!.Message);
        Assert.Equal("   at Koalja.Tasks.X()", entry.Exception.StackTrace);
        Assert.StartsWith("System.InvalidOperationException: broken store", entry.Exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ALineAtLevelNoneIsDropped() =>
        Assert.Null(Write(new RpcLog { Level = RpcLog.Types.Level.None, Message = "nothing" }));

    private static LogEntry? Write(RpcLog log)
    {
        using var provider = new CapturingLoggerProvider();
        WorkerLog.Write(provider.CreateLogger("Koalja.Functions.w"), log);
        return provider.Entries.SingleOrDefault();
    }
}
