namespace Koalja.Router.Hosting;

/// <summary>A storage or registry setting is wrong; the message names the setting (flag or environment variable) and what would work.</summary>
public sealed class BackendException(string message, Exception? inner = null) : Exception(message, inner);
