using System.Buffers.Binary;
using System.Text;

namespace Koalja.Tasks.Sandboxing;

/// <summary>
/// The messages between the task runtime and the program in a sandbox (Koalja.Sandbox), over that program's stdin
/// and stdout: a kind byte, a 4-byte little-endian length, then the payload. Compiled into both sides, so the two
/// cannot disagree. Strings are UTF-8 with a length; a list is a count and its items.
/// </summary>
internal static class SandboxFrames
{
    /// <summary>Sandbox → runtime: started and waiting for a command (payload: the protocol version).</summary>
    public const byte Ready = 1;

    /// <summary>Sandbox → runtime: bytes the command wrote to stdout.</summary>
    public const byte Stdout = 2;

    /// <summary>Sandbox → runtime: bytes the command wrote to stderr.</summary>
    public const byte Stderr = 3;

    /// <summary>Sandbox → runtime: the command ended (exit code, then how many processes it left running were killed).</summary>
    public const byte Exited = 4;

    /// <summary>Sandbox → runtime: the command could not be started (the error number, then the message).</summary>
    public const byte CannotStart = 5;

    /// <summary>Runtime → sandbox: run a command (program and arguments, environment, working directory).</summary>
    public const byte Run = 16;

    /// <summary>Runtime → sandbox: end the running command and all it started (a timeout, a cancellation).</summary>
    public const byte Stop = 17;

    /// <summary>What both sides speak; the sandbox says it when ready, and the runtime refuses another.</summary>
    public const string Version = "koalja-sandbox/1";

    /// <summary>Largest frame either side accepts (a command's environment may carry rendered content of up to 1 MiB per item).</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    public static async Task WriteAsync(Stream stream, byte kind, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        var header = new byte[5];
        header[0] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(1), payload.Length);
        await stream.WriteAsync(header, cancellationToken);
        await stream.WriteAsync(payload, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>The next frame, or null where the stream ended between frames.</summary>
    public static async Task<(byte Kind, byte[] Payload)?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var header = new byte[5];
        if (!await FillAsync(stream, header, cancellationToken))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(1));
        if (length is < 0 or > MaxPayload)
        {
            throw new InvalidDataException($"A sandbox frame of {length:N0} bytes is out of bounds (at most {MaxPayload:N0})");
        }

        var payload = new byte[length];
        return await FillAsync(stream, payload, cancellationToken) || length == 0
            ? (header[0], payload)
            : throw new InvalidDataException("The sandbox's stream ended inside a frame");
    }

    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    /// <summary>A <see cref="Run"/> payload.</summary>
    public static byte[] RunPayload(IReadOnlyList<string> arguments, IEnumerable<KeyValuePair<string, string>> environment, string workingDirectory)
    {
        using var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer, Encoding.UTF8);
        writer.Write(arguments.Count);
        foreach (var argument in arguments)
        {
            writer.Write(argument);
        }

        var variables = environment.ToList();
        writer.Write(variables.Count);
        foreach (var (name, value) in variables)
        {
            writer.Write(name);
            writer.Write(value);
        }

        writer.Write(workingDirectory);
        writer.Flush();
        return buffer.ToArray();
    }

    public static (IReadOnlyList<string> Arguments, IReadOnlyList<KeyValuePair<string, string>> Environment, string WorkingDirectory) ReadRun(byte[] payload)
    {
        using var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
        var arguments = new string[Count(reader)];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = reader.ReadString();
        }

        var environment = new KeyValuePair<string, string>[Count(reader)];
        for (var i = 0; i < environment.Length; i++)
        {
            environment[i] = new(reader.ReadString(), reader.ReadString());
        }

        return (arguments, environment, reader.ReadString());
    }

    public static byte[] ExitedPayload(int exitCode, int leftRunning)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(payload, exitCode);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), leftRunning);
        return payload;
    }

    public static (int ExitCode, int LeftRunning) ReadExited(byte[] payload) =>
        (BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt32LittleEndian(payload.AsSpan(4)));

    public static byte[] CannotStartPayload(int error, string message)
    {
        var text = Encoding.UTF8.GetBytes(message);
        var payload = new byte[4 + text.Length];
        BinaryPrimitives.WriteInt32LittleEndian(payload, error);
        text.CopyTo(payload, 4);
        return payload;
    }

    public static (int Error, string Message) ReadCannotStart(byte[] payload) =>
        (BinaryPrimitives.ReadInt32LittleEndian(payload), Encoding.UTF8.GetString(payload, 4, payload.Length - 4));

    private static int Count(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        return count is >= 0 and <= 1_000_000 ? count : throw new InvalidDataException($"A sandbox frame names {count:N0} items");
    }
}
