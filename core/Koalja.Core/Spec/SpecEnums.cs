namespace Koalja.Core.Spec;

/// <summary>Parsing of the spec's enumerations, exactly as spelled in the original (case-sensitive).</summary>
public static class SpecEnums
{
    public static readonly IReadOnlyList<string> SnapshotPolicies = Enum.GetNames<SnapshotPolicy>();
    public static readonly IReadOnlyList<string> LaunchPolicies = Enum.GetNames<LaunchPolicy>();
    public static readonly IReadOnlyList<string> OutputReadinesses = Enum.GetNames<OutputReadiness>();

    /// <summary>An empty policy is <see cref="SnapshotPolicy.AllNew"/>.</summary>
    public static bool TryParseSnapshotPolicy(string? text, out SnapshotPolicy policy) =>
        TryParse(text, SnapshotPolicy.AllNew, out policy);

    /// <summary>An empty policy has no fixed meaning (it depends on the task); this accepts only named policies.</summary>
    public static bool TryParseLaunchPolicy(string? text, out LaunchPolicy policy) =>
        TryParse(text, LaunchPolicy.Auto, out policy);

    /// <summary>An empty readiness is <see cref="OutputReadiness.Succeeded"/>.</summary>
    public static bool TryParseOutputReadiness(string? text, out OutputReadiness ready) =>
        TryParse(text, OutputReadiness.Succeeded, out ready);

    private static bool TryParse<T>(string? text, T empty, out T value)
        where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text))
        {
            value = empty;
            return true;
        }

        // Enum.TryParse accepts numbers and other casings; the spec does not.
        value = default;
        return Enum.GetNames<T>().Contains(text, StringComparer.Ordinal) && Enum.TryParse(text, out value);
    }
}
