using System.Security.Cryptography;

namespace Koalja.Storage;

/// <summary>
/// Reads stored content and checks it against its address as it goes: at the end of the content the SHA-256 of
/// what was read must be the address (and the length the stored size, when known), or the read fails with
/// <see cref="ArtifactCorruptException"/>. So a reader that reads to the end never gets corrupt bytes unnoticed.
/// </summary>
public sealed class VerifyingReadStream(Stream inner, string sha256, long? size = null, IDisposable? owner = null) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _checked;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => size ?? throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = inner.Read(buffer);
        return Account(buffer[..n]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        return Account(buffer.Span[..n]);
    }

    private int Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            _read += data.Length;
            if (size is { } expected && _read > expected)
            {
                throw new ArtifactCorruptException(sha256, $"it is longer than the {expected:N0} bytes stored");
            }

            return data.Length;
        }

        if (!_checked)
        {
            _checked = true;
            var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
            if (actual != sha256 || size is { } length && _read != length)
            {
                throw new ArtifactCorruptException(sha256, $"it hashes to {actual} ({_read:N0} bytes)");
            }
        }

        return 0;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            owner?.Dispose();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
