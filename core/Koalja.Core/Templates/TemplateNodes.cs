namespace Koalja.Core.Templates;

/// <summary>A node of a parsed template. <c>Offset</c> is the character offset in the template text.</summary>
internal abstract record TemplateNode(int Offset);

internal sealed record TextNode(int Offset, string Text) : TemplateNode(Offset);

/// <summary><c>{{ expression }}</c>: prints the expression's value.</summary>
internal sealed record PrintNode(int Offset, Expr Expression) : TemplateNode(Offset);

/// <summary><c>{{range X}} body {{else}} empty {{end}}</c>.</summary>
internal sealed record RangeNode(int Offset, Expr Over, IReadOnlyList<TemplateNode> Body, IReadOnlyList<TemplateNode> Else) : TemplateNode(Offset);

/// <summary><c>{{if X}} then {{else}} otherwise {{end}}</c>.</summary>
internal sealed record IfNode(int Offset, Expr Condition, IReadOnlyList<TemplateNode> Then, IReadOnlyList<TemplateNode> Else) : TemplateNode(Offset);

internal abstract record Expr(int Offset);

/// <summary><c>.a.b.c</c> from the current value (dot), or from a base expression: <c>(index .x 0).Name</c>.</summary>
internal sealed record FieldExpr(int Offset, Expr? Base, IReadOnlyList<string> Fields) : Expr(Offset)
{
    public string Text => (Base is null ? "" : "(...)") + (Fields.Count == 0 ? "." : "." + string.Join(".", Fields));
}

internal sealed record LiteralExpr(int Offset, object Value) : Expr(Offset);

/// <summary>A function call: <c>index X key...</c>, <c>readURI X</c>, <c>readURIAsText X</c>, <c>len X</c>.</summary>
internal sealed record CallExpr(int Offset, string Function, IReadOnlyList<Expr> Arguments) : Expr(Offset);
