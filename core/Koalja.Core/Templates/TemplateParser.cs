using System.Globalization;
using System.Text;

namespace Koalja.Core.Templates;

/// <summary>
/// Parses the subset of Go's text/template that Koalja pipelines use: text, <c>{{.a.b}}</c>,
/// <c>{{range X}}...{{else}}...{{end}}</c>, <c>{{if X}}...{{else}}...{{end}}</c>, parentheses,
/// string and number literals, the functions <c>index</c>, <c>readURI</c>, <c>readURIAsText</c> and
/// <c>len</c>, comments, and the <c>{{-</c> / <c>-}}</c> trim markers. Anything else (pipes, variables,
/// <c>with</c>, <c>define</c>, ...) is refused with its position, at load time.
/// </summary>
internal sealed class TemplateParser
{
    public static readonly IReadOnlyList<string> Functions = ["index", "readURI", "readURIAsText", "len"];

    private static readonly HashSet<string> UnsupportedKeywords = ["with", "define", "template", "block", "break", "continue", "nil"];

    private readonly string _text;
    private int _position;

    private TemplateParser(string text) => _text = text;

    public static IReadOnlyList<TemplateNode> Parse(string text)
    {
        var parser = new TemplateParser(text);
        var nodes = parser.ParseList(out var terminator, out var at);
        if (terminator is not null)
        {
            throw new TemplateException($"unexpected {{{{{terminator}}}}}", at, terminator == "end" ? "there is no range or if to end here" : null);
        }

        return nodes;
    }

    /// <summary>Parses until the end of the text, or an <c>else</c>/<c>end</c> action (returned in <paramref name="terminator"/>).</summary>
    private List<TemplateNode> ParseList(out string? terminator, out int terminatorOffset)
    {
        var nodes = new List<TemplateNode>();
        var text = new StringBuilder();
        var textStart = _position;
        terminator = null;
        terminatorOffset = -1;
        while (_position < _text.Length)
        {
            var open = _text.IndexOf("{{", _position, StringComparison.Ordinal);
            if (open < 0)
            {
                text.Append(_text, _position, _text.Length - _position);
                _position = _text.Length;
                break;
            }

            var trimLeft = open + 2 < _text.Length && _text[open + 2] == '-' && open + 3 < _text.Length && char.IsWhiteSpace(_text[open + 3]);
            text.Append(_text, _position, open - _position);
            if (trimLeft)
            {
                TrimEnd(text);
            }

            var close = _text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new TemplateException("unclosed action: '{{' without '}}'", open);
            }

            var trimRight = close - 1 > open + 2 && _text[close - 1] == '-' && char.IsWhiteSpace(_text[close - 2]);
            var innerStart = open + (trimLeft ? 3 : 2);
            var innerEnd = trimRight ? close - 1 : close;
            _position = close + 2;
            if (trimRight)
            {
                while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
                {
                    _position++;
                }
            }

            if (text.Length > 0)
            {
                nodes.Add(new TextNode(textStart, text.ToString()));
                text.Clear();
            }

            var action = ParseAction(innerStart, innerEnd);
            textStart = _position;
            switch (action)
            {
                case ("else" or "end") and var keyword:
                    terminator = keyword;
                    terminatorOffset = open;
                    return nodes;
                case TemplateNode node:
                    nodes.Add(node);
                    break;
            }
        }

        if (text.Length > 0)
        {
            nodes.Add(new TextNode(textStart, text.ToString()));
        }

        return nodes;
    }

    /// <summary>Returns a node, null for a comment, or the keyword "else"/"end".</summary>
    private object? ParseAction(int start, int end)
    {
        var lexer = new Lexer(_text, start, end);
        var first = lexer.Peek();
        if (first.Kind == TokenKind.End)
        {
            throw new TemplateException("empty action '{{}}'", start);
        }

        if (first.Kind == TokenKind.Comment)
        {
            lexer.Next();
            lexer.ExpectEnd();
            return null;
        }

        if (first.Kind == TokenKind.Identifier)
        {
            switch (first.Text)
            {
                case "end" or "else":
                    lexer.Next();
                    lexer.ExpectEnd();
                    return first.Text;
                case "range" or "if":
                    lexer.Next();
                    var subject = ParseCommand(lexer);
                    lexer.ExpectEnd();
                    var body = ParseList(out var terminator, out var at);
                    var otherwise = new List<TemplateNode>();
                    if (terminator == "else")
                    {
                        otherwise = ParseList(out terminator, out at);
                    }

                    if (terminator != "end")
                    {
                        throw new TemplateException($"{{{{{first.Text}}}}} without {{{{end}}}}", first.Offset, "close it with {{end}}");
                    }

                    _ = at;
                    return first.Text == "range"
                        ? new RangeNode(first.Offset, subject, body, otherwise)
                        : new IfNode(first.Offset, subject, body, otherwise);
                case var keyword when UnsupportedKeywords.Contains(keyword):
                    throw new TemplateException($"'{keyword}' is not supported in Koalja templates", first.Offset, SupportedHint);
            }
        }

        var expression = ParseCommand(lexer);
        lexer.ExpectEnd();
        return new PrintNode(first.Offset, expression);
    }

    internal const string SupportedHint =
        "Koalja supports fields (.inputs.X.path), range, if, parentheses, and the functions index, readURI, readURIAsText and len";

    private static Expr ParseCommand(Lexer lexer)
    {
        var head = lexer.Peek();
        if (head.Kind == TokenKind.Identifier)
        {
            lexer.Next();
            if (!Functions.Contains(head.Text))
            {
                throw new TemplateException($"unknown function '{head.Text}'", head.Offset,
                    Diagnostics.Suggestions.DidYouMean(head.Text, Functions) ?? SupportedHint);
            }

            var arguments = new List<Expr>();
            while (lexer.Peek().Kind is not (TokenKind.End or TokenKind.RightParen))
            {
                arguments.Add(ParseOperand(lexer));
            }

            return new CallExpr(head.Offset, head.Text, arguments);
        }

        var operand = ParseOperand(lexer);
        if (lexer.Peek().Kind is not (TokenKind.End or TokenKind.RightParen))
        {
            var extra = lexer.Peek();
            throw new TemplateException($"unexpected '{extra.Text}' after an operand", extra.Offset,
                "only a function call takes arguments; write (index .inputs \"x\") or .inputs.x.path");
        }

        return operand;
    }

    private static Expr ParseOperand(Lexer lexer)
    {
        var token = lexer.Next();
        switch (token.Kind)
        {
            case TokenKind.Field:
                return new FieldExpr(token.Offset, null, SplitFields(token.Text));
            case TokenKind.String:
                return new LiteralExpr(token.Offset, token.Text);
            case TokenKind.Number:
                return new LiteralExpr(token.Offset, long.Parse(token.Text, CultureInfo.InvariantCulture));
            case TokenKind.LeftParen:
                var inner = ParseCommand(lexer);
                var close = lexer.Next();
                if (close.Kind != TokenKind.RightParen)
                {
                    throw new TemplateException("missing ')'", close.Offset);
                }

                return lexer.Peek().Kind == TokenKind.Field && lexer.Peek().Text != "." && lexer.Peek().Offset == close.Offset + 1
                    ? new FieldExpr(token.Offset, inner, SplitFields(lexer.Next().Text))
                    : inner;
            case TokenKind.Identifier:
                throw new TemplateException($"function '{token.Text}' used as a value; put the call in parentheses: ({token.Text} ...)", token.Offset);
            case TokenKind.End:
                throw new TemplateException("missing operand", token.Offset);
            default:
                throw new TemplateException($"unexpected '{token.Text}'", token.Offset);
        }
    }

    private static string[] SplitFields(string text) => text == "." ? [] : text[1..].Split('.');

    private static void TrimEnd(StringBuilder text)
    {
        var length = text.Length;
        while (length > 0 && char.IsWhiteSpace(text[length - 1]))
        {
            length--;
        }

        text.Length = length;
    }
}
