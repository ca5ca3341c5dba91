using System.Text;
using System.Text.Json;
using Koalja.Core.Diagnostics;

namespace Koalja.Core.Source;

/// <summary>
/// Reads JSON into <see cref="SourceNode"/> trees, keeping line and column of every value.
/// A file may hold one value, several concatenated values, or a top-level array of documents.
/// </summary>
internal sealed class JsonSourceReader
{
    private readonly byte[] _utf8;
    private readonly string _file;
    private readonly List<int> _lineStarts = [0];

    private JsonSourceReader(string text, string file)
    {
        _utf8 = Encoding.UTF8.GetBytes(text);
        _file = file;
        for (var i = 0; i < _utf8.Length; i++)
        {
            if (_utf8[i] == (byte)'\n')
            {
                _lineStarts.Add(i + 1);
            }
        }
    }

    public static SourceReadResult Read(string text, string file) => new JsonSourceReader(text, file).ReadAll();

    private SourceReadResult ReadAll()
    {
        var documents = new List<SourceDocument>();
        var reader = new Utf8JsonReader(_utf8, new JsonReaderOptions
        {
            AllowMultipleValues = true,
            AllowTrailingCommas = true,
            CommentHandling = JsonCommentHandling.Skip,
            MaxDepth = SourceLimits.MaxDepth,
        });
        try
        {
            while (reader.Read())
            {
                var value = ReadValue(ref reader);
                if (value is SequenceNode array && documents.Count == 0 && IsLastValue(reader))
                {
                    documents.AddRange(array.Items.Select((item, i) => new SourceDocument(i, item)));
                }
                else
                {
                    documents.Add(new SourceDocument(documents.Count, value));
                }
            }
        }
        catch (JsonException e)
        {
            var position = new SourcePosition((int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
            return new SourceReadResult(documents, [new Diagnostic(DiagnosticCodes.SyntaxError, Severity.Error,
                $"JSON syntax error: {CleanMessage(e.Message)}", _file, position, "")]);
        }

        return new SourceReadResult(documents, []);
    }

    private static bool IsLastValue(Utf8JsonReader reader) => !reader.Read();

    private SourceNode ReadValue(ref Utf8JsonReader reader)
    {
        var position = PositionOf(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var entries = new List<MappingEntry>();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = new ScalarNode(PositionOf(reader.TokenStartIndex), reader.GetString()!, ScalarKind.Quoted);
                    reader.Read();
                    var value = ReadValue(ref reader);
                    if (!seen.Add(key.Value))
                    {
                        throw new JsonException($"duplicate key '{key.Value}'", null, key.Position.Line - 1, key.Position.Column - 1);
                    }

                    entries.Add(new MappingEntry(key, value));
                }

                return new MappingNode(position, entries);
            case JsonTokenType.StartArray:
                var items = new List<SourceNode>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader));
                }

                return new SequenceNode(position, items);
            case JsonTokenType.String:
                return new ScalarNode(position, reader.GetString()!, ScalarKind.Quoted);
            case JsonTokenType.Null:
                return new ScalarNode(position, "null", ScalarKind.Plain);
            default:
                // Numbers and booleans keep their literal spelling.
                return new ScalarNode(position, Encoding.UTF8.GetString(reader.ValueSpan), ScalarKind.Plain);
        }
    }

    private SourcePosition PositionOf(long byteIndex)
    {
        var line = _lineStarts.BinarySearch((int)byteIndex);
        if (line < 0)
        {
            line = ~line - 1;
        }

        var column = 1;
        for (var i = _lineStarts[line]; i < byteIndex; i++)
        {
            if ((_utf8[i] & 0xC0) != 0x80)
            {
                column++;
            }
        }

        return new SourcePosition(line + 1, column);
    }

    private static string CleanMessage(string message)
    {
        // System.Text.Json appends " LineNumber: 2 | BytePositionInLine: 4."; we print the position ourselves.
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }
}
