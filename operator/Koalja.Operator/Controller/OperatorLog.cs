using Microsoft.Extensions.Logging;

namespace Koalja.Operator.Controller;

/// <summary>The operator's log lines.</summary>
internal static partial class OperatorLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Koalja operator controller starting ({Scope}, {Workers} workers)")]
    public static partial void Starting(ILogger logger, string scope, int workers);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Namespace}/{Name} is not valid: {Problems}")]
    public static partial void Invalid(ILogger logger, string @namespace, string name, string problems);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {Namespace}/{Name}: {Message}")]
    public static partial void Refused(ILogger logger, string @namespace, string name, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Namespace}/{Name}: deleting {Kind} {Object}, no longer wanted")]
    public static partial void Pruning(ILogger logger, string @namespace, string name, string kind, string @object);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pipeline {Namespace}/{Name}: its objects are gone; removing the finalizer")]
    public static partial void TornDown(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pipeline {Namespace}/{Name}: conflict, reconciling again")]
    public static partial void Conflict(ILogger logger, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pipeline {Namespace}/{Name}: reconcile failed ({Error}); retry {Attempt} after back-off")]
    public static partial void Failed(ILogger logger, string @namespace, string name, string error, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch of {Source}: resource version {Version} is too old; listing again")]
    public static partial void Expired(ILogger logger, string source, string? version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watch of {Source} failed ({Error}); again in {Delay}")]
    public static partial void WatchFailed(ILogger logger, string source, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Leading as {Identity} (Lease {Namespace}/{Lease})")]
    public static partial void Leading(ILogger logger, string identity, string @namespace, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership lost by {Identity}; the controller stops until it is won again")]
    public static partial void LostLead(ILogger logger, string identity);

    [LoggerMessage(Level = LogLevel.Information, Message = "The leader is {Leader}")]
    public static partial void NewLeader(ILogger logger, string leader);
}
