namespace Koalja.Core.Policies;

/// <summary>A value that arrived on a task input.</summary>
/// <param name="ValueId">The annotated value's id.</param>
/// <param name="Input">The input it arrived on (for a merged input, that input, not the merge target).</param>
/// <param name="Arrival">Order of arrival at this task, starting at 0.</param>
public sealed record ArrivedValue(string ValueId, string Input, long Arrival);
