namespace Koalja.Storage;

/// <summary>A store cannot be used as configured (no such bucket or container, credentials refused, server unreachable); the message says what to fix.</summary>
public sealed class StorageUnavailableException(string message) : Exception(message);
