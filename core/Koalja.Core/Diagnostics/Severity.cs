namespace Koalja.Core.Diagnostics;

public enum Severity
{
    Note,
    Warning,
    Error,
}
