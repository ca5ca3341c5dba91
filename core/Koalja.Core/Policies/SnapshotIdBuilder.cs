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
    private byte[] _scratch = new byte[256];

    public string Compute(string task, string codeVersion, IReadOnlyList<SnapshotInput> inputs)
    {
        Append(task, FieldEnd);
        Append(codeVersion, FieldEnd);
        foreach (var input in inputs)
        {
            _hash.AppendData([InputStart]);
            Append(input.Name, FieldEnd);
            foreach (var value in input.Values)
            {
                Append(value.ValueId, ValueEnd);
            }
        }

        Span<byte> digest = stackalloc byte[32];
        _hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest[..16]);
    }

    public void Dispose() => _hash.Dispose();

    private void Append(string text, byte terminator)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length) + 1;
        if (_scratch.Length < max)
        {
            _scratch = new byte[Math.Max(max, _scratch.Length * 2)];
        }

        var length = Encoding.UTF8.GetBytes(text, _scratch);
        _scratch[length] = terminator;
        _hash.AppendData(_scratch, 0, length + 1);
    }
}
