using System.Text;

namespace Koalja.Core.Templates;

internal enum TokenKind
{
    End,
    Field,
    Identifier,
    String,
    Number,
    LeftParen,
    RightParen,
    Comment,
}

internal readonly record struct Token(TokenKind Kind, string Text, int Offset);

/// <summary>Splits the inside of one <c>{{ }}</c> action into tokens; offsets are into the whole template.</summary>
internal sealed class Lexer(string text, int start, int end)
{
    private int _position = start;
    private Token? _peeked;

    public Token Peek() => _peeked ??= Read();

    public Token Next()
    {
        var token = Peek();
        _peeked = null;
        return token;
    }

    public void ExpectEnd()
    {
        var token = Peek();
        if (token.Kind != TokenKind.End)
        {
            throw new TemplateException($"unexpected '{token.Text}'", token.Offset);
        }
    }

    private Token Read()
    {
        while (_position < end && char.IsWhiteSpace(text[_position]))
        {
            _position++;
        }

        if (_position >= end)
        {
            return new Token(TokenKind.End, "", end);
        }

        var at = _position;
        var c = text[_position];
        switch (c)
        {
            case '(':
                _position++;
                return new Token(TokenKind.LeftParen, "(", at);
            case ')':
                _position++;
                return new Token(TokenKind.RightParen, ")", at);
            case '.':
                _position++;
                while (_position < end && (IsIdentifierChar(text[_position]) || (text[_position] == '.' && _position + 1 < end && IsIdentifierChar(text[_position + 1]))))
                {
                    _position++;
                }

                return new Token(TokenKind.Field, text[at.._position], at);
            case '"':
                return ReadString(at);
            case '`':
                var close = text.IndexOf('`', _position + 1);
                if (close < 0 || close >= end)
                {
                    throw new TemplateException("unterminated raw string", at);
                }

                _position = close + 1;
                return new Token(TokenKind.String, text[(at + 1)..close], at);
            case '/' when _position + 1 < end && text[_position + 1] == '*':
                var commentEnd = text.IndexOf("*/", _position + 2, StringComparison.Ordinal);
                if (commentEnd < 0 || commentEnd + 2 > end)
                {
                    throw new TemplateException("unterminated comment", at);
                }

                _position = commentEnd + 2;
                return new Token(TokenKind.Comment, "", at);
            case '|':
                throw new TemplateException("pipes ('|') are not supported in Koalja templates", at, TemplateParser.SupportedHint);
            case '$':
                throw new TemplateException("variables ('$') are not supported in Koalja templates", at, TemplateParser.SupportedHint);
            case '-' or '+' when _position + 1 < end && char.IsAsciiDigit(text[_position + 1]):
            case var d when char.IsAsciiDigit(d):
                _position++;
                while (_position < end && char.IsAsciiDigit(text[_position]))
                {
                    _position++;
                }

                return new Token(TokenKind.Number, text[at.._position], at);
            case var l when char.IsLetter(l) || l == '_':
                while (_position < end && IsIdentifierChar(text[_position]))
                {
                    _position++;
                }

                return new Token(TokenKind.Identifier, text[at.._position], at);
            default:
                throw new TemplateException($"unexpected character '{c}'", at, TemplateParser.SupportedHint);
        }
    }

    private Token ReadString(int at)
    {
        var value = new StringBuilder();
        _position++;
        while (_position < end && text[_position] != '"')
        {
            if (text[_position] == '\\' && _position + 1 < end)
            {
                _position++;
                value.Append(text[_position] switch { 'n' => '\n', 't' => '\t', var other => other });
            }
            else
            {
                value.Append(text[_position]);
            }

            _position++;
        }

        if (_position >= end)
        {
            throw new TemplateException("unterminated string", at);
        }

        _position++;
        return new Token(TokenKind.String, value.ToString(), at);
    }

    private static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-';
}
