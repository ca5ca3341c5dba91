namespace Koalja.Core.Spec;

/// <summary>A reference to an input or output of a task, written <c>task/name</c>.</summary>
public readonly record struct TaskRef(string Task, string Name)
{
    public static bool TryParse(string? text, out TaskRef result)
    {
        result = default;
        var parts = (text ?? "").Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            return false;
        }

        result = new TaskRef(parts[0], parts[1]);
        return true;
    }

    public override string ToString() => $"{Task}/{Name}";
}
