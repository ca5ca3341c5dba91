namespace Koalja.Storage;

/// <summary>
/// Tells a failure for want of disk space or quota (ENOSPC, EDQUOT; on Windows ERROR_DISK_FULL) from others: not the
/// data's or the code's fault, and mended once space is freed, so what failed is kept and tried again, never given up.
/// </summary>
public static class OutOfSpace
{
    /// <summary>What the C library says, as commands print it on their standard error.</summary>
    private static readonly string[] Messages = ["No space left on device", "Disk quota exceeded"];

    /// <summary>Whether <paramref name="error"/>, or an exception inside it, is a file system out of space or quota.</summary>
    public static bool Is(Exception? error) => Find(error, static e => e is IOException io && IsCode(io.HResult));

    /// <summary>Whether <paramref name="error"/>, or an exception inside it, satisfies <paramref name="test"/> (for a backend's own error codes).</summary>
    public static bool Find(Exception? error, Func<Exception, bool> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        for (var depth = 0; error is not null && depth < 16; depth++)
        {
            if (test(error))
            {
                return true;
            }

            if (error is AggregateException { InnerExceptions: var inner } && inner.Any(e => Find(e, test)))
            {
                return true;
            }

            error = error.InnerException;
        }

        return false;
    }

    /// <summary>Whether a command's standard error says it ran out of space (the text the C library prints for ENOSPC and EDQUOT).</summary>
    public static bool IsMentionedIn(string? stderr) =>
        stderr is not null && Messages.Any(m => stderr.Contains(m, StringComparison.Ordinal));

    // ENOSPC 28 and EDQUOT 122 (Linux; .NET carries the errno as the HResult), ERROR_HANDLE_DISK_FULL and ERROR_DISK_FULL (Windows).
    private static bool IsCode(int hresult) => hresult is 28 or 122 or unchecked((int)0x80070027) or unchecked((int)0x80070070);
}
