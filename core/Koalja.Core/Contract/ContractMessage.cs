namespace Koalja.Core.Contract;

/// <summary>
/// One message of the task contract as it travels: its bytes and their media type. Over HTTP it is a request or
/// response body with its <c>Content-Type</c> (and the answer's status); in process it is handed over as it is.
/// </summary>
/// <param name="Status">For an answer, the HTTP status it has: 200 with a batch, 422 for a failed execution, 400 for a refused snapshot.</param>
public sealed record ContractMessage(string ContentType, ReadOnlyMemory<byte> Body, int Status = 200);
