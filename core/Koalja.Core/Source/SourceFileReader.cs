using System.Text;
using Koalja.Core.Diagnostics;

namespace Koalja.Core.Source;

/// <summary>
/// Turns the bytes of a pipeline file into documents: checks size and encoding, then reads YAML or JSON.
/// Never throws for bad content; every problem comes back as a diagnostic.
/// </summary>
public static class SourceFileReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static SourceReadResult ReadFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (Directory.Exists(path))
            {
                return Fail(path, DiagnosticCodes.FileUnreadable, "is a directory, not a pipeline file");
            }

            if (!info.Exists)
            {
                return Fail(path, DiagnosticCodes.FileUnreadable, "no such file");
            }

            if (info.Length > SourceLimits.MaxFileBytes)
            {
                return TooLarge(path, info.Length);
            }

            return ReadBytes(File.ReadAllBytes(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(path, DiagnosticCodes.FileUnreadable, $"cannot read the file: {e.Message}");
        }
    }

    public static SourceReadResult ReadBytes(ReadOnlySpan<byte> bytes, string file)
    {
        if (bytes.Length > SourceLimits.MaxFileBytes)
        {
            return TooLarge(file, bytes.Length);
        }

        if (!TryDecode(bytes, out var text, out var badOffset))
        {
            return Fail(file, DiagnosticCodes.NotText,
                $"the file is not UTF-8 text (binary data at byte {badOffset}); a pipeline file is YAML or JSON");
        }

        return ReadText(text, file);
    }

    public static SourceReadResult ReadText(string text, string file)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Fail(file, DiagnosticCodes.EmptyFile, "the file is empty; expected a Pipeline document (apiVersion: koalja.aljabr.io/v1alpha1, kind: Pipeline)");
        }

        var trimmed = text.AsSpan().TrimStart();
        var looksLikeJson = file.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            || trimmed[0] is '{' or '[';
        if (!looksLikeJson)
        {
            return YamlSourceReader.Read(text, file);
        }

        var json = JsonSourceReader.Read(text, file);
        if (json.Diagnostics.Count == 0 || file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return json;
        }

        // A YAML file may start with a flow mapping; only if it is not YAML either do we report the JSON error.
        var yaml = YamlSourceReader.Read(text, file);
        return yaml.Diagnostics.Count == 0 ? yaml : json;
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text, out int badOffset)
    {
        text = "";
        badOffset = 0;
        try
        {
            if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            {
                // UTF-16 with a byte-order mark, as Windows PowerShell writes it.
                var encoding = bytes[0] == 0xFF ? new UnicodeEncoding(false, true, true) : new UnicodeEncoding(true, true, true);
                text = encoding.GetString(bytes[2..]);
            }
            else
            {
                text = StrictUtf8.GetString(bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes);
            }
        }
        catch (DecoderFallbackException e)
        {
            badOffset = Math.Max(0, e.Index);
            return false;
        }

        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            badOffset = nul;
            return false;
        }

        return true;
    }

    private static SourceReadResult TooLarge(string file, long length) =>
        Fail(file, DiagnosticCodes.FileTooLarge,
            $"the file is {length / (1024.0 * 1024.0):0.0} MiB; pipeline files are limited to {SourceLimits.MaxFileBytes / (1024 * 1024)} MiB");

    private static SourceReadResult Fail(string file, string code, string message) =>
        SourceReadResult.Failed(new Diagnostic(code, Severity.Error, message, file, SourcePosition.Start, ""));
}
