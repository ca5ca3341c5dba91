namespace Koalja.Core.Events;

/// <summary>
/// What an <c>io.koalja.value</c> event says about a value: where it is (pipeline, task, output, index), its
/// content (address, size, media type), when it was made, and its provenance (revision, code version, and the
/// snapshot whose execution produced it, none for a drop).
/// </summary>
public sealed record ValueEventData(
    string Namespace,
    string Pipeline,
    string Task,
    string Output,
    int Index,
    string ValueId,
    string Sha256,
    long Size,
    string MediaType,
    DateTimeOffset CreatedAt,
    string? Revision,
    string? CodeVersion,
    string? SnapshotId);
