using Koalja.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Koalja.Core.Source;

/// <summary>
/// Reads YAML (one or more documents) into <see cref="SourceNode"/> trees, keeping positions.
/// Works on parser events so that aliases, depth and duplicate keys are under our control.
/// </summary>
public sealed class YamlSourceReader
{
    private readonly string _file;
    private readonly Parser _parser;
    private readonly List<Diagnostic> _diagnostics = [];
    private readonly Dictionary<string, SourceNode> _anchors = new(StringComparer.Ordinal);

    private YamlSourceReader(string text, string file)
    {
        _file = file;
        _parser = new Parser(new StringReader(text));
    }

    public static SourceReadResult Read(string text, string file) => new YamlSourceReader(text, file).ReadAll();

    private SourceReadResult ReadAll()
    {
        var documents = new List<SourceDocument>();
        try
        {
            _parser.Consume<StreamStart>();
            while (_parser.TryConsume<DocumentStart>(out _))
            {
                _anchors.Clear();
                var root = _parser.Accept<DocumentEnd>(out var end)
                    ? new ScalarNode(Position(end.Start), "", ScalarKind.Plain)
                    : ReadNode(depth: 0);
                if (root is null)
                {
                    return new SourceReadResult(documents, _diagnostics);
                }

                _parser.Consume<DocumentEnd>();

                documents.Add(new SourceDocument(documents.Count, root));
            }

            _parser.Consume<StreamEnd>();
        }
        catch (YamlException e)
        {
            _diagnostics.Add(Error(DiagnosticCodes.SyntaxError, e.Start, $"YAML syntax error: {CleanMessage(e)}"));
        }

        return new SourceReadResult(documents, _diagnostics);
    }

    private SourceNode? ReadNode(int depth)
    {
        if (depth > SourceLimits.MaxDepth)
        {
            _diagnostics.Add(Error(DiagnosticCodes.DocumentTooComplex, _parser.Current!.Start,
                $"nesting deeper than {SourceLimits.MaxDepth} levels"));
            return null;
        }

        var current = _parser.Current ?? throw new YamlException("unexpected end of input");
        switch (current)
        {
            case AnchorAlias alias:
                _parser.MoveNext();
                if (_anchors.TryGetValue(alias.Value.Value, out var target))
                {
                    return target;
                }

                _diagnostics.Add(Error(DiagnosticCodes.SyntaxError, alias.Start, $"YAML alias '*{alias.Value}' refers to no anchor"));
                return null;
            case Scalar scalar:
                _parser.MoveNext();
                var kind = scalar.Style == ScalarStyle.Plain && !IsStringTag(scalar.Tag) ? ScalarKind.Plain : ScalarKind.Quoted;
                return Remember(scalar.Anchor, new ScalarNode(Position(scalar.Start), scalar.Value, kind));
            case SequenceStart sequenceStart:
                return ReadSequence(sequenceStart, depth);
            case MappingStart mappingStart:
                return ReadMapping(mappingStart, depth);
            default:
                throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }
    }

    private SourceNode? ReadSequence(SequenceStart start, int depth)
    {
        _parser.MoveNext();
        var items = new List<SourceNode>();
        while (!_parser.TryConsume<SequenceEnd>(out _))
        {
            var item = ReadNode(depth + 1);
            if (item is null)
            {
                return null;
            }

            items.Add(item);
        }

        return Remember(start.Anchor, new SequenceNode(Position(start.Start), items));
    }

    private SourceNode? ReadMapping(MappingStart start, int depth)
    {
        _parser.MoveNext();
        var entries = new List<MappingEntry>();
        var seen = new Dictionary<string, ScalarNode>(StringComparer.Ordinal);
        while (!_parser.TryConsume<MappingEnd>(out _))
        {
            if (_parser.Current is not Scalar keyEvent)
            {
                _diagnostics.Add(Error(DiagnosticCodes.UnsupportedYamlFeature, _parser.Current!.Start,
                    "mapping keys must be plain strings (complex or aliased keys are not supported)"));
                return null;
            }

            _parser.MoveNext();
            var key = new ScalarNode(Position(keyEvent.Start), keyEvent.Value, ScalarKind.Quoted);
            if (key.Value == "<<" && keyEvent.Style == ScalarStyle.Plain)
            {
                _diagnostics.Add(Error(DiagnosticCodes.UnsupportedYamlFeature, keyEvent.Start,
                    "YAML merge keys ('<<') are not supported; write the fields out"));
                return null;
            }

            var value = ReadNode(depth + 1);
            if (value is null)
            {
                return null;
            }

            if (seen.TryGetValue(key.Value, out var first))
            {
                _diagnostics.Add(Error(DiagnosticCodes.DuplicateKey, keyEvent.Start,
                    $"duplicate key '{key.Value}' (first defined at line {first.Position.Line})"));
                continue;
            }

            seen.Add(key.Value, key);
            entries.Add(new MappingEntry(key, value));
        }

        return Remember(start.Anchor, new MappingNode(Position(start.Start), entries));
    }

    private SourceNode? Remember(AnchorName anchor, SourceNode node)
    {
        if (node.ExpandedSize > SourceLimits.MaxExpandedNodes)
        {
            _diagnostics.Add(new Diagnostic(DiagnosticCodes.DocumentTooComplex, Severity.Error,
                $"the document expands to more than {SourceLimits.MaxExpandedNodes:N0} nodes through YAML aliases",
                _file, node.Position, ""));
            return null;
        }

        if (!anchor.IsEmpty)
        {
            _anchors[anchor.Value] = node;
        }

        return node;
    }

    private static bool IsStringTag(TagName tag) => !tag.IsEmpty && tag.Value is "tag:yaml.org,2002:str" or "!!str";

    private static SourcePosition Position(Mark mark) => new((int)mark.Line, (int)mark.Column);

    private Diagnostic Error(string code, Mark mark, string message) =>
        new(code, Severity.Error, message, _file, Position(mark), "");

    private static string CleanMessage(YamlException e)
    {
        // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: ...): "; we print the position ourselves.
        var message = e.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 && message.StartsWith("(Line", StringComparison.Ordinal) ? message[(cut + 3)..] : message;
    }
}
