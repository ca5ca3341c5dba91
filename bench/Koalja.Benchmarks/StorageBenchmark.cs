using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Koalja.Storage;

namespace Koalja.Benchmarks;

/// <summary>
/// Round trip of one large value through a store: generated content (never held whole) is put, read back and
/// hashed, and the process's peak memory (VmHWM) is reported next to the throughput. The test of the 2 GB round
/// trip runs this as a process of its own, so that the memory measured is that of the round trip alone.
///   storage --storage URL [--size BYTES]   (the store's settings as koalja up takes them, environment included)
/// </summary>
internal static class StorageBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var storage = Argument(args, "--storage") ?? throw new ArgumentException("storage --storage URL [--size BYTES]");
        var size = long.Parse(Argument(args, "--size") ?? (2L << 30).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var local = Directory.CreateTempSubdirectory("koalja-storage-bench-").FullName;
        try
        {
            var store = await StorageSettings.OpenAsync(storage, Environment.GetEnvironmentVariable, local);
            var content = new GeneratedStream(size);
            var put = Stopwatch.StartNew();
            var stored = await store.PutAsync(content);
            put.Stop();
            if (stored.Sha256 != content.Sha256 || stored.Size != size)
            {
                Console.WriteLine($"FAILED: stored {stored.Sha256} ({stored.Size:N0} B), generated {content.Sha256} ({size:N0} B)");
                return 1;
            }

            var get = Stopwatch.StartNew();
            await using (var read = await store.OpenReadAsync(stored.Sha256))
            {
                var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(read));
                if (hash != stored.Sha256)
                {
                    Console.WriteLine($"FAILED: read back {hash}");
                    return 1;
                }
            }

            get.Stop();
            (store as IDisposable)?.Dispose();
            var mb = size / 1048576.0;
            Console.WriteLine($"round trip of {size:N0} bytes through {storage}: put {mb / put.Elapsed.TotalSeconds:0} MiB/s ({put.Elapsed.TotalSeconds:0.0} s), "
                + $"get {mb / get.Elapsed.TotalSeconds:0} MiB/s ({get.Elapsed.TotalSeconds:0.0} s), content verified");
            Console.WriteLine($"peak RSS {PeakRssMiB():0} MiB");
            return 0;
        }
        finally
        {
            Directory.Delete(local, recursive: true);
        }
    }

    private static string? Argument(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    /// <summary>The process's peak resident memory (VmHWM of /proc/self/status).</summary>
    private static double PeakRssMiB() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).First();

    /// <summary>
    /// <paramref name="length"/> bytes that are never all in memory: a random 1 MiB block, each copy marked with its
    /// number so no two megabytes are alike; hashed as it is read, so the expected SHA-256 is known at the end.
    /// </summary>
    private sealed class GeneratedStream(long length) : Stream
    {
        private readonly byte[] _block = RandomNumberGenerator.GetBytes(1 << 20);
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;

        public string Sha256 { get; private set; } = "";

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            var written = 0;
            while (written < n)
            {
                var at = (int)((_position + written) % _block.Length);
                if (at == 0)
                {
                    BitConverter.TryWriteBytes(_block, (_position + written) / _block.Length);
                }

                var chunk = Math.Min(n - written, _block.Length - at);
                _block.AsSpan(at, chunk).CopyTo(buffer[written..]);
                written += chunk;
            }

            _hash.AppendData(buffer[..n]);
            _position += n;
            if (n == 0 && Sha256.Length == 0)
            {
                Sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
            }

            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
