using System.Security.Cryptography;
using System.Text;

namespace Koalja.Core.Policies;

/// <summary>
/// Computes snapshot ids: SHA-256 over the task, the code version and the ordered input value ids
/// (with the input names), shown as 32 hex digits. The same inputs and code always give the same id,
/// so a redelivered snapshot is recognised. Not thread-safe: one per assembler.
/// </summary>
public sealed class SnapshotIdBuilder : IDisposable
{
    private const byte FieldEnd = 0x00;
    private const byte InputStart = 0x01;
    private const byte ValueEnd = 0x02;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _message = new byte[512];
    private int _length;

    public string Compute(string task, string codeVersion, IReadOnlyList<SnapshotInput> inputs)
    {
        // The whole message is laid out first and hashed with one append on a reused context: each
        // call crosses into the platform's crypto library, and a one-shot hash also creates a context
        // per call, which costs more than the hashing itself for messages this small.
        _length = 0;
        Append(task, FieldEnd);
        Append(codeVersion, FieldEnd);
        foreach (var input in inputs)
        {
            AppendByte(InputStart);
            Append(input.Name, FieldEnd);
            foreach (var value in input.Values)
            {
                Append(value.ValueId, ValueEnd);
            }
        }

        Span<byte> digest = stackalloc byte[32];
        _hash.AppendData(_message, 0, _length);
        _hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    public void Dispose() => _hash.Dispose();

    private void Append(string text, byte terminator)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length) + 1);
        _length += Encoding.UTF8.GetBytes(text, _message.AsSpan(_length));
        _message[_length++] = terminator;
    }

    private void AppendByte(byte value)
    {
        Ensure(1);
        _message[_length++] = value;
    }

    private void Ensure(int extra)
    {
        if (_length + extra > _message.Length)
        {
            Array.Resize(ref _message, Math.Max(_length + extra, _message.Length * 2));
        }
    }
}
