using Koalja.Core.Diagnostics;
using Koalja.Core.Source;
using Koalja.Core.Spec;

namespace Koalja.Core.Validation;

/// <summary>The rules for one task input: sequence lengths under the task's policy, type, mergeInto.</summary>
/// <param name="policy">The task's policy, or null when it is itself invalid (then policy rules are skipped).</param>
internal sealed class InputValidator(TaskSpec task, IReadOnlyList<string> typeNames, DiagnosticBag bag, SnapshotPolicy? policy)
{
    public void Validate(TaskInputSpec input, string path)
    {
        NameRules.Check(bag, SourceMap.Child(path, "name"), input.Name);
        TaskValidator.CheckTypeRef(input.TypeRef, SourceMap.Child(path, "typeRef"), typeNames, bag);
        if (CheckLengths(input, path))
        {
            CheckPolicy(input, path);
        }

        CheckSlide(input, path);
        if (input.IsMerged)
        {
            CheckMergeInto(input, path);
        }
    }

    /// <summary>Returns false when the lengths are broken, so the policy checks would only repeat the problem.</summary>
    private bool CheckLengths(TaskInputSpec input, string path)
    {
        var ok = true;
        if (input.RequiredSequenceLength is { } required)
        {
            if (required < 1)
            {
                bag.Error(DiagnosticCodes.MinSequenceLengthTooSmall, SourceMap.Child(path, "requiredSequenceLength"), "RequiredSequenceLength must be >= 1");
                return false;
            }

            foreach (var (field, value) in new[] { ("minSequenceLength", input.MinSequenceLength), ("maxSequenceLength", input.MaxSequenceLength) })
            {
                if (value is { } v && v != required)
                {
                    bag.Error(DiagnosticCodes.RequiredConflictsWithMinMax, SourceMap.Child(path, field),
                        $"{Capitalize(field)} {v} conflicts with RequiredSequenceLength {required}",
                        "requiredSequenceLength sets both the minimum and the maximum; remove one of them");
                    ok = false;
                }
            }
        }
        else if (input.MinLength < 1)
        {
            bag.Error(DiagnosticCodes.MinSequenceLengthTooSmall, SourceMap.Child(path, "minSequenceLength"), "MinSequenceLength must be >= 1");
            return false;
        }
        else if (input.MaxLength < input.MinLength)
        {
            bag.Error(DiagnosticCodes.MaxSmallerThanMin, SourceMap.Child(path, "maxSequenceLength"), "MaxSequenceLength must be >= MinSequenceLength",
                $"minSequenceLength is {input.MinLength}");
            return false;
        }

        if (input.MaxLength > TaskValidator.MaxSequenceLengthLimit)
        {
            var field = input.RequiredSequenceLength is not null ? "requiredSequenceLength" : input.MaxSequenceLength is not null ? "maxSequenceLength" : "minSequenceLength";
            bag.Error(DiagnosticCodes.SequenceLengthTooLarge, SourceMap.Child(path, field),
                $"{Capitalize(field)} must be <= {TaskValidator.MaxSequenceLengthLimit:N0}", "the maximum is also the input's buffer; values beyond it wait in the link");
            ok = false;
        }

        return ok;
    }

    private void CheckPolicy(TaskInputSpec input, string path)
    {
        if (input.IsMerged)
        {
            return; // a merged input's values join its target's sequence; its own lengths do not apply
        }

        switch (policy)
        {
            case SnapshotPolicy.SwapNew4Old when input.RequiredSequenceLength is { } required && required != 1:
                bag.Error(DiagnosticCodes.SwapNew4OldMinNotOne, SourceMap.Child(path, "requiredSequenceLength"),
                    "RequiredSequenceLength must be equal to 1", "SwapNew4Old takes exactly one value per input");
                break;
            case SnapshotPolicy.SwapNew4Old:
                if (input.MinLength != 1)
                {
                    bag.Error(DiagnosticCodes.SwapNew4OldMinNotOne, SourceMap.Child(path, "minSequenceLength"),
                        "MinSequenceLength must be equal to 1", "SwapNew4Old takes exactly one value per input");
                }

                if (input.MaxSequenceLength is { } max && max != 1)
                {
                    bag.Error(DiagnosticCodes.SwapNew4OldMaxNotOne, SourceMap.Child(path, "maxSequenceLength"),
                        "MaxSequenceLength must be equal to 1", "SwapNew4Old takes exactly one value per input");
                }

                break;
            case SnapshotPolicy.SlidingWindow when input.MaxLength != input.MinLength:
                bag.Error(DiagnosticCodes.SlidingWindowMaxNotMin, SourceMap.Child(path, "maxSequenceLength"),
                    "MaxSequenceLength must be equal to MinSequenceLength", "a sliding window has a fixed size; use requiredSequenceLength");
                break;
        }
    }

    private void CheckSlide(TaskInputSpec input, string path)
    {
        if (input.Slide is not { } slide)
        {
            return;
        }

        var slidePath = SourceMap.Child(path, "slide");
        if (slide < 1)
        {
            bag.Error(DiagnosticCodes.SlideTooSmall, slidePath, "Slide must be >= 1");
        }
        else if (slide > input.MinLength && input.MinLength >= 1)
        {
            bag.Error(DiagnosticCodes.SlideTooLarge, slidePath, "Slide must be <= MinSequenceLength",
                $"the window holds {input.MinLength} value(s); a larger slide would skip values");
        }

        if (policy is not null and not SnapshotPolicy.SlidingWindow)
        {
            bag.Warning(DiagnosticCodes.SlideWithoutSlidingWindow, slidePath, $"Slide has no effect under snapshot policy {policy}",
                "set snapshotPolicy: SlidingWindow on the task, or remove slide");
        }
    }

    private void CheckMergeInto(TaskInputSpec input, string path)
    {
        var mergePath = SourceMap.Child(path, "mergeInto");
        if (input.MergeInto == input.Name)
        {
            bag.Error(DiagnosticCodes.MergeIntoSelf, mergePath, $"MergeInto input '{input.MergeInto}' must not use the name of the same input");
            return;
        }

        var target = task.InputByName(input.MergeInto!);
        if (target is null)
        {
            bag.Error(DiagnosticCodes.MergeIntoNotFound, mergePath, $"MergeInto input '{input.MergeInto}' not found",
                Suggestions.DidYouMean(input.MergeInto!, task.Inputs.Where(i => i != input).Select(i => i.Name))
                ?? $"mergeInto names another input of task '{task.Name}'");
        }
        else if (target.IsMerged)
        {
            bag.Error(DiagnosticCodes.MergeIntoChain, mergePath, $"MergeInto refers to input '{target.Name}' that has also set MergeInto",
                target.MergeInto is { } final && final != input.Name ? $"merge into '{final}' directly" : "one of the two inputs must receive the merge");
        }
        else if (target.TypeRef != input.TypeRef)
        {
            bag.Error(DiagnosticCodes.MergeIntoOtherType, mergePath, $"MergeInto refers to input '{target.Name}' that has another type",
                $"'{input.Name}' is '{input.TypeRef}', '{target.Name}' is '{target.TypeRef}'");
        }
    }

    private static string Capitalize(string field) => char.ToUpperInvariant(field[0]) + field[1..];
}
